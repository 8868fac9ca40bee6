// start, stop, restart, signal, shutdown, reload, start-child,
// terminate-child: requests that change the tree.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/client.hpp"
#include "cli/node_fields.hpp"
#include "cli/output.hpp"
#include "cli/reload_view.hpp"
#include "cli/run.hpp"

namespace otpd::ctl {
namespace {

std::string dump(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

// "app/api: running (pid 4243)", "app/api: stopped".
std::string describe(const Json& node, const std::string& asked) {
  std::string line =
      text_field(node, "path").value_or(asked) + ": " + text_field(node, "state").value_or("done");
  if (auto pid = int_field(node, "pid"); pid && *pid > 0) {
    line += " (pid " + std::to_string(*pid) + ")";
  }
  return line + "\n";
}

// Signals go as numbers when written as numbers, as names otherwise;
// otpd checks the name.
Json signal_argument(const std::string& written) {
  const bool numeric =
      !written.empty() && written.size() < 4 &&
      std::all_of(written.begin(), written.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (numeric) return std::stoi(written);
  return written;
}

// Each path in turn: one failure does not stop the rest, but sets the status.
template <typename Describe>
int for_each_path(const Context& context, const std::string& cmd, Json extra,
                  Describe describe_result) {
  const Invocation& inv = context.invocation;
  Client client(context.socket_path, inv.timeout);
  int status = exit_ok;
  for (const std::string& path : inv.paths) {
    Json args = extra;
    args["path"] = path;
    const Reply reply = client.call(cmd, std::move(args));
    if (reply.error) {
      complain(cmd + " " + path + ": " + reply.error->message);
      status = exit_refused;
      continue;
    }
    print(inv.json ? dump(reply.result) : describe_result(reply.result, path));
  }
  return status;
}

std::string command_name(Command command) {
  return std::string(spec_of(command).name);
}

// The spec of start-child: the argument itself, or what stdin or a file holds.
std::optional<std::string> read_spec(const Invocation& inv, std::string& error) {
  const std::string& from = inv.spec_file.empty() ? inv.spec : inv.spec_file;
  if (inv.spec_file.empty() && from != "-") return from;
  std::ostringstream text;
  if (from == "-") {
    text << std::cin.rdbuf();
    if (std::cin.bad()) error = "cannot read the spec from stdin";
  } else {
    std::ifstream file(from, std::ios::binary);
    if (!file.is_open()) {
      error = "cannot read " + from + ": " + std::strerror(errno);
    } else if (std::filesystem::is_directory(from)) {
      error = "cannot read " + from + ": it is a directory";
    } else {
      text << file.rdbuf();  // an empty file is an empty spec, which otpd explains
    }
  }
  if (!error.empty()) return std::nullopt;
  return text.str();
}

}  // namespace

int run_operation(const Context& context) {
  return for_each_path(context, command_name(context.invocation.command), Json::object(), describe);
}

int run_signal(const Context& context) {
  const Json args = {{"signal", signal_argument(context.invocation.signal)}};
  return for_each_path(context, "signal", args, [](const Json& result, const std::string& path) {
    std::string line = "sent " + text_field(result, "signal").value_or("the signal") + " to " +
                       text_field(result, "path").value_or(path);
    if (auto pid = int_field(result, "pid")) {
      line += text_field(result, "to") == "process"
                  ? " (pid " + std::to_string(*pid) + " alone, as its kill_mode says)"
                  : " (pid " + std::to_string(*pid) + " and its process group)";
    }
    return line + "\n";
  });
}

int run_shutdown(const Context& context) {
  Client client(context.socket_path, context.invocation.timeout);
  const Reply reply = client.call("shutdown");
  if (reply.error) {
    complain(reply.error->message);
    return exit_refused;
  }
  const auto pid = int_field(client.hello(), "pid");
  print("otpd" + (pid ? " (pid " + std::to_string(*pid) + ")" : std::string()) +
        " is stopping the tree and will exit\n");
  return exit_ok;
}

int run_reload(const Context& context) {
  const Invocation& inv = context.invocation;
  Client client(context.socket_path, inv.timeout);
  Json args = Json::object();
  if (inv.dry_run) args["dry_run"] = true;
  const Reply reply = client.call("reload", std::move(args));
  if (reply.error) {
    complain(reply.error->message);
    return exit_refused;
  }
  print(inv.json ? dump(reply.result) : render_reload(reply.result));
  print_error(reload_problems(reply.result));
  return reload_failed(reply.result) ? exit_refused : exit_ok;
}

int run_start_child(const Context& context) {
  const Invocation& inv = context.invocation;
  std::string error;
  const auto spec = read_spec(inv, error);
  if (!spec) {
    complain(error);
    return exit_usage;
  }
  Json args = {{"path", inv.paths.front()}, {"spec", *spec}};
  if (!inv.spec_file.empty()) args["file"] = inv.spec_file == "-" ? "stdin" : inv.spec_file;
  Client client(context.socket_path, inv.timeout);
  const Reply reply = client.call("start_child", std::move(args));
  if (reply.error) {
    complain("start-child " + inv.paths.front() + ": " + reply.error->message);
    return exit_refused;
  }
  print(inv.json ? dump(reply.result) : describe(reply.result, inv.paths.front()));
  return exit_ok;
}

int run_terminate_child(const Context& context) {
  const Invocation& inv = context.invocation;
  Client client(context.socket_path, inv.timeout);
  const Reply reply =
      client.call("terminate_child", {{"path", inv.paths.front()}, {"name", inv.child_name}});
  if (reply.error) {
    complain("terminate-child " + inv.paths.front() + " " + inv.child_name + ": " +
             reply.error->message);
    return exit_refused;
  }
  print(inv.json ? dump(reply.result)
                 : text_field(reply.result, "path").value_or(inv.child_name) + ": terminated\n");
  return exit_ok;
}

}  // namespace otpd::ctl
