#include "check_diff.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "client/client.hpp"
#include "client/reload_view.hpp"
#include "client/socket_path.hpp"
#include "client/socket_trust.hpp"
#include "config/error.hpp"
#include "config/loader.hpp"
#include "config/text_file.hpp"
#include "config/yaml_document.hpp"
#include "protocol/fields.hpp"

namespace otpd {
namespace {

constexpr int exit_ok = 0;
constexpr int exit_invalid = 1;
constexpr int exit_unreachable = 3;

// FILE checked where it is, for when no otpd can judge it.
int check_here(const std::string& file) {
  try {
    config::load_file(file);
    return exit_ok;
  } catch (const std::exception& e) {
    std::cerr << config::describe_failure(e) << '\n';
    return exit_invalid;
  }
}

}  // namespace

int check_diff(const std::string& file, const std::string& socket, bool json) {
  std::string error;
  const std::optional<std::string> text =
      config::read_text_file(file, config::kFileLimits.max_bytes, error);
  if (!text) {
    std::cerr << file << ": cannot read: " << error << '\n';
    return exit_invalid;
  }

  const client::Getenv getenv = [](const char* name) { return std::getenv(name); };
  const std::optional<std::string> flag =
      socket.empty() ? std::nullopt : std::optional<std::string>(socket);
  // The config goes to the socket, secrets and all: not to one that
  // someone else could have put there.
  const std::string path = client::choose_socket(flag, getenv, getuid()).path;
  const char* socket_env = getenv(protocol::kSocketVariable);
  const bool chosen = flag || (socket_env != nullptr && *socket_env != '\0');
  if (const auto distrust = client::socket_distrust(path, chosen, getuid())) {
    std::cerr << "otpd: " << *distrust << '\n';
    return check_here(file) == exit_ok ? exit_unreachable : exit_invalid;
  }
  try {
    client::Client session(path, client::Ms{10'000});
    // The text, not the path: otpd may not be allowed to read the file, and
    // should not read files on a client's say-so. otpd checks it as if it
    // replaced its own file: relative paths start in that file's directory,
    // so that a copy edited elsewhere shows only what really changes.
    namespace field = protocol::field;
    const client::Reply reply =
        session.call(protocol::Command::reload,
                     {{field::dry_run, true},
                      {field::text, *text},
                      {field::file, std::filesystem::absolute(file).lexically_normal().string()}});
    if (reply.error) {
      std::cerr << "otpd: " << reply.error->message << '\n';
      return exit_invalid;
    }
    if (json) {
      std::cout << reply.result.dump(-1, ' ', false, client::Json::error_handler_t::replace)
                << '\n';
    } else {
      std::cout << client::render_reload(reply.result);
      std::cerr << client::reload_problems(reply.result);
    }
    return exit_ok;
  } catch (const client::Unreachable& e) {
    std::cerr << "otpd: " << e.what() << '\n';
    // Still worth knowing whether FILE is valid: 1 if not, 3 if it is.
    return check_here(file) == exit_ok ? exit_unreachable : exit_invalid;
  } catch (const std::exception& e) {
    std::cerr << "otpd: " << e.what() << '\n';
    return exit_invalid;
  }
}

}  // namespace otpd
