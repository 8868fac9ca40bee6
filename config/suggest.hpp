// "Did you mean ...?" for misspelt keys and values.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace otpd::config {

// Edit distance counting insertions, deletions, substitutions and swaps of
// two neighbouring characters (the commonest typo), ignoring case.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `written`, or nothing when even the nearest is too
// far to be a plausible typo: more than max(2, length/3) edits, or as many
// edits as `written` has characters, or `written` longer than 128
// characters. Ties go to the earlier candidate.
std::optional<std::string> nearest(std::string_view written,
                                   const std::vector<std::string_view>& candidates);

// " (did you mean 'X'?)" or "" — ready to append to an error message.
std::string did_you_mean(std::string_view written, const std::vector<std::string_view>& candidates);

}  // namespace otpd::config
