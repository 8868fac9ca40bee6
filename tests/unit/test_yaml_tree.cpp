// The compact YAML tree the config readers read: the same document yaml-cpp
// itself would build (order, duplicates, aliases, tags, places), in a
// fraction of the memory.
#include <doctest/doctest.h>

#include <string>

#include "config/yaml_document.hpp"

using namespace otpd::config;

namespace {

const Source kSource{"t.yaml", "/srv/app"};

std::unique_ptr<const YamlTree> parse(const std::string& text) {
  return parse_single_document(text, kSource, "empty");
}

}  // namespace

TEST_SUITE("yaml tree") {
  TEST_CASE("mappings keep their pairs in file order, duplicates too") {
    const auto tree = parse("b: 1\na: [x, {y: 2}]\nb: 3\n");
    const YamlNode root = tree->root();
    REQUIRE(root.IsMap());
    REQUIRE(root.size() == 3);
    CHECK(root.key(0).Scalar() == "b");
    CHECK(root.key(1).Scalar() == "a");
    CHECK(root.key(2).Scalar() == "b");
    // The first pair of a key wins a lookup; the reader refuses the second.
    CHECK(root["b"].Scalar() == "1");
    const YamlNode list = root["a"];
    REQUIRE(list.IsSequence());
    REQUIRE(list.size() == 2);
    CHECK(list.element(0).Scalar() == "x");
    CHECK(list.element(1)["y"].Scalar() == "2");
    CHECK_FALSE(root["missing"]);
    CHECK_FALSE(list["y"]);                    // a list has no keys
    CHECK_FALSE(list.element(2).IsDefined());  // nor elements past its end
  }

  TEST_CASE("nested containers each keep their own contents") {
    const auto tree = parse("- [1, [2, 3], 4]\n- {a: [5], b: {c: 6}}\n- 7\n");
    const YamlNode root = tree->root();
    REQUIRE(root.size() == 3);
    const YamlNode first = root.element(0);
    REQUIRE(first.size() == 3);
    CHECK(first.element(0).Scalar() == "1");
    CHECK(first.element(1).element(1).Scalar() == "3");
    CHECK(first.element(2).Scalar() == "4");
    CHECK(root.element(1)["a"].element(0).Scalar() == "5");
    CHECK(root.element(1)["b"]["c"].Scalar() == "6");
    CHECK(root.element(2).Scalar() == "7");
  }

  TEST_CASE("null, plain and quoted scalars, and tags, as yaml-cpp reads them") {
    const auto tree = parse("a:\nb: ~\nc: null\nd: 'null'\ne: plain\nf: \"quoted\"\ng: !x t\n");
    const YamlNode root = tree->root();
    CHECK(root["a"].IsNull());
    CHECK(root["b"].IsNull());
    CHECK(root["c"].IsNull());
    CHECK(root["d"].IsScalar());
    CHECK(root["d"].Tag() == "!");
    CHECK(root["e"].Tag() == "?");
    CHECK(root["f"].Scalar() == "quoted");
    CHECK(root["f"].Tag() == "!");
    CHECK(root["g"].Scalar() == "t");
    CHECK(root["g"].Tag() == "!x");
    CHECK(root["a"].Scalar().empty());
  }

  TEST_CASE("an alias is the node its anchor names, at the anchor's place") {
    const auto tree = parse("base: &b {x: 1, y: [2]}\nuse: *b\nlist: [&s v, *s]\n");
    const YamlNode root = tree->root();
    const YamlNode use = root["use"];
    REQUIRE(use.IsMap());
    CHECK(use["x"].Scalar() == "1");
    CHECK(use["y"].element(0).Scalar() == "2");
    CHECK(use.Mark().line == root["base"].Mark().line);
    CHECK(use.Mark().column == root["base"].Mark().column);
    CHECK(root["list"].element(1).Scalar() == "v");
  }

  TEST_CASE("marks are where each node begins") {
    const auto tree = parse("tree:\n  children:\n    - name: a\n");
    const YamlNode name = tree->root()["tree"]["children"].element(0)["name"];
    CHECK(name.Mark().line == 2);
    CHECK(name.Mark().column == 12);
    CHECK(YamlNode().Mark().is_null());
  }

  TEST_CASE("an empty document is refused with the caller's words") {
    CHECK_THROWS_WITH(parse("# nothing\n"), "t.yaml: empty");
    CHECK_THROWS_WITH(parse("~\n"), "t.yaml: empty");
  }
}
