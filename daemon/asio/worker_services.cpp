#include "asio/worker_services.hpp"

#include <fcntl.h>
#include <signal.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <memory>

#include "asio/path_watch.hpp"
#include "config/signals.hpp"
#include "supervise/tree.hpp"

namespace otpd::on_asio {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using workers::ProbeResult;

// One GET on the loop: connect, send, read the status line; the timer
// closes the socket when time runs out, which ends whatever is pending.
class HttpProbe : public std::enable_shared_from_this<HttpProbe> {
 public:
  HttpProbe(asio::io_context& io, std::function<void(ProbeResult)> done)
      : socket_(io), timer_(io), done_(std::move(done)) {}

  void start(const std::string& host, int port, const std::string& target,
             supervise::Duration timeout) {
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(host, ec);
    if (ec) return finish({false, "bad address " + host});
    const tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
    socket_.open(endpoint.protocol(), ec);
    if (ec) return finish({false, "cannot open a socket: " + ec.message()});
    // Asio's sockets are not close-on-exec; children must not inherit it.
    ::fcntl(socket_.native_handle(), F_SETFD, FD_CLOEXEC);
    const bool v6 = host.find(':') != std::string::npos;
    request_ = "GET " + target + " HTTP/1.0\r\nHost: " + (v6 ? "[" + host + "]" : host) + ":" +
               std::to_string(port) +
               "\r\nUser-Agent: otpd-health-check\r\nConnection: close\r\n\r\n";
    timer_.expires_after(timeout);
    timer_.async_wait([self = shared_from_this(), timeout](const boost::system::error_code& e) {
      if (!e) self->finish({false, "no answer within " + config::format_duration(timeout)});
    });
    socket_.async_connect(endpoint,
                          [self = shared_from_this()](const boost::system::error_code& e) {
                            if (e) return self->finish({false, e.message()});
                            self->send();
                          });
  }

 private:
  void send() {
    asio::async_write(socket_, asio::buffer(request_),
                      [self = shared_from_this()](const boost::system::error_code& e, std::size_t) {
                        if (e) return self->finish({false, e.message()});
                        self->read_status();
                      });
  }

  void read_status() {
    asio::async_read_until(
        socket_, asio::dynamic_buffer(response_, 4096), "\r\n",
        [self = shared_from_this()](const boost::system::error_code& e, std::size_t) {
          if (e) return self->finish({false, "no status line: " + e.message()});
          self->judge();
        });
  }

  // "HTTP/1.1 204 No Content": 2xx and 3xx are healthy.
  void judge() {
    const std::string line = response_.substr(0, response_.find("\r\n"));
    const auto space = line.find(' ');
    if (line.rfind("HTTP/", 0) != 0 || space == std::string::npos || line.size() < space + 4) {
      return finish({false, "not an HTTP answer"});
    }
    const std::string code = line.substr(space + 1, 3);
    const bool healthy = code[0] == '2' || code[0] == '3';
    finish({healthy, "status " + code});
  }

