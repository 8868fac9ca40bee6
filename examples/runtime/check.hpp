// How the examples check their results: each check is printed, and a wrong
// one ends the program with status 1, which fails its meson test.
#pragma once

#include <cstdio>
#include <cstdlib>

inline void check(bool ok, const char* what) {
  std::printf("%s: %s\n", ok ? "ok" : "WRONG", what);
  if (!ok) std::exit(1);
}
