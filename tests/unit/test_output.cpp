// Child output without processes: cutting bytes into lines, the ring of
// recent lines, and the rotated log file.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "output/line_ring.hpp"
#include "output/line_splitter.hpp"
#include "output/log_dir.hpp"
#include "output/output_hub.hpp"
#include "output/output_line.hpp"
#include "output/rotating_file.hpp"

using otpd::output::LineRing;
using otpd::output::LineSplitter;
using otpd::output::LogDir;
using otpd::output::OutputLine;
using otpd::output::RotatingFile;
using otpd::output::Stream;

namespace {

struct Piece {
  std::string text;
  bool continued;
  bool operator==(const Piece&) const = default;
};

struct Collect {
  std::vector<Piece>* into;
  void operator()(std::string_view text, bool continued) const {
    into->push_back({std::string(text), continued});
  }
};

std::vector<Piece> split(LineSplitter& splitter, std::initializer_list<std::string_view> chunks) {
  std::vector<Piece> pieces;
  for (std::string_view chunk : chunks) splitter.feed(chunk, Collect{&pieces});
  return pieces;
}

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/otpd-output-test-XXXXXX";
    dir_ = mkdtemp(pattern);
  }
  ~TempDir() { std::filesystem::remove_all(dir_); }
  const std::string& dir() const { return dir_; }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

 private:
  std::string dir_;
};

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::shared_ptr<const LogDir> open_dir(const std::string& path) {
  std::string error;
  auto dir = LogDir::open(path, error);
  REQUIRE_MESSAGE(dir, error);
  return dir;
}

OutputLine line(std::string text, Stream stream = Stream::out) {
  return {.time_us = 0, .pid = 1, .stream = stream, .continued = false, .text = std::move(text)};
}

}  // namespace

TEST_SUITE("line splitter") {
  TEST_CASE("lines end at newline, across reads") {
    LineSplitter s;
    CHECK(split(s, {"a\nbc", "d\n\ne"}) ==
          std::vector<Piece>{{"a", false}, {"bcd", false}, {"", false}});
    CHECK(s.has_partial());
    std::vector<Piece> rest;
    s.flush(false, Collect{&rest});
    CHECK(rest == std::vector<Piece>{{"e", false}});
    CHECK_FALSE(s.has_partial());
  }

  TEST_CASE("CR before the newline is kept as it is") {
    LineSplitter s;
    CHECK(split(s, {"dos\r\n"}) == std::vector<Piece>{{"dos\r", false}});
  }

  TEST_CASE("binary bytes pass through; only newline splits") {
    LineSplitter s;
    std::string bytes;
    for (int b = 0; b < 256; ++b) {
      if (b != '\n') bytes += static_cast<char>(b);
    }
    const auto pieces = split(s, {bytes + "\n"});
    REQUIRE(pieces.size() == 1);
    CHECK(pieces[0].text == bytes);
  }

  TEST_CASE("a long line is cut into pieces marked continued") {
    LineSplitter s(8);
    CHECK(split(s, {"0123456789abcdefXY\n"}) ==
          std::vector<Piece>{{"01234567", true}, {"89abcdef", true}, {"XY", false}});
  }

  TEST_CASE("a long line that arrives in bits is cut at the same places") {
    LineSplitter s(8);
    CHECK(split(s, {"012", "3456", "789abc", "defXY\n"}) ==
          std::vector<Piece>{{"01234567", true}, {"89abcdef", true}, {"XY", false}});
  }

  TEST_CASE("a line of exactly the limit is one piece, not followed by an empty one") {
    LineSplitter s(4);
    CHECK(split(s, {"abcd\nefgh", "\n"}) == std::vector<Piece>{{"abcd", false}, {"efgh", false}});
  }

  TEST_CASE("a partial line flushed after a pause is marked continued") {
    LineSplitter s;
    split(s, {"waiting"});
    std::vector<Piece> pieces;
    s.flush(true, Collect{&pieces});
    s.feed(" done\n", Collect{&pieces});
    CHECK(pieces == std::vector<Piece>{{"waiting", true}, {" done", false}});
  }

  TEST_CASE("the default limit is 16 KiB") {
    LineSplitter s;
    const auto pieces = split(s, {std::string(40 * 1024, 'x') + "\n"});
    REQUIRE(pieces.size() == 3);
    CHECK(pieces[0].text.size() == 16 * 1024);
    CHECK(pieces[0].continued);
    CHECK(pieces[2].text.size() == 8 * 1024);
    CHECK_FALSE(pieces[2].continued);
  }
}

