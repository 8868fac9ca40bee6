// `- include:` among a supervisor's children: conf.d directories, patterns,
// errors that name the included file, cycles and bounds.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "config/loader.hpp"
#include "temp_dir.hpp"

using namespace otpd::config;
using Names = std::vector<std::string>;

namespace {

// A config directory: DIR/otpd.yaml and the files it includes.
struct ConfDir {
  otpd::test::TempDir dir;
  std::string path(const std::string& name) const { return dir.path(name); }
  std::string write(const std::string& name, const std::string& text) const {
    std::filesystem::create_directories(std::filesystem::path(path(name)).parent_path());
    dir.write(name, text);
    return path(name);
  }
  Config load(const std::string& yaml) const { return load_file(write("otpd.yaml", yaml)); }
  std::string error_of(const std::string& yaml) const {
    try {
      load(yaml);
    } catch (const ConfigError& error) {
      return error.what();
    }
    return "(loaded)";
  }
};

Names names(const SupervisorSpec& supervisor) {
  Names result;
  for (const ChildSpec& child : supervisor.children) result.push_back(child.name);
  return result;
}

std::string child(const std::string& name) {
  return "  - {name: " + name + ", command: [" + name + "]}\n";
}

}  // namespace

TEST_SUITE("config: include") {
  TEST_CASE("a directory's *.yaml and *.yml files, by name, in the place of the entry") {
    ConfDir conf;
    conf.write("conf.d/20-b.yaml", "children:\n" + child("b"));
    conf.write("conf.d/10-a.yml", "children:\n" + child("a1") + child("a2"));
    conf.write("conf.d/.hidden.yaml", "children:\n" + child("hidden"));
    conf.write("conf.d/notes.txt", "not yaml");
    conf.write("conf.d/30-c.yaml.dpkg-old", "children:\n" + child("old"));
    const Config config = conf.load(
        "tree:\n  children:\n    - {name: first, command: [f]}\n    - include: conf.d\n"
        "    - {name: last, command: [l]}\n");
    CHECK(names(config.tree) == Names{"first", "a1", "a2", "b", "last"});
  }

  TEST_CASE("a pattern in the last part of the path; a drop-in directory not made yet is empty") {
    ConfDir conf;
    conf.write("conf.d/web.yaml", "children:\n" + child("web"));
    conf.write("conf.d/web.yaml.disabled", "children:\n" + child("no"));
    const Config config = conf.load("tree:\n  children:\n    - include: [conf.d/*.yaml, " +
                                    conf.path("later.d") + "/*.yaml]\n");
    CHECK(names(config.tree) == Names{"web"});
  }

  TEST_CASE("relative paths in an included file start in its own directory") {
    ConfDir conf;
    std::filesystem::create_directories(conf.path("pkg/data"));
    conf.write("pkg/app.yaml",
               "children:\n  - {name: app, command: [app], cwd: data}\n"
               "  - name: group\n    children:\n      - include: more/*.yaml\n");
    conf.write("pkg/more/x.yaml", "children:\n" + child("x"));
    const Config config = conf.load("tree:\n  children:\n    - include: pkg/app.yaml\n");
    CHECK(config.tree.children.at(0).process().cwd == conf.path("pkg/data"));
    CHECK(names(config.tree.children.at(1).supervisor()) == Names{"x"});
  }

  TEST_CASE("errors name the included file, line and column, with the config's own") {
    ConfDir conf;
    const std::string a = conf.write("conf.d/a.yaml", "children:\n  - name: a\n    comand: [a]\n");
    const std::string b =
        conf.write("conf.d/b.yaml", "children:\n  - name: b\n    command: [b]\n    restart: x\n");
    const std::string main = conf.path("otpd.yaml");
    const std::string all =
        conf.error_of("tree:\n  strategy: none\n  children:\n    - include: conf.d\n");
    CHECK(all == main +
                     ":2:13: strategy: expected one of one_for_one, one_for_all, rest_for_one, "
                     "found 'none'\n" +
                     a + ":3:5: unknown key 'comand' (did you mean 'command'?)\n" + b +
                     ":4:14: restart: expected one of permanent, transient, temporary, found 'x'");
  }

  TEST_CASE("the included files' errors count with the config's; reading stops in its name") {
    ConfDir conf;
    for (int i = 10; i < 40; ++i) {
      conf.write("conf.d/" + std::to_string(i) + ".yaml",
                 "children:\n  - {name: a, comand: [a]}\n");
    }
    const std::string all = conf.error_of("tree:\n  children:\n    - include: conf.d\n");
    CHECK(all.starts_with(conf.path("conf.d/10.yaml") + ":2:15: unknown key 'comand'"));
    CHECK(all.substr(all.rfind('\n') + 1) ==
          conf.path("otpd.yaml") + ": too many errors; stopped after 20");
  }

  TEST_CASE("a name used in two files is a duplicate, and says where it was first used") {
    ConfDir conf;
    const std::string a = conf.write("conf.d/a.yaml", "children:\n" + child("web"));
    CHECK(conf.error_of("tree:\n  children:\n    - include: conf.d\n    - name: web\n"
                        "      command: [w]\n") ==
          conf.path("otpd.yaml") + ":4:13: duplicate child name 'web' (first used at " + a + ":2)");
  }

  TEST_CASE("what an include may not be") {
    ConfDir conf;
    const std::string main = conf.path("otpd.yaml");
    CHECK(conf.error_of("tree:\n  children:\n    - include: nowhere.yaml\n") ==
          main + ":3:16: include: '" + conf.path("nowhere.yaml") + "' does not exist");
    CHECK(conf.error_of("tree:\n  children:\n    - include: '*/x.yaml'\n") ==
          main + ":3:16: include: '*/x.yaml': a wildcard may be only in the last part of the path");
    CHECK(conf.error_of("tree:\n  children:\n    - {include: a.yaml, restart: transient}\n") ==
          main +
              ":3:25: an include entry has only the key 'include': the children's settings are in "
              "the files it names");
    CHECK(conf.error_of("tree:\n  children:\n    - include: {a: b}\n") ==
          main +
              ":3:16: include: expected a path, a directory or a pattern such as conf.d/*.yaml, "
              "or a list, found a mapping");
    const std::string odd = conf.write("odd.yaml", "tree: {}\n");
    CHECK(conf.error_of("tree:\n  children:\n    - include: odd.yaml\n") ==
          odd + ":1:1: unknown key 'tree' (valid keys: children)");
    const std::string empty = conf.write("empty.yaml", "# nothing yet\n");
    CHECK(conf.error_of("tree:\n  children:\n    - include: empty.yaml\n") ==
          empty + ": the file is empty; it needs 'children', a list of children");
  }

  TEST_CASE("a child spec sent to start_child includes nothing") {
    CHECK_THROWS_WITH_AS(
        load_child_string("{name: g, children: [{include: /etc}]}", "spec", "/tmp", Output::log),
        "spec:1:23: include: only a config file includes other files, not a child spec",
        ConfigError);
  }

  TEST_CASE("a file that includes itself, at any distance, is a cycle") {
    ConfDir conf;
    const std::string a = conf.write("a.yaml", "children:\n  - include: b.yaml\n");
    const std::string b = conf.write("b.yaml", "children:\n  - include: a.yaml\n");
    const std::string main = conf.path("otpd.yaml");
    CHECK(conf.error_of("tree:\n  children:\n    - include: a.yaml\n") ==
          b + ":2:14: include: an include cycle: " + main + " includes " + a + " includes " + b +
              " includes " + a);
    CHECK(conf.error_of("tree:\n  children:\n    - include: otpd.yaml\n") ==
          main + ":3:16: include: an include cycle: " + main + " includes " + main);
  }

  TEST_CASE("includes nest at most 8 deep") {
    ConfDir conf;
    for (int i = 1; i <= 9; ++i) {
      conf.write(std::to_string(i) + ".yaml",
                 "children:\n  - include: " + std::to_string(i + 1) + ".yaml\n");
    }
    conf.write("10.yaml", "children: []\n");
    CHECK(conf.error_of("tree:\n  children:\n    - include: 1.yaml\n") ==
          conf.path("8.yaml") + ":2:14: include: included files include others more than 8 deep");
    conf.write("8.yaml", "children: []\n");
    CHECK(conf.error_of("tree:\n  children:\n    - include: 1.yaml\n") == "(loaded)");
  }

  TEST_CASE("at most 256 files, 100,000 entries looked at, and 16 MiB with the config") {
    ConfDir conf;
    for (int i = 0; i < 257; ++i)
      conf.write("many/" + std::to_string(i) + ".yaml", "children: []\n");
    CHECK(conf.error_of("tree:\n  children:\n    - include: many\n") ==
          conf.path("otpd.yaml") + ":3:16: include: more than 256 files in " + conf.path("many"));
    std::filesystem::remove(conf.path("many/0.yaml"));
    CHECK(conf.error_of("tree:\n  children:\n    - include: many\n    - include: many/1.yaml\n") ==
          conf.path("otpd.yaml") + ":4:16: include: more than 256 included files in all");

    // Patterns that match nothing still cost a look each.
    std::string patterns;
    for (int i = 0; i < 100'001; ++i) patterns += "n/*,";
    CHECK(conf.error_of("tree:\n  children:\n    - include: [" + patterns + "]\n")
              .ends_with("include: includes look through more than 100000 directory entries and "
                         "patterns in all"));

    // One comment line: the cheapest 9 MiB to read.
    const std::string padding = "#" + std::string(9 << 20, 'x') + "\n";
    conf.write("big/1.yaml", "children: []\n" + padding);
    conf.write("big/2.yaml", "children: []\n" + padding);
    CHECK(conf.error_of("tree:\n  children:\n    - include: big\n") ==
          conf.path("otpd.yaml") +
              ":3:16: include: the config and its included files hold more than 16 MiB together");
  }
}
