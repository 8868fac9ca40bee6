// Who holds a listening socket (process/listeners.hpp): the kernel's tables
// as text, then a real listener of this process.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "process/listeners.hpp"

using otpd::process::SocketInodes;

namespace {

// /proc/net/tcp and tcp6 as the kernel prints them (fields after the inode
// cut short).
constexpr const char* kTcp =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
    "inode\n"
    "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
    "12345 1 0000000000000000 100 0 0 10 0\n"
    "   1: 00000000:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
    "23456 1 0000000000000000 100 0 0 10 0\n"
    "   2: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 "
    "34567 1 0000000000000000 20 4 30 10 -1\n"
    "   3: 0200007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
    "56789 1 0000000000000000 100 0 0 10 0\n";
constexpr const char* kTcp6 =
    "  sl  local_address                         remote_address                        st "
    "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    "   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A "
    "00000000:00000000 00:00000000 00000000     0        0 45678 1 0000000000000000 100 0 0 10 0\n"
    "   1: 00000000000000000000000001000000:1F92 00000000000000000000000000000000:0000 0A "
    "00000000:00000000 00:00000000 00000000     0        0 67890 1 0000000000000000 100 0 0 10 0\n";

SocketInodes listeners(const std::string& host, int port) {
  SocketInodes found;
  otpd::process::add_listening_sockets(kTcp, host, port, found);
  otpd::process::add_listening_sockets(kTcp6, host, port, found);
  return found;
}

}  // namespace

TEST_CASE("listening sockets that a connection to HOST:PORT reaches, from the kernel's tables") {
  // 127.0.0.1:8080, and the IPv6 wildcard; not the connection on that port,
  // not 127.0.0.2.
  CHECK(listeners("127.0.0.1", 8080) == SocketInodes{12345, 45678});
  CHECK(listeners("127.0.0.2", 8080) == SocketInodes{56789, 45678});
  CHECK(listeners("127.0.0.1", 8081) == SocketInodes{23456});  // the IPv4 wildcard
  CHECK(listeners("::1", 8082) == SocketInodes{67890});
  CHECK(listeners("127.0.0.1", 8082).empty());
  CHECK(listeners("127.0.0.1", 9999).empty());
  SocketInodes none;
  otpd::process::add_listening_sockets("garbage\n0: zz:zz 0A\n", "127.0.0.1", 8080, none);
  CHECK(none.empty());
}

TEST_CASE("a real listener: found in the table, held by this process and by no child of it") {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(listen(fd, 4) == 0);
  socklen_t size = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  const int port = ntohs(address.sin_port);

  const SocketInodes sockets = otpd::process::listening_sockets(getpid(), "127.0.0.1", port);
  REQUIRE(sockets.size() == 1);
  CHECK(otpd::process::holds_any(getpid(), sockets));
  CHECK(otpd::process::holder_of(sockets) == getpid());
  const auto mine = otpd::process::processes_of(getpid(), "");
  CHECK(std::find(mine.begin(), mine.end(), getpid()) != mine.end());
  close(fd);
  CHECK(otpd::process::listening_sockets(getpid(), "127.0.0.1", port).empty());
}
