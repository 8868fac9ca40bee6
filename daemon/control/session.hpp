// One control connection: reads request lines (at most 1 MiB each), answers
// them in order, and streams events when asked. Internal to the server; it
// includes Asio, so only control's own sources include it.
#pragma once

#include <array>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "control/commands.hpp"
#include "control/event_hub.hpp"
#include "control/peer_access.hpp"
#include "control/refusal_log.hpp"
#include "control/request.hpp"
#include "log/event_log.hpp"

namespace otpd::control {

class Session;

// What every session of one server shares. Sessions hold it by shared_ptr:
// the last of them may be destroyed after the server, with the io_context.
struct SessionShared {
  Commands& commands;
  EventHub& events;
  log::EventLog& log;
  RefusalLog& refusals;
  std::unordered_set<Session*> sessions;
  bool closed = false;  // the server has gone; commands, events and log with it
};

class Session final : public std::enable_shared_from_this<Session>,
                      public EventSubscriber,
                      public output::LineFollower {
 public:
  using Socket = boost::asio::local::stream_protocol::socket;

  // Unsent output beyond which a reader that does not keep up is paused
  // (requests) or dropped (event stream).
  static constexpr std::size_t kMaxQueued = std::size_t{1} << 20;

  Session(std::shared_ptr<SessionShared> shared, Socket socket, Access access, Peer peer);
  ~Session() override;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void start();
  // Ends the connection at once, without touching the shared services again.
  void close();

  void on_event(std::string_view event) override;
  void on_line(const output::OutputLine& line, std::string_view json) override;

 private:
  void read_more();
  void on_read(const boost::system::error_code& error, std::size_t bytes);
  // Answers the complete lines received so far, until one must wait.
  void process_input();
  void handle_line(std::string_view line);
  void handle_request();
  void close_when_answered();
  bool may_continue() const;
  void flush();
  void on_written(const boost::system::error_code& error);
  void drop_slow_subscriber();
  void stop_following();
  bool following() const { return stream_id_.has_value() || logs_id_.has_value(); }
  std::size_t queued() const { return out_.size() + sending_.size(); }

  std::shared_ptr<SessionShared> shared_;
  Socket socket_;
  Access access_;
  Peer peer_;

  std::array<char, 4096> in_;  // small: a thousand idle clients cost little
  std::size_t in_begin_ = 0;   // unprocessed input is in_[in_begin_, in_end_)
  std::size_t in_end_ = 0;
  std::string partial_;      // the start of a line that spans reads
  bool discarding_ = false;  // skipping the rest of an oversized line
  bool reading_ = false;
  bool waiting_ = false;  // a start/stop/restart has yet to answer
  bool eof_ = false;

  ClientRequest request_;
  RequestError error_;

  std::string out_;      // replies not yet handed to the socket
  std::string sending_;  // the batch being written
  bool writing_ = false;

  std::optional<std::string> stream_id_;  // set while following events
  std::optional<std::string> logs_id_;    // set while following a child's output
  std::string logs_path_;
  output::StreamFilter logs_filter_ = output::StreamFilter::both;
  bool closing_ = false;  // close once the output is written
  bool closed_ = false;
  std::unique_ptr<boost::asio::steady_timer> drop_deadline_;
};

}  // namespace otpd::control
