// libFuzzer target: any bytes sent as a start_child spec must give a child
// spec or a ConfigError, within the fuzzer's memory and time limits.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "config/error.hpp"
#include "config/loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const otpd::config::ChildSpec child =
        otpd::config::load_child_string(text, "start_child", "/", otpd::config::Output::discard);
    if (child.name.empty()) std::abort();
  } catch (const otpd::config::ConfigError&) {
  }
  return 0;
}