TEST_SUITE("line ring") {
  std::vector<std::string> texts(const LineRing& ring, std::size_t n,
                                 otpd::output::StreamFilter filter) {
    std::vector<std::string> out;
    ring.last(
        n, [filter](const OutputLine& l) { return otpd::output::accepts(filter, l.stream); },
        [&](const OutputLine& l) { out.push_back(l.text); });
    return out;
  }

  TEST_CASE("keeps the last CAPACITY lines, oldest first") {
    LineRing ring(3);
    for (const char* t : {"1", "2", "3", "4", "5"}) ring.push(line(t));
    CHECK(ring.size() == 3);
    CHECK(ring.pushed() == 5);
    using F = otpd::output::StreamFilter;
    CHECK(texts(ring, 10, F::both) == std::vector<std::string>{"3", "4", "5"});
    CHECK(texts(ring, 2, F::both) == std::vector<std::string>{"4", "5"});
    CHECK(texts(ring, 0, F::both).empty());
  }

  TEST_CASE("the last N of one stream") {
    LineRing ring(10);
    ring.push(line("o1"));
    ring.push(line("e1", Stream::err));
    ring.push(line("o2"));
    ring.push(line("e2", Stream::err));
    ring.push(line("o3"));
    using F = otpd::output::StreamFilter;
    CHECK(texts(ring, 2, F::err) == std::vector<std::string>{"e1", "e2"});
    CHECK(texts(ring, 2, F::out) == std::vector<std::string>{"o2", "o3"});
    CHECK(texts(ring, 3, F::both) == std::vector<std::string>{"o2", "e2", "o3"});
  }

  TEST_CASE("a ring of capacity 0 keeps nothing") {
    LineRing ring(0);
    ring.push(line("x"));
    CHECK(ring.size() == 0);
    CHECK(ring.pushed() == 1);
  }
}

TEST_SUITE("log lines") {
  TEST_CASE("file lines: RFC 3339 with milliseconds, as events, UTC, stream, continued marker") {
    std::string out;
    OutputLine l = line("hello");
    l.time_us = 1'795'533'442'123'456;  // 2026-11-24T15:17:22.123Z
    otpd::output::append_file_line(out, l);
    l.stream = Stream::err;
    l.continued = true;
    otpd::output::append_file_line(out, l);
    CHECK(out == "2026-11-24T15:17:22.123Z out hello\n2026-11-24T15:17:22.123Z err+ hello\n");
  }

  TEST_CASE("JSON replaces invalid UTF-8 and keeps control bytes escaped") {
    std::string out;
    OutputLine l = line(std::string("a\xff\x01z", 4));
    otpd::output::append_line_json(out, "app/web", l);
    CHECK(out ==
          "{\"time\":\"1970-01-01T00:00:00.000Z\",\"path\":\"app/web\",\"pid\":1,"
          "\"stream\":\"stdout\",\"line\":\"a\xef\xbf\xbd\\u0001z\"}");
  }

  TEST_CASE("file names and the default directory") {
    CHECK(otpd::output::log_file_name("app/web") == "app.web.log");
    CHECK(otpd::output::log_file_name("/db") == "db.log");
    CHECK(otpd::output::default_log_dir(true, "/x", "/home/u") == "/var/log/otpd");
    CHECK(otpd::output::default_log_dir(false, "/x", "/home/u") == "/x/otpd");
    CHECK(otpd::output::default_log_dir(false, nullptr, "/home/u") == "/home/u/.local/state/otpd");
    CHECK(otpd::output::default_log_dir(false, "relative", "/home/u") ==
          "/home/u/.local/state/otpd");
  }
}

