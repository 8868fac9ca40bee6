#include "cli/help.hpp"

#include "cli/run.hpp"

namespace otpd::ctl {
namespace {

constexpr std::string_view kGlobalOptions =
    "  --socket PATH       otpd's control socket; default $OTPD_SOCKET, else\n"
    "                      /run/otpd/otpd.sock as root, $XDG_RUNTIME_DIR/otpd.sock\n"
    "                      otherwise (/tmp/otpd-$UID/otpd.sock, then\n"
    "                      /run/user/$UID/otpd.sock without XDG_RUNTIME_DIR), then\n"
    "                      /run/otpd/otpd.sock: the first that exists\n"
    "  --timeout DURATION  how long to wait for each answer from otpd, e.g. 500ms,\n"
    "                      30s, 1m (default 10s)\n"
    "  --no-color          no colours, even on a terminal (so does NO_COLOR=1)\n"
    "  -h, --help          show this help and exit\n";

constexpr std::string_view kExitStatus =
    "Exit status:\n"
    "  0  done\n"
    "  1  otpd refused or failed the request (its reason is printed)\n"
    "  2  usage error\n"
    "  3  otpd could not be reached, or did not answer in time\n";

// status and is-active, as systemctl status and LSB init scripts.
constexpr std::string_view kStateExitStatus =
    "Exit status (as systemctl's):\n"
    "  0  every node asked about is running\n"
    "  2  usage error\n"
    "  3  some node is not running (stopped, exited, failed, backoff, ...)\n"
    "  4  unknown: otpd could not be reached, or there is no such PATH\n";

std::string usage_line(const CommandSpec& spec) {
  std::string line = "usage: otpctl " + std::string(spec.name);
  if (!spec.operands_synopsis.empty()) line += " " + std::string(spec.operands_synopsis);
  if (spec.options & opt_follow) line += " [--follow]";
  if (spec.options & opt_lines) line += " [-n N]";
  if (spec.options & opt_streams) line += " [--stdout|--stderr]";
  if (spec.options & opt_dry_run) line += " [--dry-run]";
  if (spec.options & opt_live) line += " [--live]";
  if (spec.options & opt_quiet) line += " [--quiet]";
  if (spec.options & opt_json) line += " [--json]";
  return line + " [OPTIONS]\n";
}

std::string top_level_help() {
  std::string text =
      "usage: otpctl [OPTIONS] COMMAND [ARGS...]\n"
      "\n"
      "Query and control a running otpd over its control socket.\n"
      "\n"
      "Commands:\n";
  for (const CommandSpec& spec : command_specs()) {
    std::string left = "  " + std::string(spec.name);
    if (!spec.operands_synopsis.empty()) left += " " + std::string(spec.operands_synopsis);
    left.resize(std::max<std::size_t>(left.size() + 2, 26), ' ');
    text += left + std::string(spec.summary) + "\n";
  }
  text +=
      "\n"
      "PATH names a node of the tree by its children's names from the root,\n"
      "e.g. app/api; '/' is the root supervisor. A name unique in the tree\n"
      "will do: 'redis' for backend/redis.\n"
      "\n"
      "Options:\n";
  text += kGlobalOptions;
  text += "  --version           show otpctl's version and exit\n\n";
  text += kExitStatus;
  text += "\nRun 'otpctl COMMAND --help' for a command's options.\n";
  return text;
}

// What each command does and its own options, between the usage line and
// the global options.
std::string_view details(Command command) {
  switch (command) {
    case Command::status:
      return "Show the supervision tree, or the subtree at PATH: one line per child\n"
             "with its kind or strategy, state, pid, uptime, restarts, the last exit\n"
             "when there was one, what a child with 'ready: notify' last said (its\n"
             "STATUS=, MAINPID=, STOPPING=1), and each supervisor's restart intensity\n"
             "used in its current period. A child with 'ready' is 'starting' until it\n"
             "is ready. States are coloured on a terminal. Exits 0 when every node\n"
             "shown is running, 3 when one is not, as 'systemctl status' does.\n"
             "\n"
             "Options:\n"
             "  --json              print otpd's answer (docs/protocol.md, \"A node\") as\n"
             "                      one line of JSON\n";
    case Command::is_active:
      return "Print the state of the node at each PATH (default: the root\n"
             "supervisor, '/'), one per line, and exit 0 only when every one of them\n"
             "is running; its children are not looked at. For scripts and health\n"
             "checks, as 'systemctl is-active':\n"
             "  otpctl is-active --quiet app/api || echo 'api is down'\n"
             "\n"
             "Options:\n"
             "  -q, --quiet         print nothing; the exit status says it all\n"
             "  --json              print {\"path\", \"state\"} for each as one line\n";
    case Command::start:
      return "Start each child at PATH in turn, and report its state. A child stopped\n"
             "with 'otpctl stop' stays stopped until it is started again.\n"
             "Exits 1 if any of them failed; the others are still started.\n"
             "\n"
             "Options:\n"
             "  --json              print each resulting node as one line of JSON\n";
    case Command::stop:
      return "Stop each child at PATH in turn with its shutdown policy, and report its\n"
             "state. The child stays stopped, through restarts of its siblings and of\n"
             "its supervisor, until 'otpctl start'; this does not count against the\n"
             "restart intensity. Exits 1 if any of them failed.\n"
             "\n"
             "Options:\n"
             "  --json              print each resulting node as one line of JSON\n";
    case Command::restart:
      return "Stop and start again each child at PATH in turn, and report its new\n"
             "pid. Only that child restarts: the supervisor's strategy does not apply.\n"
             "Exits 1 if any of them failed.\n"
             "\n"
             "Options:\n"
             "  --json              print each resulting node as one line of JSON\n";
    case Command::signal:
      return "Send SIGNAL to the process at each PATH in turn. SIGNAL is a name, with\n"
             "or without SIG (HUP, SIGUSR1), or a number. It goes where the child's\n"
             "stop signal goes: its process group, or with kill_mode: process its\n"
             "main process alone (SIGKILL always to the group). Exits 1 if any of\n"
             "them failed.\n"
             "\n"
             "Options:\n"
             "  --json              print otpd's answer for each as one line of JSON\n";
    case Command::events:
      return "Show otpd's most recent events, one per line as in otpd's log, or follow\n"
             "new ones as they happen. --follow runs until interrupted or until otpd\n"
             "ends the stream; when otpd shuts down it exits 0. --timeout does not\n"
             "limit how long --follow waits for the next event.\n"
             "\n"
             "Options:\n"
             "  -f, --follow        keep printing new events as they happen\n"
             "  -n, --lines N       how many past events to show first, 0 to 1000\n"
             "                      (default: otpd's, 100)\n"
             "  --json              print each event as one JSON object per line\n";
    case Command::logs:
      return "Show the most recent lines a process child wrote, from otpd's in-memory\n"
             "buffer (logs.buffer lines per child), as TIME out|err LINE; 'out+' marks\n"
             "a piece of a line that continues in the next (cut at 16 KiB, or flushed\n"
             "after a second without a newline). --follow then prints new lines as\n"
             "they come, across restarts of the child, until interrupted or until\n"
             "otpd exits (status 0). A child with 'output: inherit' or 'discard' has\n"
             "nothing captured: otpctl says so and exits 1. Also exits 1 for a PATH\n"
             "that is not in the tree or is a supervisor.\n"
             "\n"
             "Options:\n"
             "  -n, --lines N       how many buffered lines to show, 0 to 1000000\n"
             "                      (default 100)\n"
             "  -f, --follow        keep printing new lines as they are written\n"
             "  --stdout            only what the child wrote on its stdout\n"
             "  --stderr            only what the child wrote on its stderr\n"
             "  --json              one JSON object per line: time, path, pid, stream,\n"
             "                      line (and continued)\n";
    case Command::shutdown:
      return "Ask otpd to stop the whole tree in reverse start order and exit. Returns\n"
             "once otpd has accepted; otpd then stops the children and exits 0.\n"
             "\n"
             "Options:\n";
    case Command::reload:
      return "Make otpd read its configuration file again (as SIGHUP does) and apply\n"
             "the difference: removed children are stopped, changed ones restarted\n"
             "with their new settings, added ones started in their place, and the\n"
             "others left running (same pid). A nested supervisor whose settings\n"
             "changed keeps its children. Prints one line per change: '+ PATH'\n"
             "added, '- PATH' removed, '~ PATH (what)' changed. When the file is\n"
             "invalid nothing changes: otpd's FILE:LINE:COL error is printed and the\n"
             "exit status is 1; so it is when an added or changed child fails to\n"
             "start (otpd retries it as it retries any failed restart). The control\n"
             "section cannot change while otpd runs: a warning says so.\n"
             "\n"
             "Options:\n"
             "  --dry-run           show what a reload would do, and do nothing\n"
             "  --json              print otpd's answer as one line of JSON\n";
    case Command::start_child:
      return "Add a child to the dynamic supervisor SUP (a child with 'worker: {kind:\n"
             "dynamic_supervisor}') and start it; prints the new child's state.\n"
             "SPEC is the child as it would be written under 'children:' in the\n"
             "config file, in YAML or JSON, e.g.\n"
             "  otpctl start-child jobs '{name: job1, command: [./job, \"1\"]}'\n"
             "'-' reads it from stdin. otpd checks it exactly as it checks the file and\n"
             "answers a mistake with SOURCE:LINE:COL in the given text (SOURCE is the\n"
             "--file name, else 'start_child'); relative paths start at the config\n"
             "file's directory. Refused (exit 1) when SUP is not a dynamic supervisor,\n"
             "already has a child of that name or max_children children, or the child\n"
             "fails to start. Such a child is not in the config file: a reload keeps\n"
             "it, and it is gone when its supervisor restarts.\n"
             "\n"
             "Options:\n"
             "  --file FILE         read the spec from FILE ('-' for stdin)\n"
             "  --json              print the new child as one line of JSON\n";
    case Command::terminate_child:
      return "Stop the child NAME of the dynamic supervisor SUP with its shutdown\n"
             "policy and remove it from the supervisor.\n"
             "\n"
             "Options:\n"
             "  --json              print otpd's answer as one line of JSON\n";
    case Command::ping:
      return "Check that otpd answers, and print the round-trip time.\n"
             "\n"
             "Options:\n";
    case Command::version:
      return "Print otpctl's version, and otpd's version and protocol. When otpd\n"
             "cannot be reached, otpctl's version is printed and the exit status is 3.\n"
             "\n"
             "Options:\n"
             "  --json              print otpd's answer as one line of JSON\n";
    case Command::call:
      return "Send MESSAGE to the in-process worker at PATH and print its reply as\n"
             "JSON (docs/workers.md). MESSAGE is JSON, a bare word such as get\n"
             "that stands for the JSON string \"get\", or - to read it from standard\n"
             "input (up to about 1 MiB). An agent takes get,\n"
             "'{\"get\": \"/a/b\"}', '{\"put\": VALUE}' and '{\"update\": PATCH}' (a JSON\n"
             "merge patch). otpd waits up to 5s for the reply (less when --timeout is\n"
             "shorter); the loop that supervises the tree never waits. Exits 1 when\n"
             "PATH is not a running worker, the worker has no JSON interface, it\n"
             "refuses the message, crashes on it or does not reply in time.\n"
             "\n"
             "Options:\n"
             "  --json              print otpd's answer, {\"path\", \"reply\"}, as one line\n";
    case Command::cast:
      return "Send MESSAGE to the in-process worker at PATH without waiting for a\n"
             "reply; MESSAGE as for call. otpd answers once the message is in the\n"
             "worker's mailbox; a message the worker does not understand is dropped\n"
             "(use call to see why). Exits 1 when PATH is not a running worker.\n"
             "\n"
             "Options:\n"
             "  --json              print otpd's answer as one line of JSON\n";
    case Command::health:
      return "Ask whether the tree is ready, as otpd's /readyz does: it has started,\n"
             "is not stopping, and every significant child and every child with\n"
             "ready: runs. Prints \"ready\" or what it waits for. With --live, only\n"
             "whether otpd's loop answers, as /healthz does. Exit status: 0 ready\n"
             "(or live), 1 not ready, 3 otpd could not be reached or did not answer\n"
             "within --timeout.\n"
             "\n"
             "Options:\n"
             "  --live              only check that otpd answers\n"
             "  --json              print otpd's answer as one line of JSON\n";
    case Command::whereis:
      return "Show whether the in-process worker at PATH runs: its path, its kind and\n"
             "its runtime pid, which changes at every restart. Exits 1 when it does\n"
             "not run or PATH is not a worker.\n"
             "\n"
             "Options:\n"
             "  --json              print otpd's answer as one line of JSON\n";
    case Command::help:
      return "Show otpctl's help, or a command's (same as 'otpctl COMMAND --help').\n"
             "\n"
             "Options:\n";
  }
  return {};
}

}  // namespace

std::string full_help(Command command) {
  if (command == Command::help) return top_level_help();
  const CommandSpec& spec = spec_of(command);
  std::string text = usage_line(spec) + "\n";
  text += details(command);
  text += kGlobalOptions;
  text += "\n";
  text += answers_like_systemctl(command) ? kStateExitStatus : kExitStatus;
  return text;
}

std::string short_usage(std::optional<Command> command) {
  if (!command || *command == Command::help) {
    return "usage: otpctl [OPTIONS] COMMAND [ARGS...]\n"
           "Run 'otpctl --help' for the commands and options.\n";
  }
  const CommandSpec& spec = spec_of(*command);
  return usage_line(spec) + "Run 'otpctl " + std::string(spec.name) + " --help' for its options.\n";
}

}  // namespace otpd::ctl
