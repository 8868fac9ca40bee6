#include "supervise/program_hints.hpp"

#include <array>
#include <string_view>

namespace otpd::supervise {
namespace {

struct Hint {
  std::string_view program;  // a name, or a prefix ending in '*'
  std::string_view advice;
};

bool matches(std::string_view pattern, std::string_view name) {
  if (!pattern.empty() && pattern.back() == '*') {
    return name.substr(0, pattern.size() - 1) == pattern.substr(0, pattern.size() - 1);
  }
  return pattern == name;
}

constexpr std::array kForeground{
    Hint{"nginx", "nginx: daemon off; in nginx.conf, or -g 'daemon off;'"},
    Hint{"redis-server", "redis-server: --daemonize no"},
    Hint{"pg_ctl", "run postgres -D DATADIR itself: pg_ctl starts it in the background"},
    Hint{"pg_ctlcluster",
         "run postgres -D DATADIR itself: pg_ctlcluster starts it in the background"},
    Hint{"apache2", "apache2: -D FOREGROUND"},
    Hint{"httpd", "httpd: -D FOREGROUND"},
    Hint{"apachectl", "run apache2 -D FOREGROUND rather than apachectl"},
    Hint{"sshd", "sshd: -D"},
    Hint{"php-fpm*", "php-fpm: --nodaemonize"},
    Hint{"memcached", "memcached: leave out -d"},
    Hint{"haproxy", "haproxy: leave out -D and daemon in its configuration"},
    Hint{"dnsmasq", "dnsmasq: --keep-in-foreground"},
    Hint{"rsyslogd", "rsyslogd: -n"},
    Hint{"cron", "cron: -f"},
    Hint{"mysqld_safe", "run mysqld itself: mysqld_safe is a wrapper that stays in the background"},
};

constexpr std::array kNotify{
    Hint{"redis-server", "redis-server: --supervised systemd"},
    Hint{"postgres", "postgres sends it when built with systemd support, as Debian's is"},
    Hint{"nginx", "nginx has no sd_notify: use ready: {tcp: PORT}"},
};

std::string_view advice_for(const auto& hints, const std::string& program) {
  for (const Hint& hint : hints) {
    if (matches(hint.program, program)) return hint.advice;
  }
  return {};
}

std::string last_part(std::string_view path) {
  const auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

}  // namespace

std::string program_name(const config::ProcessSpec& spec) {
  if (spec.argv.empty()) return {};
  if (!spec.via_shell) return last_part(spec.argv.front());
  // "exec /usr/sbin/nginx -g ..." or a single command: its first word. A
  // script of several commands runs no one program.
  std::string_view script = spec.argv.back();
  const auto start = script.find_first_not_of(" \t\n");
  const auto last = script.find_last_not_of(" \t\n");
  if (start == std::string_view::npos) return {};
  script = script.substr(start, last - start + 1);
  const bool exec = script.substr(0, 5) == "exec " || script.substr(0, 5) == "exec\t";
  if (exec) script.remove_prefix(5);
  if (!exec && script.find_first_of("\n;&|") != std::string_view::npos) return {};
  script.remove_prefix(std::min(script.find_first_not_of(" \t"), script.size()));
  const auto end = std::min(script.find_first_of(" \t\n;&|"), script.size());
  if (script.substr(0, end).find('=') != std::string_view::npos) return {};  // VAR=value cmd
  return last_part(script.substr(0, end));
}

std::string daemonize_advice(const std::string& program) {
  const std::string_view known = advice_for(kForeground, program);
  return (program.empty() ? std::string("the program") : program) +
         " seems to daemonize: run it in the foreground (" +
         (known.empty() ? std::string("most daemons have an option for it, such as --foreground, "
                                      "--nodaemon or -f")
                        : std::string(known)) +
         ")";
}

std::string notify_advice(const std::string& program) {
  const std::string_view known = advice_for(kNotify, program);
  if (!known.empty()) return std::string(known);
  return "the program must send READY=1 to $NOTIFY_SOCKET itself (sd_notify); one that cannot "
         "wants another ready: (tcp, exec or fd)";
}

}  // namespace otpd::supervise
