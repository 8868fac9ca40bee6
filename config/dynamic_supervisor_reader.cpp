#include "config/dynamic_supervisor_reader.hpp"

#include <array>

#include "config/backoff_reader.hpp"

namespace otpd::config {
namespace {

// Far above what one supervisor can hold, low enough to stay an int.
constexpr long long kMostChildren = 10'000'000;

struct DynamicKey {
  std::string_view name;
  void (*read)(const Field&, SupervisorSpec&);
};

constexpr std::array<DynamicKey, 5> kDynamicKeys{{
    // The tree reader chose this reader by it.
    {"kind", [](const Field&, SupervisorSpec&) {}},
    {"max_children",
     [](const Field& f, SupervisorSpec& s) {
       s.max_children = static_cast<int>(f.integer(1, kMostChildren));
     }},
    {"intensity",
     [](const Field& f, SupervisorSpec& s) {
       s.intensity = static_cast<int>(f.integer(0, 1'000'000));
     }},
    {"period", [](const Field& f, SupervisorSpec& s) { s.period = f.positive_duration(); }},
    {"backoff", [](const Field& f, SupervisorSpec& s) { s.backoff = read_backoff(f); }},
}};

}  // namespace

SupervisorSpec read_dynamic_supervisor(const Field& worker) {
  std::vector<std::string_view> names;
  for (const DynamicKey& key : kDynamicKeys) names.push_back(key.name);

  SupervisorSpec spec;
  spec.dynamic = true;
  spec.strategy = Strategy::one_for_one;
  for (const Field& entry : worker.entries()) {
    const DynamicKey* key = nullptr;
    for (const DynamicKey& candidate : kDynamicKeys) {
      if (candidate.name == entry.key()) key = &candidate;
    }
    if (key == nullptr) {
      if (entry.key() == "strategy" || entry.key() == "children") {
        throw ConfigError(entry.key_location(),
                          "'" + entry.key() +
                              "': a dynamic supervisor is always one_for_one and starts with no "
                              "children; add them at run time with 'otpctl start-child'");
      }
      fail_unknown_key(entry, names);
    }
    key->read(entry, spec);
  }
  return spec;
}

}  // namespace otpd::config
