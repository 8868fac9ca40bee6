// PipeSet on a real io_context and real pipes: every pipe is read, a pipe
// that never empties leaves room for the others, and a pipe may leave the
// set from its own callback.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "output/pipe_set.hpp"

using otpd::output::PipeSet;

namespace {

// Reads at most `per_call` bytes per call; at the end of the pipe it leaves
// the set and closes its end.
class TestPipe final : public PipeSet::Pipe {
 public:
  TestPipe(PipeSet& set, std::size_t per_call) : set_(set), per_call_(per_call) {
    int fds[2];
    REQUIRE(pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
    read_end_ = fds[0];
    write_end_ = fds[1];
  }
  ~TestPipe() override {
    close_read_end();
    if (write_end_ >= 0) close(write_end_);
  }

  void watch() { REQUIRE(set_.add(read_end_, *this)); }
  void write(const std::string& text) {
    REQUIRE(::write(write_end_, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  }
  void close_write_end() {
    close(write_end_);
    write_end_ = -1;
  }

  void readable() override {
    ++calls;
    std::string chunk(per_call_, '\0');
    const ssize_t n = ::read(read_end_, chunk.data(), chunk.size());
    if (n > 0) {
      if (got.empty() && beside != nullptr) beside_calls = beside->calls;
      got.append(chunk.data(), static_cast<std::size_t>(n));
    } else if (n == 0) {
      ended = true;
      close_read_end();
    }
  }

  std::string got;
  int calls = 0;
  bool ended = false;
  // Another pipe, and how often it had been read when this one first was.
  const TestPipe* beside = nullptr;
  int beside_calls = -1;

 private:
  void close_read_end() {
    if (read_end_ < 0) return;
    set_.remove(read_end_);
    close(read_end_);
    read_end_ = -1;
  }

  PipeSet& set_;
  std::size_t per_call_;
  int read_end_ = -1;
  int write_end_ = -1;
};

// Runs handlers until `done` or a deadline of a few seconds.
template <typename Done>
bool run_until(boost::asio::io_context& io, Done done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    io.restart();
    io.run_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace

TEST_SUITE("pipe set") {
  TEST_CASE("every pipe is read: written before it was added, and after") {
    boost::asio::io_context io;
    PipeSet set(io);
    std::vector<std::unique_ptr<TestPipe>> pipes;
    for (int i = 0; i < 300; ++i) {
      pipes.push_back(std::make_unique<TestPipe>(set, 4096));
      if (i % 2 == 0) pipes.back()->write("early " + std::to_string(i));
      pipes.back()->watch();
    }
    for (int i = 1; i < 300; i += 2) pipes[i]->write("late " + std::to_string(i));
    REQUIRE(run_until(io, [&] {
      for (const auto& pipe : pipes) {
        if (pipe->got.empty()) return false;
      }
      return true;
    }));
    for (int i = 0; i < 300; ++i) {
      CHECK(pipes[i]->got == (i % 2 == 0 ? "early " : "late ") + std::to_string(i));
    }
  }

  TEST_CASE("a pipe that never empties leaves the others their turn") {
    boost::asio::io_context io;
    PipeSet set(io);
    TestPipe full(set, 1);
    TestPipe other(set, 4096);
    full.write(std::string(60000, 'x'));
    full.watch();
    other.beside = &full;
    other.watch();
    io.poll_one();  // a round or two of the full pipe
    other.write("hello");
    REQUIRE(run_until(io, [&] { return other.got == "hello"; }));
    // One byte per round: the full pipe had a turn or two before the
    // other was read, not the 60,000 it would take to empty it.
    CHECK(other.beside_calls >= 0);
    CHECK(other.beside_calls <= 3);
    CHECK(full.got.size() == static_cast<std::size_t>(full.calls));
  }

  TEST_CASE("a pipe leaves the set from its own callback at its end") {
    boost::asio::io_context io;
    PipeSet set(io);
    TestPipe first(set, 4096);
    TestPipe second(set, 4096);
    first.watch();
    second.watch();
    first.write("one");
    first.close_write_end();
    REQUIRE(run_until(io, [&] { return first.ended; }));
    CHECK(first.got == "one");
    // The set goes on for the pipes it still has.
    second.write("two");
    REQUIRE(run_until(io, [&] { return second.got == "two"; }));
    CHECK_FALSE(second.ended);
  }

  TEST_CASE("the set can go while a round is queued") {
    auto io = std::make_unique<boost::asio::io_context>();
    {
      PipeSet set(*io);
      TestPipe pipe(set, 1);
      pipe.write("abc");
      pipe.watch();
      io->poll();  // one round read one byte, and queued the next
      pipe.close_write_end();
    }
    // What was queued finds nothing.
    io->restart();
    io->poll();
    CHECK(true);
  }
}
