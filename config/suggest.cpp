#include "config/suggest.hpp"

#include <algorithm>
#include <cctype>

namespace otpd::config {
namespace {

// Longer text is not taken for a misspelling of anything.
constexpr std::size_t kLongestTypo = 128;

char fold(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

}  // namespace

std::size_t edit_distance(std::string_view a, std::string_view b) {
  const std::size_t rows = a.size() + 1;
  const std::size_t cols = b.size() + 1;
  std::vector<std::size_t> d(rows * cols);
  auto at = [&](std::size_t i, std::size_t j) -> std::size_t& { return d[i * cols + j]; };
  for (std::size_t i = 0; i < rows; ++i) at(i, 0) = i;
  for (std::size_t j = 0; j < cols; ++j) at(0, j) = j;
  for (std::size_t i = 1; i < rows; ++i) {
    for (std::size_t j = 1; j < cols; ++j) {
      const std::size_t cost = fold(a[i - 1]) == fold(b[j - 1]) ? 0 : 1;
      at(i, j) = std::min({at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost});
      const bool swapped =
          i > 1 && j > 1 && fold(a[i - 1]) == fold(b[j - 2]) && fold(a[i - 2]) == fold(b[j - 1]);
      if (swapped) at(i, j) = std::min(at(i, j), at(i - 2, j - 2) + 1);
    }
  }
  return at(rows - 1, cols - 1);
}

std::optional<std::string> nearest(std::string_view written,
                                   const std::vector<std::string_view>& candidates) {
  // The distance costs time and memory in the product of the lengths, and
  // text of any length may arrive: a typo of a key is short.
  if (written.size() > kLongestTypo) return std::nullopt;
  const std::size_t limit = std::max<std::size_t>(2, written.size() / 3);
  std::optional<std::string_view> best;
  std::size_t best_distance = 0;
  for (std::string_view candidate : candidates) {
    // At least the difference in length apart.
    const std::size_t apart = written.size() > candidate.size() ? written.size() - candidate.size()
                                                                : candidate.size() - written.size();
    if (apart > limit) continue;
    const std::size_t distance = edit_distance(written, candidate);
    if (distance > limit || distance >= written.size()) continue;
    if (!best || distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  if (!best) return std::nullopt;
  return std::string(*best);
}

std::string did_you_mean(std::string_view written,
                         const std::vector<std::string_view>& candidates) {
  auto match = nearest(written, candidates);
  if (!match) return {};
  return " (did you mean '" + *match + "'?)";
}

}  // namespace otpd::config
