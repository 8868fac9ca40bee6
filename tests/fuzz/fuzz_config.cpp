// libFuzzer target: any bytes as a config file must load or fail with a
// ConfigError, within the fuzzer's memory and time limits; a config that
// loads must compare equal to itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "config/diff.hpp"
#include "config/error.hpp"
#include "config/loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const otpd::config::Config config = otpd::config::load_string(text, "fuzz.yaml", "/");
    const otpd::config::TreeDiff same = otpd::config::diff(config, config);
    if (!same.empty() || same.control_changed) std::abort();
  } catch (const otpd::config::ConfigError&) {
    // The expected end of most inputs: a message with a place.
  }
  return 0;
}
