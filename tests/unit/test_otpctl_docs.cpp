// docs/otpctl.md's options table says which commands take --json, -f and
// -n: it must name exactly those otpctl's own table gives them.
#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "cli/commands.hpp"

using namespace otpd::ctl;

namespace {

std::string read_docs() {
  std::ifstream file(OTPD_SOURCE_DIR "/docs/otpctl.md");
  REQUIRE(file.good());
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// The row of the options table that starts with `option`.
std::string row_of(const std::string& docs, const std::string& option) {
  const std::size_t at = docs.find("\n| " + option + " |");
  REQUIRE(at != std::string::npos);
  return docs.substr(at + 1, docs.find('\n', at + 1) - at - 1);
}

// The command names written in backquotes in the meaning of a row; where
// it lists them after ": " ("for every command but `help`: `status`, ..."),
// only those.
std::set<std::string> commands_in(const std::string& row) {
  std::set<std::string> names;
  const std::size_t meaning = row.find(" | ", 2) + 3;
  const std::size_t list = row.find(": `", meaning);
  std::size_t at = list == std::string::npos ? meaning : list;
  while ((at = row.find('`', at)) != std::string::npos) {
    const std::size_t end = row.find('`', at + 1);
    const std::string word = row.substr(at + 1, end - at - 1);
    if (command_named(word)) names.insert(word);
    at = end + 1;
  }
  return names;
}

std::set<std::string> commands_with(unsigned option) {
  std::set<std::string> names;
  for (const CommandSpec& spec : command_specs()) {
    if (spec.options & option) names.insert(std::string(spec.name));
  }
  return names;
}

}  // namespace

TEST_CASE("docs/otpctl.md names the commands that take --json, -f and -n, no more, no fewer") {
  const std::string docs = read_docs();
  CHECK(commands_in(row_of(docs, "`--json`")) == commands_with(opt_json));
  CHECK(commands_in(row_of(docs, "`-f`, `--follow`")) == commands_with(opt_follow));
  CHECK(commands_in(row_of(docs, "`-n N`, `--lines N`")) == commands_with(opt_lines));
}