TEST_SUITE("rotating file") {
  TEST_CASE("rotates before a line would pass the size limit, keeping KEEP files") {
    TempDir dir;
    const std::string path = dir.path("a.log");
    RotatingFile file(open_dir(dir.dir()), "a.log", 100, 2);
    std::string error;
    REQUIRE(file.open(error));
    const std::string ten = "123456789\n";
    for (int i = 0; i < 10; ++i) REQUIRE(file.add_line(ten, error));  // exactly 100 bytes
    REQUIRE(file.flush(error));
    CHECK(read(path).size() == 100);
    CHECK_FALSE(std::filesystem::exists(path + ".1"));

    REQUIRE(file.add_line("first of file 2\n", error));
    REQUIRE(file.flush(error));
    CHECK(read(path) == "first of file 2\n");
    CHECK(read(path + ".1").size() == 100);

    for (int round = 0; round < 3; ++round) {
      for (int i = 0; i < 10; ++i) REQUIRE(file.add_line(ten, error));
    }
    REQUIRE(file.flush(error));
    CHECK(std::filesystem::exists(path + ".2"));
    CHECK_FALSE(std::filesystem::exists(path + ".3"));
    for (const std::string& p : {path, path + ".1", path + ".2"}) {
      CHECK(std::filesystem::file_size(p) <= 100);
    }
  }

  TEST_CASE("a line longer than the limit gets a file of its own") {
    TempDir dir;
    const std::string path = dir.path("a.log");
    RotatingFile file(open_dir(dir.dir()), "a.log", 10, 1);
    std::string error;
    REQUIRE(file.add_line("short\n", error));
    REQUIRE(file.add_line("a line much longer than ten\n", error));
    REQUIRE(file.add_line("next\n", error));
    REQUIRE(file.flush(error));
    CHECK(read(path) == "next\n");
    CHECK(read(path + ".1") == "a line much longer than ten\n");
    CHECK_FALSE(std::filesystem::exists(path + ".2"));
  }

  TEST_CASE("keep 0 starts the file afresh") {
    TempDir dir;
    const std::string path = dir.path("a.log");
    RotatingFile file(open_dir(dir.dir()), "a.log", 10, 0);
    std::string error;
    REQUIRE(file.add_line("12345678\n", error));
    REQUIRE(file.add_line("abc\n", error));
    REQUIRE(file.flush(error));
    CHECK(read(path) == "abc\n");
    CHECK_FALSE(std::filesystem::exists(path + ".1"));
  }

  TEST_CASE("an existing file is appended to and counts toward the limit; mode 0640") {
    TempDir dir;
    const std::string path = dir.path("a.log");
    { std::ofstream(path) << "old line\n"; }
    RotatingFile file(open_dir(dir.dir()), "a.log", 12, 1);
    std::string error;
    REQUIRE(file.add_line("new\n", error));
    REQUIRE(file.flush(error));
    CHECK(read(path + ".1") == "old line\n");
    CHECK(read(path) == "new\n");

    const std::string fresh = dir.path("b.log");
    RotatingFile created(open_dir(dir.dir()), "b.log", 100, 1);
    REQUIRE(created.open(error));
    const auto perms = std::filesystem::status(fresh).permissions();
    CHECK((perms & std::filesystem::perms::others_all) == std::filesystem::perms::none);
    CHECK((perms & std::filesystem::perms::group_write) == std::filesystem::perms::none);
  }

  TEST_CASE("a directory that is not there is an error naming it") {
    std::string error;
    CHECK_FALSE(LogDir::open("/nonexistent-otpd-dir", error));
    CHECK(error == "cannot open /nonexistent-otpd-dir: No such file or directory");
  }

  TEST_CASE("a symbolic link in the file's place is refused; what it points to is untouched") {
    TempDir dir;
    { std::ofstream(dir.path("precious")) << "keep\n"; }
    REQUIRE(symlink(dir.path("precious").c_str(), dir.path("a.log").c_str()) == 0);
    RotatingFile file(open_dir(dir.dir()), "a.log", 100, 1);
    std::string error;
    CHECK_FALSE(file.open(error));
    CHECK(error == "cannot open " + dir.path("a.log") +
                       ": it is a symbolic link; otpd writes only to a regular file of its own");
    CHECK_FALSE(file.add_line("planted\n", error));
    CHECK(read(dir.path("precious")) == "keep\n");
    // A dangling link is not created through either.
    REQUIRE(symlink(dir.path("nothing").c_str(), dir.path("b.log").c_str()) == 0);
    RotatingFile dangling(open_dir(dir.dir()), "b.log", 100, 1);
    CHECK_FALSE(dangling.open(error));
    CHECK_FALSE(std::filesystem::exists(dir.path("nothing")));
  }

  TEST_CASE("a FIFO, a directory or a file with another hard link is refused at once") {
    TempDir dir;
    const auto log_dir = open_dir(dir.dir());
    std::string error;
    REQUIRE(mkfifo(dir.path("fifo.log").c_str(), 0600) == 0);
    CHECK(log_dir->open_for_append("fifo.log", error) < 0);  // no reader: it would block
    CHECK(error.find("it is a FIFO") != std::string::npos);
    REQUIRE(mkdir(dir.path("dir.log").c_str(), 0700) == 0);
    CHECK(log_dir->open_for_append("dir.log", error) < 0);
    CHECK(error.find("it is a directory") != std::string::npos);
    { std::ofstream(dir.path("elsewhere")) << "x\n"; }
    REQUIRE(link(dir.path("elsewhere").c_str(), dir.path("linked.log").c_str()) == 0);
    CHECK(log_dir->open_for_append("linked.log", error) < 0);
    CHECK(error.find("it has 2 hard links") != std::string::npos);
    CHECK(read(dir.path("elsewhere")) == "x\n");
  }

  TEST_CASE("another user's file is refused") {
    if (geteuid() != 0) {
      MESSAGE("skipped: needs root to give a file to another user");
      return;
    }
    TempDir dir;
    { std::ofstream(dir.path("a.log")) << "theirs\n"; }
    REQUIRE(chown(dir.path("a.log").c_str(), 65534, 65534) == 0);
    std::string error;
    CHECK(open_dir(dir.dir())->open_for_append("a.log", error) < 0);
    CHECK(error.find("it belongs to uid 65534, not to otpd's uid 0") != std::string::npos);
  }

  TEST_CASE("rotation stays in the directory opened, wherever its path leads later") {
    TempDir dir;
    const std::string logs = dir.path("logs");
    REQUIRE(mkdir(logs.c_str(), 0700) == 0);
    RotatingFile file(open_dir(logs), "a.log", 10, 1);
    std::string error;
    REQUIRE(file.add_line("12345678\n", error));
    REQUIRE(file.flush(error));
    // The directory is moved away and its path made a link to another one.
    REQUIRE(rename(logs.c_str(), dir.path("moved").c_str()) == 0);
    REQUIRE(mkdir(dir.path("other").c_str(), 0700) == 0);
    REQUIRE(symlink(dir.path("other").c_str(), logs.c_str()) == 0);
    REQUIRE(file.add_line("next\n", error));
    REQUIRE(file.flush(error));
    CHECK(read(dir.path("moved/a.log")) == "next\n");
    CHECK(read(dir.path("moved/a.log.1")) == "12345678\n");
    CHECK(std::filesystem::is_empty(dir.path("other")));
  }
}
