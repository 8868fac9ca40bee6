// Reads the `logs:` section (where captured child output goes, how large a
// file grows before it is rotated, how much is kept) and the per-process
// `output` key that chooses among the places.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "config/spec.hpp"
#include "config/yaml_reader.hpp"

namespace otpd::config {

inline constexpr std::array<Choice<Output>, 4> kOutputs{{
    {"log", Output::log},
    {"file", Output::file},
    {"inherit", Output::inherit},
    {"discard", Output::discard},
}};

inline constexpr std::array<Choice<Streams>, 2> kStreams{{
    {"merged", Streams::merged},
    {"separate", Streams::separate},
}};

LogsSpec read_logs(const Field& logs);

// "10MiB", "512KiB", "1G", "4096": a byte count. K, M, G and KiB, MiB, GiB
// are powers of 1024; KB, MB, GB powers of 1000; B or no unit, bytes.
// Nothing when the text is not such a size or overflows.
std::optional<std::uint64_t> parse_size(std::string_view text);

// Every process child that did not choose an `output` gets `fallback`, and
// one that did not choose its `streams` gets `streams`.
void apply_default_output(SupervisorSpec& tree, Output fallback, Streams streams = Streams::merged);

}  // namespace otpd::config
