#include "control/session.hpp"

#include <boost/asio/write.hpp>
#include <chrono>
#include <cstring>
#include <new>

#include "control/reply.hpp"

namespace otpd::control {
namespace {

// How long a dropped subscriber's socket may take to accept its final notice.
constexpr std::chrono::seconds kDropGrace{1};
// Capacity kept by idle buffers; more is returned after a large reply.
constexpr std::size_t kKeptCapacity = 256 * 1024;

void trim_capacity(std::string& buffer) {
  if (buffer.capacity() > kKeptCapacity) {
    std::string().swap(buffer);
    buffer.reserve(4096);
  }
}

std::string describe(const Peer& peer) {
  return "uid " + std::to_string(peer.uid) + ", pid " + std::to_string(peer.pid);
}

}  // namespace

Session::Session(std::shared_ptr<SessionShared> shared, Socket socket, Access access, Peer peer)
    : shared_(std::move(shared)),
      socket_(std::move(socket)),
      access_(access),
      peer_(std::move(peer)) {
  shared_->sessions.insert(this);
}

Session::~Session() {
  if (!shared_->closed) {
    shared_->sessions.erase(this);
    stop_following();
  }
}

void Session::stop_following() {
  if (stream_id_) shared_->events.unsubscribe(*this);
  if (logs_id_ && shared_->commands.outputs() != nullptr) {
    shared_->commands.outputs()->unfollow(logs_path_, *this);
  }
  stream_id_.reset();
  logs_id_.reset();
}

void Session::start() {
  read_more();
}

void Session::close() {
  if (closed_) return;
  closed_ = true;
  if (!shared_->closed) stop_following();
  stream_id_.reset();
  logs_id_.reset();
  boost::system::error_code ignored;
  socket_.close(ignored);
  if (drop_deadline_) drop_deadline_->cancel();
}

bool Session::may_continue() const {
  return !closed_ && !closing_ && !waiting_ && queued() < kMaxQueued;
}

void Session::read_more() {
  if (reading_ || eof_ || !may_continue()) return;
  if (in_begin_ == in_end_) in_begin_ = in_end_ = 0;
  if (in_end_ == in_.size()) {
    // Everything left is the start of one line: move it aside to make room.
    partial_.append(in_.data() + in_begin_, in_end_ - in_begin_);
    in_begin_ = in_end_ = 0;
  }
  reading_ = true;
  socket_.async_read_some(
      boost::asio::buffer(in_.data() + in_end_, in_.size() - in_end_),
      [self = shared_from_this()](const boost::system::error_code& error, std::size_t bytes) {
        self->on_read(error, bytes);
      });
}

void Session::on_read(const boost::system::error_code& error, std::size_t bytes) {
  reading_ = false;
  if (closed_) return;
  if (error == boost::asio::error::eof && !following()) {
    // The client has said all it will say (perhaps only half-closing):
    // answer what arrived complete, then end. A last line without its
    // newline is not a request.
    eof_ = true;
    process_input();
    return;
  }
  if (error) {
    // A hangup, even mid-line or mid-stream: anything still running for
    // this client finishes without it.
    close();
    return;
  }
  in_end_ += bytes;
  process_input();
}

void Session::close_when_answered() {
  const bool unanswered = waiting_ || writing_ || !out_.empty();
  const bool unread = std::memchr(in_.data() + in_begin_, '\n', in_end_ - in_begin_) != nullptr;
  if (eof_ && !unanswered && !unread) close();
}

void Session::process_input() {
  while (may_continue() && in_begin_ < in_end_) {
    const char* begin = in_.data() + in_begin_;
    const std::size_t available = in_end_ - in_begin_;
    const auto* newline = static_cast<const char*>(std::memchr(begin, '\n', available));
    const std::size_t length = newline ? static_cast<std::size_t>(newline - begin) : available;

    if (discarding_) {
      in_begin_ += newline ? length + 1 : length;
      if (newline) discarding_ = false;
      continue;
    }
    if (partial_.size() + length > kMaxRequestBytes) {
      in_begin_ += newline ? length + 1 : length;
      partial_.clear();
      trim_capacity(partial_);
      append_error(out_, "null", ErrorCode::too_large,
                   "the request is larger than 1 MiB; the rest of the line was ignored");
      discarding_ = newline == nullptr;
      continue;
    }
    if (!newline) {
      // Keep the partial line in in_ while there is room to read more.
      if (in_begin_ > 0 && in_end_ == in_.size()) {
        partial_.append(begin, length);
        in_begin_ = in_end_ = 0;
      }
      break;
    }
    in_begin_ += length + 1;
    if (partial_.empty()) {
      handle_line(std::string_view(begin, length));
    } else {
      partial_.append(begin, length);
      handle_line(partial_);
      partial_.clear();
      trim_capacity(partial_);
    }
  }
  flush();
  read_more();
  close_when_answered();
}

void Session::handle_line(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.find_first_not_of(" \t") == std::string_view::npos) return;
  if (!parse_request(line, request_, error_, access_ != Access::full)) {
    if (error_.code == ErrorCode::forbidden &&
        shared_->refusals.admit(Refusal::request, peer_.uid)) {
      shared_->log.warning("control: refused '" + std::string(protocol::name_of(request_.cmd)) +
                           "' from " + describe(peer_) + ": read-only access");
    }
    append_error(out_, error_.id, error_.code, error_.message);
    return;
  }
  try {
    handle_request();
  } catch (const std::exception& error) {
    // Out of memory, or a defect: this request fails, otpd and every other
    // client go on. An operation that threw has not taken the session.
    waiting_ = false;
    const std::string what =
        dynamic_cast<const std::bad_alloc*>(&error) ? "out of memory" : error.what();
    shared_->log.error("control: '" + std::string(protocol::name_of(request_.cmd)) + "' from " +
                       describe(peer_) + " failed: " + what);
    append_error(out_, request_.id, ErrorCode::failed, "otpd could not do this: " + what);
  }
}

