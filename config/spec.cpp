#include "config/spec.hpp"

#include <array>
#include <cstdint>

namespace otpd::config {

const char* to_string(Strategy strategy) {
  switch (strategy) {
    case Strategy::one_for_one:
      return "one_for_one";
    case Strategy::one_for_all:
      return "one_for_all";
    case Strategy::rest_for_one:
      return "rest_for_one";
  }
  return "unknown";
}

const char* to_string(WorkerKind kind) {
  switch (kind) {
    case WorkerKind::agent:
      return "agent";
    case WorkerKind::health_check:
      return "health_check";
    case WorkerKind::cron:
      return "cron";
    case WorkerKind::file_watch:
      return "file_watch";
  }
  return "unknown";
}

const ProcessSpec* WorkerSpec::command() const {
  if (const auto* check = std::get_if<HealthCheckSettings>(&settings)) {
    return check->probe == HealthCheckSettings::Probe::exec ? &check->command : nullptr;
  }
  if (const auto* cron = std::get_if<CronSettings>(&settings)) return &cron->command;
  return nullptr;
}

const char* to_string(CronSettings::Overlap overlap) {
  switch (overlap) {
    case CronSettings::Overlap::skip:
      return "skip";
    case CronSettings::Overlap::queue:
      return "queue";
    case CronSettings::Overlap::kill:
      return "kill";
  }
  return "unknown";
}

const char* to_string(HealthCheckSettings::Probe probe) {
  switch (probe) {
    case HealthCheckSettings::Probe::tcp:
      return "tcp";
    case HealthCheckSettings::Probe::http:
      return "http";
    case HealthCheckSettings::Probe::exec:
      return "exec";
  }
  return "unknown";
}

const char* to_string(KillMode mode) {
  return mode == KillMode::group ? "group" : "process";
}

const char* to_string(RestartType restart) {
  switch (restart) {
    case RestartType::permanent:
      return "permanent";
    case RestartType::transient:
      return "transient";
    case RestartType::temporary:
      return "temporary";
  }
  return "unknown";
}

const char* to_string(AutoShutdown auto_shutdown) {
  switch (auto_shutdown) {
    case AutoShutdown::never:
      return "never";
    case AutoShutdown::any_significant:
      return "any_significant";
    case AutoShutdown::all_significant:
      return "all_significant";
  }
  return "unknown";
}

const char* to_string(Readiness::Kind kind) {
  switch (kind) {
    case Readiness::Kind::none:
      return "none";
    case Readiness::Kind::notify:
      return "notify";
    case Readiness::Kind::fd:
      return "fd";
    case Readiness::Kind::tcp:
      return "tcp";
    case Readiness::Kind::exec:
      return "exec";
    case Readiness::Kind::delay:
      return "delay";
  }
  return "unknown";
}

const char* to_string(Streams streams) {
  return streams == Streams::merged ? "merged" : "separate";
}

const char* to_string(Output output) {
  switch (output) {
    case Output::log:
      return "log";
    case Output::file:
      return "file";
    case Output::inherit:
      return "inherit";
    case Output::discard:
      return "discard";
  }
  return "unknown";
}

std::string to_string(const Shutdown& shutdown) {
  switch (shutdown.kind) {
    case Shutdown::Kind::brutal_kill:
      return "brutal_kill";
    case Shutdown::Kind::infinity:
      return "infinity";
    case Shutdown::Kind::timeout:
      return format_duration(shutdown.timeout);
  }
  return "unknown";
}

std::string format_memory(std::uint64_t bytes) {
  if (bytes == CgroupLimits::unlimited) return "max";
  constexpr std::array<std::pair<std::uint64_t, char>, 3> units{{{std::uint64_t{1} << 30, 'G'},
                                                                 {std::uint64_t{1} << 20, 'M'},
                                                                 {std::uint64_t{1} << 10, 'K'}}};
  for (const auto& [factor, unit] : units) {
    if (bytes >= factor && bytes % factor == 0) return std::to_string(bytes / factor) + unit;
  }
  return std::to_string(bytes);
}

std::string format_cpu(const CgroupLimits::Cpu& cpu) {
  if (cpu.quota == CgroupLimits::unlimited) {
    return cpu.period == CgroupLimits::Cpu{}.period ? "max" : "max " + std::to_string(cpu.period);
  }
  // Tenths of a percent, the precision the config accepts.
  if ((cpu.quota * 1000) % cpu.period == 0) {
    const std::uint64_t tenths = cpu.quota * 1000 / cpu.period;
    std::string text = std::to_string(tenths / 10);
    if (tenths % 10 != 0) text += "." + std::to_string(tenths % 10);
    if (cpu.period == CgroupLimits::Cpu{}.period) return text + "%";
  }
  return std::to_string(cpu.quota) + " " + std::to_string(cpu.period);
}

}  // namespace otpd::config
