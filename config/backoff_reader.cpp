#include "config/backoff_reader.hpp"

#include <array>
#include <optional>

namespace otpd::config {
namespace {

constexpr double kSmallestFactor = 1.0;

struct BackoffDraft {
  Backoff value;
  std::optional<Field> initial;
  std::optional<Field> max;
  std::optional<Field> reset_after;
};

struct BackoffKey {
  std::string_view name;
  void (*read)(const Field&, BackoffDraft&);
};

constexpr std::array<BackoffKey, 4> kBackoffKeys{{
    {"initial",
     [](const Field& f, BackoffDraft& d) {
       d.value.initial = f.positive_duration();
       d.initial = f;
     }},
    {"max",
     [](const Field& f, BackoffDraft& d) {
       d.value.max = f.positive_duration();
       d.max = f;
     }},
    {"factor",
     [](const Field& f, BackoffDraft& d) { d.value.factor = f.number_at_least(kSmallestFactor); }},
    {"reset_after",
     [](const Field& f, BackoffDraft& d) {
       d.value.reset_after = f.positive_duration();
       d.reset_after = f;
     }},
}};

}  // namespace

Backoff read_backoff(const Field& field) {
  field.require_mapping("a mapping with initial, max, factor and reset_after");
  std::vector<std::string_view> names;
  for (const BackoffKey& key : kBackoffKeys) names.push_back(key.name);

  BackoffDraft draft;
  for (const Field& entry : field.entries()) {
    const BackoffKey* key = nullptr;
    for (const BackoffKey& candidate : kBackoffKeys) {
      if (candidate.name == entry.key()) key = &candidate;
    }
    if (!key) fail_unknown_key(entry, names);
    key->read(entry, draft);
  }

  Backoff& backoff = draft.value;
  if (backoff.max < backoff.initial) {
    if (draft.max) {
      draft.max->fail("must not be shorter than initial (" + format_duration(backoff.initial) +
                      "), found '" + draft.max->text() + "'");
    }
    draft.initial->fail("longer than the default max (" + format_duration(backoff.max) +
                        "): set max too");
  }
  if (!draft.reset_after) backoff.reset_after = backoff.max;
  return backoff;
}

}  // namespace otpd::config
