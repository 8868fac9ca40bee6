#include "cli/arguments.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include "cli/json.hpp"
#include "cli/suggest.hpp"
#include "config/signals.hpp"

namespace otpd::ctl {
namespace {

struct OptionName {
  std::string_view long_name;
  char short_name;  // 0 when none
  bool takes_value;
  unsigned requires_bit;  // 0 for a global option
};

constexpr std::array<OptionName, 14> kOptions{{
    {"--socket", 0, true, 0},
    {"--timeout", 0, true, 0},
    {"--no-color", 0, false, 0},
    {"--help", 'h', false, 0},
    {"--version", 0, false, 0},
    {"--json", 0, false, opt_json},
    {"--follow", 'f', false, opt_follow},
    {"--lines", 'n', true, opt_lines},
    {"--stdout", 0, false, opt_streams},
    {"--stderr", 0, false, opt_streams},
    {"--dry-run", 0, false, opt_dry_run},
    {"--file", 0, true, opt_file},
    {"--live", 0, false, opt_live},
    {"--quiet", 'q', false, opt_quiet},
}};

const OptionName* find_long(std::string_view name) {
  for (const OptionName& option : kOptions) {
    if (option.long_name == name) return &option;
  }
  return nullptr;
}

const OptionName* find_short(char name) {
  for (const OptionName& option : kOptions) {
    if (option.short_name == name) return &option;
  }
  return nullptr;
}

std::string unknown_option(std::string_view written) {
  std::vector<std::string_view> names;
  for (const OptionName& option : kOptions) names.push_back(option.long_name);
  std::string message = "unknown option '" + std::string(written) + "'";
  if (auto guess = nearest(written, names)) message += " (did you mean '" + *guess + "'?)";
  return message;
}

std::string unknown_command(std::string_view written) {
  std::vector<std::string_view> names;
  for (const CommandSpec& spec : command_specs()) names.push_back(spec.name);
  std::string message = "unknown command '" + std::string(written) + "'";
  if (auto guess = nearest(written, names)) message += " (did you mean '" + *guess + "'?)";
  return message;
}

// Collects what argv says, then checks it against the command once the
// command is known, since options may precede it.
class Parser {
 public:
  explicit Parser(const std::vector<std::string>& args) : args_(args) {}

  std::variant<Invocation, UsageError> run() {
    for (next_ = 0; next_ < args_.size();) {
      const std::string& arg = args_[next_++];
      if (options_ended_ || arg.size() < 2 || arg[0] != '-') {
        operand(arg);
      } else if (arg == "--") {
        options_ended_ = true;
      } else if (arg[1] == '-') {
        long_option(arg);
      } else {
        short_options(arg);
      }
    }
    if (inv_.help || inv_.version) {
      inv_.command = command_.value_or(Command::help);
      if (inv_.command == Command::help) help_topic();
      return inv_;
    }
    if (!error_.empty()) return UsageError{error_, command_};
    if (!command_) return UsageError{"no command given", std::nullopt};
    inv_.command = *command_;
    check_against_command();
    if (!error_.empty()) return UsageError{error_, command_};
    return inv_;
  }

 private:
  void fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
  }

  void operand(const std::string& arg) {
    if (command_) {
      operands_.push_back(arg);
      return;
    }
    command_ = command_named(arg);
    if (!command_) fail(unknown_command(arg));
  }

  void long_option(const std::string& arg) {
    const std::size_t equals = arg.find('=');
    const std::string name = arg.substr(0, equals);
    const OptionName* option = find_long(name);
    if (option == nullptr) return fail(unknown_option(name));
    std::optional<std::string> value;
    if (equals != std::string::npos) {
      if (!option->takes_value) return fail("option " + name + " takes no value");
      value = arg.substr(equals + 1);
    }
    apply(*option, name, std::move(value));
  }

  // "-h", "-f", "-n 5", "-n5", and bundles such as "-fn5".
  void short_options(const std::string& arg) {
    for (std::size_t i = 1; i < arg.size(); ++i) {
      const OptionName* option = find_short(arg[i]);
      const std::string written = std::string("-") + arg[i];
      if (option == nullptr) return fail("unknown option '" + written + "'");
      if (option->takes_value && i + 1 < arg.size()) {
        return apply(*option, written, arg.substr(i + 1));
      }
      apply(*option, written, std::nullopt);
    }
  }