void Session::handle_request() {
  const Command cmd = request_.cmd;
  if (!shared_->commands.resolve_path(request_, out_)) return;
  const bool starts_stream = (cmd == Command::events || cmd == Command::logs) && request_.follow;
  if (starts_stream && following()) {
    append_error(out_, request_.id, ErrorCode::invalid_request,
                 stream_id_ ? "this connection already follows events"
                            : "this connection already follows a child's output");
    return;
  }
  if (Commands::answers_later(cmd)) {
    waiting_ = true;
    // The operation holds the session: nothing else may while it runs.
    shared_->commands.answer_later(request_, [self = shared_from_this()](std::string line) {
      if (self->closed_) return;
      self->waiting_ = false;
      self->out_ += line;
      self->process_input();
    });
    return;
  }
  shared_->commands.answer(request_, out_);
  if (cmd == Command::events && request_.follow) {
    stream_id_ = request_.id;
    shared_->events.subscribe(*this);
  }
  if (cmd == Command::logs && request_.follow && shared_->commands.follows_logs(request_)) {
    logs_id_ = request_.id;
    logs_path_ = request_.path;
    switch (request_.streams) {
      case ClientRequest::Streams::out:
        logs_filter_ = output::StreamFilter::out;
        break;
      case ClientRequest::Streams::err:
        logs_filter_ = output::StreamFilter::err;
        break;
      case ClientRequest::Streams::both:
        logs_filter_ = output::StreamFilter::both;
        break;
    }
    shared_->commands.outputs()->follow(logs_path_, *this);
  }
}

void Session::on_line(const output::OutputLine& line, std::string_view json) {
  if (closed_ || closing_ || !logs_id_ || !output::accepts(logs_filter_, line.stream)) return;
  if (queued() >= kMaxQueued) {
    drop_slow_subscriber();
    return;
  }
  append_line(out_, *logs_id_, json);
  flush();
}

void Session::on_event(std::string_view event) {
  if (closed_ || closing_ || !stream_id_) return;
  if (queued() >= kMaxQueued) {
    drop_slow_subscriber();
    return;
  }
  append_event(out_, *stream_id_, event);
  flush();
}

// otpd never waits for a client: the backlog is thrown away, the client is
// told why if its socket still takes a line, and the connection ends.
void Session::drop_slow_subscriber() {
  if (shared_->refusals.admit(Refusal::slow_subscriber, peer_.uid)) {
    shared_->log.warning(std::string("control: dropped ") +
                         (stream_id_ ? "an event subscriber" : "a follower of " + logs_path_) +
                         " that fell " + std::to_string(queued()) + " bytes behind (" +
                         describe(peer_) + ")");
  }
  const std::string id = stream_id_ ? *stream_id_ : *logs_id_;
  stop_following();
  out_.clear();
  trim_capacity(out_);
  append_error(out_, id, ErrorCode::failed, "subscriber too slow: dropped");
  closing_ = true;
  drop_deadline_ = std::make_unique<boost::asio::steady_timer>(socket_.get_executor(), kDropGrace);
  drop_deadline_->async_wait([weak = weak_from_this()](const boost::system::error_code& error) {
    const auto self = weak.lock();
    if (!error && self) self->close();
  });
  flush();
}

void Session::flush() {
  if (writing_ || out_.empty() || closed_) return;
  sending_.swap(out_);
  writing_ = true;
  boost::asio::async_write(socket_, boost::asio::buffer(sending_),
                           [self = shared_from_this()](const boost::system::error_code& error,
                                                       std::size_t) { self->on_written(error); });
}

void Session::on_written(const boost::system::error_code& error) {
  writing_ = false;
  sending_.clear();
  trim_capacity(sending_);
  if (closed_) return;
  if (error) {
    close();
    return;
  }
  if (!out_.empty()) {
    flush();
    return;
  }
  trim_capacity(out_);
  if (closing_) {
    close();
    return;
  }
  close_when_answered();
  // Output drained: requests that waited for room go on.
  process_input();
}

}  // namespace otpd::control
