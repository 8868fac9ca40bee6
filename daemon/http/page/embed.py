#!/usr/bin/env python3
"""Writes a C++ file that holds the status page's files, so that otpd serves
them from its binary: embed.py OUT.cpp FILE... (each FILE served at /NAME)."""
import os
import sys

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}


def main():
    out, files = sys.argv[1], sys.argv[2:]
    lines = ['#include "http/routes.hpp"', "", "namespace otpd::http {", "namespace {", ""]
    entries = []
    for i, path in enumerate(files):
        with open(path, "rb") as f:
            data = f.read()
        name = os.path.basename(path)
        body = ",".join(str(b) for b in data)
        lines.append(f"constexpr char kFile{i}[] = {{{body},0}};")
        entries.append(f'    {{"/{name}", "{TYPES[os.path.splitext(name)[1]]}", '
                       f"std::string_view(kFile{i}, {len(data)})}},")
    lines += ["", "constexpr PageAsset kAssets[] = {"] + entries + ["};", "", "}  // namespace", ""]
    lines += [
        "const PageAsset* find_page_asset(std::string_view path) {",
        "  for (const PageAsset& asset : kAssets) {",
        "    if (asset.path == path) return &asset;",
        "  }",
        "  return nullptr;",
        "}",
        "",
        "}  // namespace otpd::http",
        "",
    ]
    with open(out, "w") as f:
        f.write("\n".join(lines))


main()
