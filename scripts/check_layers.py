#!/usr/bin/python3
"""The include rules of docs/architecture.md's layers, checked on the
sources: one line per offending include, exit 1 when there is any.

    scripts/check_layers.py [REPO]

Rules (src/<folder>/ is one layer; include/signvote/ is the public API):
  - the public headers include only <system> and "signvote/..." headers;
  - server/ reaches no worker/, nn/ or data/ code;
  - worker/ reaches no server/ code;
  - nn/ (the layers) never sees MPI (<mpi.h>, comm/);
  - no two folders include each other (a cycle names both directions);
  - python/ includes only public headers and its own.
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
FORBIDDEN = {"server": ("worker/", "nn/", "data/"), "worker": ("server/",), "nn": ("comm/", "mpi.h")}


def sources(root, sub):
    for d, _, files in os.walk(os.path.join(root, sub)):
        for f in sorted(files):
            if f.endswith((".h", ".hpp", ".cpp", ".cu", ".cuh")):
                yield os.path.join(d, f)


def includes(path):
    with open(path, encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, 1):
            m = INCLUDE.match(line)
            if m:
                yield n, m.group(1), m.group(2)


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
    src = os.path.join(root, "src")
    folders = sorted(d for d in os.listdir(src) if os.path.isdir(os.path.join(src, d)))
    bad, edges = [], {}
    for path in sources(root, "src"):
        rel = os.path.relpath(path, root)
        me = rel.split(os.sep)[1]
        for n, kind, inc in includes(path):
            head = inc.split("/")[0]
            for f in FORBIDDEN.get(me, ()):
                if inc.startswith(f) or inc == f:
                    bad.append(f"{rel}:{n}: {me}/ includes {inc} (rule: {me}/ never reaches {f})")
            if kind == '"' and head in folders and head != me:
                edges.setdefault((me, head), f"{rel}:{n}: {inc}")
    for (a, b), where in sorted(edges.items()):
        if a < b and (b, a) in edges:
            bad.append(f"{where} and {edges[(b, a)]}: {a}/ and {b}/ include each other")
    for path in sources(root, "include/signvote"):
        for n, kind, inc in includes(path):
            if kind == '"' and not inc.startswith("signvote/"):
                bad.append(f"{os.path.relpath(path, root)}:{n}: a public header includes {inc}")
    for path in sources(root, "python"):
        for n, kind, inc in includes(path):
            if kind == '"' and not inc.startswith("signvote/") and "/" in inc:
                bad.append(f"{os.path.relpath(path, root)}:{n}: the Python module includes {inc} (public headers only)")
    for b in bad:
        print(b)
    print(f"check_layers: {len(bad)} offending include(s)" if bad else "check_layers: ok")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