  void apply(const OptionName& option, const std::string& written,
             std::optional<std::string> value) {
    if (option.takes_value && !value) {
      if (next_ >= args_.size()) return fail("option " + written + " needs a value");
      value = args_[next_++];
    }
    used_bits_ |= option.requires_bit;
    if (option.requires_bit != 0 && first_specific_.empty()) first_specific_ = written;
    const std::string_view name = option.long_name;
    if (name == "--socket") {
      if (value->empty()) return fail("option --socket needs a path");
      inv_.socket = *value;
    } else if (name == "--timeout") {
      std::string why;
      const auto timeout = parse_duration(*value, why);
      if (!timeout) return fail("option --timeout: " + why);
      if (timeout->count() == 0) return fail("option --timeout must be longer than 0s");
      inv_.timeout = *timeout;
    } else if (name == "--no-color") {
      inv_.no_color = true;
    } else if (name == "--help") {
      inv_.help = true;
    } else if (name == "--version") {
      inv_.version = true;
    } else if (name == "--json") {
      inv_.json = true;
    } else if (name == "--dry-run") {
      inv_.dry_run = true;
    } else if (name == "--live") {
      inv_.live = true;
    } else if (name == "--file") {
      if (value->empty()) return fail("option --file needs a file name ('-' for stdin)");
      inv_.spec_file = *value;
    } else if (name == "--follow") {
      inv_.follow = true;
    } else if (name == "--lines") {
      int n = -1;
      const auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), n);
      if (ec != std::errc{} || end != value->data() + value->size() || n < 0 || n > max_log_lines) {
        return fail("option " + written + " needs a number from 0 to " + lines_limit() + ", not '" +
                    *value + "'");
      }
      lines_written_ = written;
      inv_.backlog = n;
    } else if (name == "--quiet") {
      inv_.quiet = true;
    } else if (name == "--stdout") {
      inv_.only_stdout = true;
    } else if (name == "--stderr") {
      inv_.only_stderr = true;
    }
  }

  // -n may come before the command, which decides its limit: the larger
  // one is checked first, the command's own once the command is known.
  std::string lines_limit() const {
    return std::to_string(command_ == Command::logs || !command_ ? max_log_lines : max_backlog);
  }

  // `otpctl help status` is `otpctl status --help`.
  void help_topic() {
    inv_.help = true;
    if (operands_.empty()) return;
    if (auto topic = command_named(operands_.front())) inv_.command = *topic;
  }

  void check_against_command() {
    const CommandSpec& spec = spec_of(inv_.command);
    if ((used_bits_ & ~spec.options) != 0) {
      return fail("option " + first_inapplicable(spec) + " does not apply to '" +
                  std::string(spec.name) + "'");
    }
    if (inv_.command != Command::logs && inv_.backlog && *inv_.backlog > max_backlog) {
      return fail("option " + lines_written_ + " needs a number from 0 to " +
                  std::to_string(max_backlog) + ", not '" + std::to_string(*inv_.backlog) + "'");
    }
    if (inv_.only_stdout && inv_.only_stderr) {
      return fail("--stdout and --stderr exclude each other; give neither for both");
    }
    switch (spec.operands) {
      case Operands::none:
        if (!operands_.empty()) fail("unexpected argument '" + operands_.front() + "'");
        break;
      case Operands::optional_path:
        if (operands_.size() > 1) fail("at most one PATH, got '" + operands_[1] + "' too");
        inv_.paths = operands_;
        break;
      case Operands::optional_paths:
        inv_.paths = operands_;
        break;
      case Operands::one_path:
        if (operands_.empty()) return fail("which child? give its PATH, e.g. app/api");
        if (operands_.size() > 1) return fail("one PATH only, got '" + operands_[1] + "' too");
        inv_.paths = operands_;
        break;
      case Operands::paths:
        if (operands_.empty()) fail("which child? give at least one PATH");
        inv_.paths = operands_;
        break;
      case Operands::signal_then_paths:
        if (operands_.empty()) return fail("which signal? e.g. 'otpctl signal HUP app/api'");
        if (operands_.size() < 2) return fail("which child? give at least one PATH");
        inv_.signal = operands_.front();
        if (config::signal_number(inv_.signal) == 0) {
          return fail("unknown signal '" + inv_.signal + "'" +
                      config::signal_suggestion(inv_.signal) +
                      "; write a name with or without SIG (HUP, SIGUSR1) or a number");
        }
        inv_.paths.assign(operands_.begin() + 1, operands_.end());
        break;
      case Operands::supervisor_spec: {
        const std::size_t wanted = inv_.spec_file.empty() ? 2 : 1;
        if (operands_.empty()) {
          return fail("which dynamic supervisor? e.g. 'otpctl start-child jobs SPEC'");
        }
        if (operands_.size() < wanted) {
          return fail(
              "which child? give its spec as YAML or JSON, '-' to read it from stdin, "
              "or --file FILE");
        }
        if (operands_.size() > wanted) {
          return fail(wanted == 1 ? "give the spec either as an argument or with --file, not both"
                                  : "unexpected argument '" + operands_[2] + "'");
        }
        inv_.paths = {operands_.front()};
        if (wanted == 2) inv_.spec = operands_[1];
        break;
      }
      case Operands::supervisor_name:
        if (operands_.empty()) {
          return fail("which dynamic supervisor? e.g. 'otpctl terminate-child jobs job1'");
        }
        if (operands_.size() < 2) return fail("which child? give its NAME");
        if (operands_.size() > 2) return fail("unexpected argument '" + operands_[2] + "'");
        inv_.paths = {operands_.front()};
        inv_.child_name = operands_[1];
        break;
      case Operands::path_then_message:
        if (operands_.empty()) return fail("which worker? give its PATH, e.g. app/settings");
        if (operands_.size() < 2) return fail("what message? e.g. get or '{\"put\": 1}'");
        if (operands_.size() > 2) {
          return fail("one MESSAGE, got '" + operands_[2] +
                      "' too (quote the JSON so that it is one argument)");
        }
        inv_.paths = {operands_[0]};
        if (operands_[1] == "-") {
          inv_.message_from_stdin = true;  // read when the command runs
        } else if (!message_json(operands_[1], inv_.message)) {
          return fail("MESSAGE: '" + operands_[1] +
                      "' is not JSON (a bare word such as get is sent as a string)");
        }
        break;
      case Operands::optional_command:
        if (operands_.size() > 1) return fail("help takes one command name");
        inv_.help = true;
        if (!operands_.empty()) {
          const auto topic = command_named(operands_.front());
          if (!topic) return fail(unknown_command(operands_.front()));
          inv_.command = *topic;
        }
        break;
    }
  }

  std::string first_inapplicable(const CommandSpec& spec) const {
    for (const OptionName& option : kOptions) {
      if (option.requires_bit != 0 && (used_bits_ & option.requires_bit) != 0 &&
          (spec.options & option.requires_bit) == 0) {
        return std::string(option.long_name);
      }
    }
    return first_specific_;
  }

  const std::vector<std::string>& args_;
  std::size_t next_ = 0;
  bool options_ended_ = false;
  std::optional<Command> command_;
  std::vector<std::string> operands_;
  unsigned used_bits_ = 0;
  std::string first_specific_;
  std::string lines_written_ = "--lines";
  std::string error_;
  Invocation inv_;
};

}  // namespace

// Bare words spare the common requests their quotes.
bool message_json(const std::string& written, std::string& json) {
  const Json parsed = Json::parse(written, nullptr, false);
  if (!parsed.is_discarded()) {
    json = parsed.dump(-1, ' ', false, Json::error_handler_t::replace);
    return true;
  }
  const bool bare_word =
      !written.empty() && std::all_of(written.begin(), written.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-' || c == '.';
      });
  if (!bare_word) return false;
  json = Json(written).dump();
  return true;
}

std::variant<Invocation, UsageError> parse_arguments(const std::vector<std::string>& args) {
  return Parser(args).run();
}

}  // namespace otpd::ctl
