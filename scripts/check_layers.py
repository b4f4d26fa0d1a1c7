#!/usr/bin/python3
"""The layer rules of docs/architecture.md, checked on the sources: one line
per offending include or call, exit 1 when there is any. Run by ctest as
"layers: include rules".

    scripts/check_layers.py [REPO]

Rules (src/<folder>/ is one layer; include/signvote/ is the public API):
  - the public headers include only <system> and "signvote/..." headers;
  - server/ reaches no worker/, nn/ or data/ code;
  - worker/ reaches no server/ code;
  - nn/ (the layers) never sees MPI (<mpi.h>, comm/);
  - no two folders include each other (a cycle names both directions);
  - python/ includes only public headers and its own;
  - every folder's library links (directly or through another layer) the
    library of each folder it includes (src/<folder>/CMakeLists.txt), so the
    link graph is the include graph; util/ is header-only;
  - MPI and NCCL calls (MPI_Xxx( / ncclXxx() are spelled only in src/comm/;
  - no config mode name is compared, or parsed again, after parse_config
    (src/ and python/ outside src/config/): `cfg.<section>.<key> == "..."`,
    `x.<enum key> == "..."` / `<enum key>_ == "..."` (the keys of the tables in
    include/signvote/config_enums.h, plus name and method) and
    `parse_xxx(cfg.<section>.<key>)` / `ops_named(cfg...)`; read the `*_kind`
    enum fields instead.
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
FORBIDDEN = {"server": ("worker/", "nn/", "data/"), "worker": ("server/",), "nn": ("comm/", "mpi.h"),
             "launch": ("comm/", "mpi.h", "worker/", "server/", "core/")}
CALL = re.compile(r"\b(MPI_[A-Z][A-Za-z_]*|nccl[A-Z][A-Za-z]*)\s*\(")
# Config mode names after parsing (the rule in the docstring).
SECTIONS = "run|cluster|model|data|optimizer|aggregation|adversary|probes|faults"
ENUM_TABLE = re.compile(r'SIGNVOTE_ENUM_TABLE\(\w+,\s*"\w+\.(\w+)"')
HEADER_ONLY = {"util"}  # folders without a library
# Header-only parts of a folder that has a library, used without linking it:
# methods/ needs only comm/wire.h's RoundFormat (linking comm would bring MPI
# into a library that has none). Headers without a same-named source file
# (kernels/cuda_check.h, ...) count as header-only on their own.
HEADER_ONLY_USES = {("methods", "comm/wire.h")}
LINKED = re.compile(r"target_link_libraries\(\s*(\S+)([^)]*)\)", re.S)
DEFINED = re.compile(r"(?:signvote_layer|add_library|add_executable)\(\s*(signvote\S*)")


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


def calls(path):
    """(line, name) of each MPI_/nccl call outside // comments."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, 1):
            code = line.split("//", 1)[0]
            for m in CALL.finditer(code):
                yield n, m.group(1)


def mode_name_rules(root):
    """Regexes for a config mode name compared or parsed after parse_config."""
    with open(os.path.join(root, "include/signvote/config_enums.h"), encoding="utf-8") as fh:
        keys = sorted(set(ENUM_TABLE.findall(fh.read())) | {"name", "method"})
    names = "|".join(keys)
    return [
        re.compile(rf'\b\w+\.(?:{SECTIONS})\.\w+\s*[!=]=\s*"'),         # cfg.model.device == "cuda"
        re.compile(rf'(?:\.(?:{names})|\b(?:{names})_)\s*[!=]=\s*"'),     # o.schedule == "step", mode_ != "x"
        re.compile(rf'\b(?:parse_\w+|ops_named)\(\s*[\w.]*\b\w+\.(?:{SECTIONS})\.\w+\s*\)'),  # parse_x(cfg.a.b)
    ]


def check_mode_names(root):
    bad = []
    rules = mode_name_rules(root)
    for sub in ("src", "python"):
        for path in sources(root, sub):
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            if rel.startswith("src/config/"):
                continue  # parsing itself
            with open(path, encoding="utf-8", errors="replace") as fh:
                for n, line in enumerate(fh, 1):
                    code = line.split("//", 1)[0].strip()
                    if not any(r.search(code) for r in rules):
                        continue
                    bad.append(f"{rel}:{n}: config mode name after parsing: {code} (read the *_kind enum field, signvote/config_enums.h)")
    return bad


def link_graph(src, folders):
    """folder -> set of folders its targets link, transitively (from CMake)."""
    owner, edges = {}, {}
    for f in folders:
        path = os.path.join(src, f, "CMakeLists.txt")
        if not os.path.exists(path):
            continue
        text = open(path, encoding="utf-8").read()
        for t in DEFINED.findall(text):
            owner[t] = f
        for t, libs in LINKED.findall(text):
            edges.setdefault(t, set()).update(x for x in libs.split() if x.startswith("signvote_"))
    direct = {}
    for t, libs in edges.items():
        if t in owner:
            direct.setdefault(owner[t], set()).update(owner[x] for x in libs if x in owner)
    closure = {}
    for f in direct:
        seen, todo = set(), [f]
        while todo:
            for g in direct.get(todo.pop(), ()):
                if g not in seen:
                    seen.add(g)
                    todo.append(g)
        closure[f] = seen
    return closure, set(owner.values())


def needs_link(src, me, inc, head, with_lib):
    """Whether including `inc` from folder `me` needs head/'s library."""
    if me not in with_lib or head not in with_lib or head in HEADER_ONLY or (me, inc) in HEADER_ONLY_USES:
        return False
    stem = os.path.splitext(os.path.join(src, inc))[0]
    return any(os.path.exists(stem + ext) for ext in (".cpp", ".cu"))


def check_src(root, src, folders):
    bad, edges = [], {}
    closure, with_lib = link_graph(src, folders)
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
                if needs_link(src, me, inc, head, with_lib) and head not in closure.get(me, ()):
                    bad.append(f"{rel}:{n}: {me}/ includes {inc}, but src/{me}/CMakeLists.txt does not link {head}/'s library")
    for (a, b), where in sorted(edges.items()):
        if a < b and (b, a) in edges:
            bad.append(f"{where} and {edges[(b, a)]}: {a}/ and {b}/ include each other")
    return bad


def check_calls(root):
    bad = []
    for sub in ("src", "python"):
        for path in sources(root, sub):
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            if rel.startswith("src/comm/"):
                continue
            for n, name in calls(path):
                bad.append(f"{rel}:{n}: calls {name} outside src/comm/ (use comm/collectives.h, comm/mpi_calls.h)")
    return bad


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
    src = os.path.join(root, "src")
    folders = sorted(d for d in os.listdir(src) if os.path.isdir(os.path.join(src, d)))
    bad = check_src(root, src, folders)
    for path in sources(root, "include/signvote"):
        for n, kind, inc in includes(path):
            if kind == '"' and not inc.startswith("signvote/"):
                bad.append(f"{os.path.relpath(path, root)}:{n}: a public header includes {inc}")
    for path in sources(root, "python"):
        for n, kind, inc in includes(path):
            if kind == '"' and not inc.startswith("signvote/") and "/" in inc:
                bad.append(f"{os.path.relpath(path, root)}:{n}: the Python module includes {inc} (public headers only)")
    bad += check_calls(root)
    bad += check_mode_names(root)
    for b in bad:
        print(b)
    print(f"check_layers: {len(bad)} offending include(s) or call(s)" if bad else "check_layers: ok")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