  void finish(ProbeResult result) {
    if (!done_) return;
    timer_.cancel();
    boost::system::error_code ignored;
    socket_.close(ignored);
    std::exchange(done_, nullptr)(std::move(result));
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  std::function<void(ProbeResult)> done_;
  std::string request_;
  std::string response_;
};

}  // namespace

// A command on its way: the timer kills it when it runs too long.
struct WorkerServices::RunningCommand {
  int pid = 0;
  supervise::TimePoint started_at{};
  bool timed_out = false;
  bool killed = false;
  std::unique_ptr<supervise::TimerHandle> timer;
};

WorkerServices::WorkerServices(asio::io_context& io, supervise::Host& host,
                               supervise::ProcessControl& processes, supervise::EventSink& events)
    : io_(io), host_(host), processes_(processes), events_(events) {}

WorkerServices::~WorkerServices() {
  for (auto& [id, watch] : watches_) watch->stop();
}

workers::CommandId WorkerServices::start_command(
    const std::string& path, const config::ProcessSpec& spec,
    std::optional<supervise::Duration> timeout, std::function<void(int pid)> started,
    std::function<void(workers::CommandOutcome)> ended) {
  const workers::CommandId id = next_command_++;
  host_.post([this, id, path, spec, timeout, started = std::move(started),
              ended = std::move(ended)]() mutable {
    auto running = std::make_shared<RunningCommand>();
    running->started_at = host_.now();
    const supervise::SpawnResult spawned =
        processes_.spawn(path, spec, [this, id, running, ended](supervise::ExitStatus status) {
          running->timer.reset();
          commands_.erase(id);
          ended({.pid = running->pid,
                 .status = status,
                 .timed_out = running->timed_out,
                 .killed = running->killed,
                 .ran_for = std::chrono::duration_cast<supervise::Duration>(host_.now() -
                                                                            running->started_at)});
        });
    if (spawned.failure) {
      ended({.error = *spawned.failure});
      return;
    }
    running->pid = spawned.pid;
    commands_[id] = running;
    if (timeout) {
      running->timer = host_.start_timer(*timeout, [this, weak = std::weak_ptr(running)] {
        if (auto r = weak.lock()) {
          r->timed_out = true;
          processes_.signal_group(r->pid, SIGKILL);
        }
      });
    }
    if (started) started(spawned.pid);
  });
  return id;
}

void WorkerServices::kill_command(workers::CommandId id) {
  host_.post([this, id] {
    const auto found = commands_.find(id);
    if (found == commands_.end()) return;  // ended already, or never started
    found->second->killed = true;
    processes_.signal_group(found->second->pid, SIGKILL);
  });
}

void WorkerServices::connect(const std::string& host, int port, supervise::Duration timeout,
                             std::function<void(ProbeResult)> done) {
  host_.post([this, host, port, timeout, done = std::move(done)]() mutable {
    // The watch lives until its answer; then it is let go from the loop,
    // not from inside its own callback.
    auto watch = std::make_shared<std::unique_ptr<supervise::Watch>>();
    auto answer = std::make_shared<std::function<void(ProbeResult)>>(std::move(done));
    *watch = processes_.try_connect(host, port, timeout, [this, watch, answer](bool accepted) {
      host_.post([watch] { watch->reset(); });
      if (*answer) {
        std::exchange(*answer, nullptr)(
            {accepted, accepted ? "accepted" : "connection refused or not accepted in time"});
      }
    });
    if (!*watch && *answer) {
      std::exchange(*answer, nullptr)({false, "otpd cannot make TCP connections here"});
    }
  });
}

void WorkerServices::http_get(const std::string& host, int port, const std::string& target,
                              supervise::Duration timeout, std::function<void(ProbeResult)> done) {
  host_.post([this, host, port, target, timeout, done = std::move(done)]() mutable {
    std::make_shared<HttpProbe>(io_, std::move(done))->start(host, port, target, timeout);
  });
}

void WorkerServices::emit(supervise::Event event) {
  host_.post([this, event = std::move(event)] { events_.emit(event); });
}

void WorkerServices::kill_process(const std::string& path) {
  host_.post([this, path] {
    // A process that has gone meanwhile needs no kill: its failure is ignored.
    if (tree_ != nullptr) tree_->signal_child(path, SIGKILL);
  });
}

workers::WatchId WorkerServices::watch_paths(
    const std::vector<config::FileWatchSettings::Path>& paths,
    const std::vector<std::string>& ignore, std::function<void(workers::PathChanges)> changed) {
  const workers::WatchId id = next_watch_++;
  // Called from the worker's init: the watches are in place before it
  // returns, so a change made once the worker has started is seen. Only
  // the loop reads them.
  auto watch = std::make_shared<PathWatch>(io_, paths, ignore, std::move(changed));
  watch->open();
  host_.post([this, id, watch = std::move(watch)] {
    watches_[id] = watch;
    watch->start();
  });
  return id;
}

// Posted after watch_paths's own post, so the watch exists by then.
void WorkerServices::stop_watching(workers::WatchId id) {
  host_.post([this, id] {
    const auto found = watches_.find(id);
    if (found == watches_.end()) return;
    found->second->stop();
    watches_.erase(found);
  });
}

void WorkerServices::restart_child(const std::string& path,
                                   std::function<void(workers::ActionResult)> done) {
  host_.post([this, path, done = std::move(done)]() mutable {
    if (tree_ == nullptr) return done({false, "no tree to restart " + path + " in"});
    const auto status = tree_->status(path);
    if (!status) return done({false, tree_->not_found(path)});
    // An operator's stop stands until an operator starts it again.
    if (status->held) return done({false, path + " was stopped by an operator; not restarted"});
    tree_->restart_child(path, [path, done = std::move(done)](supervise::Failure failure) {
      if (failure) return done({false, "restarting " + path + ": " + *failure});
      done({true, "restarted " + path});
    });
  });
}

void WorkerServices::signal_child(const std::string& path, int signo,
                                  std::function<void(workers::ActionResult)> done) {
  host_.post([this, path, signo, done = std::move(done)] {
    if (tree_ == nullptr) return done({false, "no tree to signal " + path + " in"});
    const supervise::Signalled sent = tree_->signal_child(path, signo);
    if (sent.failure) {
      return done({false, *sent.failure + "; " + config::signal_name(signo) + " not sent"});
    }
    done({true, "sent " + config::signal_name(signo) + " to " + path + " (pid " +
                    std::to_string(sent.pid) + ")"});
  });
}

}  // namespace otpd::on_asio
