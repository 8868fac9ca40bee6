#include "check_diff.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/client.hpp"
#include "cli/reload_view.hpp"
#include "cli/socket_path.hpp"
#include "cli/socket_trust.hpp"
#include "config/error.hpp"
#include "config/loader.hpp"

namespace otpd {
namespace {

constexpr int exit_ok = 0;
constexpr int exit_invalid = 1;
constexpr int exit_unreachable = 3;

}  // namespace

int check_diff(const std::string& file, const std::string& socket, bool json) {
  // Errors in FILE are found here, with FILE:LINE:COL, before asking otpd.
  try {
    config::load_file(file);
  } catch (const std::exception& e) {
    std::cerr << config::describe_failure(e) << '\n';
    return exit_invalid;
  }
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();

  const ctl::Getenv getenv = [](const char* name) { return std::getenv(name); };
  const std::optional<std::string> flag =
      socket.empty() ? std::nullopt : std::optional<std::string>(socket);
  // The config goes to the socket, secrets and all: not to one that
  // someone else could have put there.
  const std::string path = ctl::resolve_socket_path(flag, getenv, getuid());
  const char* socket_env = getenv("OTPD_SOCKET");
  const bool chosen = flag || (socket_env != nullptr && *socket_env != '\0');
  if (const std::string why = ctl::socket_distrust(path, chosen, getuid()); !why.empty()) {
    std::cerr << "otpd: " << why << '\n';
    return exit_unreachable;
  }
  try {
    ctl::Client client(path, ctl::Ms{10'000});
    // The text, not the path: otpd may not be allowed to read the file, and
    // should not read files on a client's say-so. Relative paths in it
    // resolve against FILE's directory, as they would for otpd --config.
    const ctl::Reply reply = client.call(
        "reload", {{"dry_run", true},
                   {"text", text.str()},
                   {"file", std::filesystem::absolute(file).lexically_normal().string()}});
    if (reply.error) {
      std::cerr << "otpd: " << reply.error->message << '\n';
      return exit_invalid;
    }
    if (json) {
      std::cout << reply.result.dump(-1, ' ', false, ctl::Json::error_handler_t::replace) << '\n';
    } else {
      std::cout << ctl::render_reload(reply.result);
      std::cerr << ctl::reload_problems(reply.result);
    }
    return exit_ok;
  } catch (const ctl::Unreachable& e) {
    std::cerr << "otpd: " << e.what() << '\n';
    return exit_unreachable;
  } catch (const std::exception& e) {
    std::cerr << "otpd: " << e.what() << '\n';
    return exit_invalid;
  }
}

}  // namespace otpd
