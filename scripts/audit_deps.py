#!/usr/bin/env python3
"""Offline dependency audit: every crate in the build graph against a RustSec advisory-db snapshot,
and every package's license against the allow list — with `deny.toml` (cargo-deny's own format)
as the one place where an accepted advisory says why.

This network cannot fetch the RustSec database, and cargo-deny costs a long compile on a
2-core CI machine; this script reads the same data (the snapshot's `crates/<name>/*.md` TOML
front matter, `cargo metadata`'s license fields) and fails the same way.

    python3 scripts/audit_deps.py [--db ../shared/advisory-db]

Exit 0 when clean, 1 with one line per problem. A withdrawn advisory is skipped; an
informational one (unmaintained, unsound, notice) counts like a vulnerability, as cargo-deny
does for the workspace's own graph, unless `deny.toml` ignores it with a reason.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------- semver requirements


def parse_version(v: str) -> tuple[int, int, int, tuple]:
    """`1.2.3-alpha.1+build` -> (1, 2, 3, pre); a pre-release sorts before its release."""
    v = v.strip().split("+", 1)[0]
    core, _, pre = v.partition("-")
    parts = [int(x) for x in core.split(".")]
    while len(parts) < 3:
        parts.append(0)
    # () sorts after any non-empty tuple only if we make releases compare greater:
    pre_key = (1,) if not pre else (0, tuple(int(p) if p.isdigit() else p for p in pre.split(".")))
    return (parts[0], parts[1], parts[2], pre_key)


def _caret_upper(parts: list[int], given: int) -> tuple:
    major, minor, patch = parts
    if major > 0 or given == 1:
        return (major + 1, 0, 0, (0, ()))
    if minor > 0 or given == 2:
        return (0, minor + 1, 0, (0, ()))
    return (0, 0, patch + 1, (0, ()))


def matches_comparator(version: tuple, comp: str) -> bool:
    comp = comp.strip()
    m = re.fullmatch(r"(>=|<=|>|<|=|\^|~)?\s*v?(\d+)(?:\.(\d+|\*))?(?:\.(\d+|\*))?(-[0-9A-Za-z.-]+)?", comp)
    if not m:
        raise ValueError(f"unreadable version requirement {comp!r}")
    op = m.group(1) or "^"
    nums = [g for g in m.group(2, 3, 4) if g is not None and g != "*"]
    given = len(nums)
    parts = [int(x) for x in nums] + [0] * (3 - given)
    base = parse_version(".".join(map(str, parts)) + (m.group(5) or ""))
    if op == ">=":
        return version >= base
    if op == ">":
        return version > base
    if op == "<":
        return version < base
    if op == "<=":
        return version <= base
    if op == "=":
        if given == 3:
            return version == base
        upper = (parts[0] + 1, 0, 0, (0, ())) if given == 1 else (parts[0], parts[1] + 1, 0, (0, ()))
        return base <= version < upper
    if op == "~":
        upper = (parts[0] + 1, 0, 0, (0, ())) if given == 1 else (parts[0], parts[1] + 1, 0, (0, ()))
        return base <= version < upper
    return base <= version < _caret_upper(parts, given)  # caret (also a bare version)


def matches_req(version: str, req: str) -> bool:
    """A requirement is comparators joined by commas, all of which must hold."""
    v = parse_version(version)
    return all(matches_comparator(v, c) for c in req.split(",") if c.strip())


# ---------------------------------------------------------------- advisories


def advisory_of(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    m = re.search(r"```toml\n(.*?)\n```", text, re.S)
    if not m:
        raise ValueError(f"{path}: no TOML front matter")
    return tomllib.loads(m.group(1))


def affected(adv: dict, version: str) -> bool:
    versions = adv.get("versions", {})
    for req in versions.get("patched", []) + versions.get("unaffected", []):
        if matches_req(version, req):
            return False
    return True


def audit_advisories(db: Path, packages: list[dict], ignored: dict[str, str]) -> tuple[list[str], list[str]]:
    problems, accepted = [], []
    seen_ignored = set()
    for pkg in packages:
        if not str(pkg.get("source") or "").startswith("registry+"):
            continue
        folder = db / "crates" / pkg["name"]
        if not folder.is_dir():
            continue
        for md in sorted(folder.glob("*.md")):
            adv = advisory_of(md)
            a = adv["advisory"]
            if a.get("withdrawn") or not affected(adv, pkg["version"]):
                continue
            what = a.get("informational") or "vulnerability"
            title = re.search(r"^# (.+)$", md.read_text(encoding="utf-8"), re.M)
            line = f"{a['id']} ({what}) {pkg['name']} {pkg['version']}: {title.group(1) if title else ''}"
            if a["id"] in ignored:
                seen_ignored.add(a["id"])
                accepted.append(f"{line}\n    accepted: {ignored[a['id']]}")
            else:
                problems.append(line)
    for stale in sorted(set(ignored) - seen_ignored):
        problems.append(f"{stale} is ignored in deny.toml but no longer applies: remove the ignore")
    return problems, accepted


# ---------------------------------------------------------------- licenses


def _tokens(expr: str) -> list[str]:
    return re.findall(r"\(|\)|[A-Za-z0-9.+\-]+", expr.replace("/", " OR "))


def license_ok(expr: str, allow: set[str]) -> bool:
    """Whether an SPDX expression can be satisfied with allowed licenses (AND binds tighter
    than OR; `X WITH exception` counts as X)."""
    toks = _tokens(expr)
    pos = 0

    def primary() -> bool:
        nonlocal pos
        if toks[pos] == "(":
            pos += 1
            v = disj()
            pos += 1  # ')'
            return v
        name = toks[pos]
        pos += 1
        if pos < len(toks) and toks[pos] == "WITH":
            pos += 2
        return name.rstrip("+") in allow or name in allow

    def conj() -> bool:
        nonlocal pos
        v = primary()
        while pos < len(toks) and toks[pos] == "AND":
            pos += 1
            v = primary() and v
        return v

    def disj() -> bool:
        nonlocal pos
        v = conj()
        while pos < len(toks) and toks[pos] == "OR":
            pos += 1
            v = conj() or v
        return v

    return disj()


def metadata() -> dict:
    """The build graph as cargo resolves it for every target (what cargo-deny checks): packages
    that only an inactive feature would pull in are not in it, though Cargo.lock lists them."""
    return json.loads(
        subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--locked"],
            cwd=ROOT, check=True, capture_output=True, text=True,
        ).stdout
    )


def in_graph(meta: dict) -> list[dict]:
    """The packages cargo builds for some target with the features the workspace turns on
    (`cargo tree`, every target, normal, build and dev edges) — not every optional package that
    `cargo metadata` and Cargo.lock list."""
    out = subprocess.run(
        ["cargo", "tree", "--workspace", "--target", "all", "-e", "normal,build,dev",
         "--prefix", "none", "--format", "{p}", "--locked"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    built = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].startswith("v"):
            built.add((parts[0], parts[1][1:]))
    return [p for p in meta["packages"] if (p["name"], p["version"]) in built]


def audit_licenses(config: dict, meta: dict) -> list[str]:
    lic = config.get("licenses", {})
    allow = set(lic.get("allow", []))
    exceptions = {(e["name"], e.get("allow", [None])[0]) for e in lic.get("exceptions", [])}
    clarified = {e["name"]: e["expression"] for e in lic.get("clarify", [])}
    workspace = set(meta["workspace_members"])
    problems = []
    for p in in_graph(meta):
        if p["id"] in workspace:
            continue
        expr = clarified.get(p["name"]) or p.get("license")
        if not expr:
            problems.append(f"{p['name']} {p['version']}: no SPDX license (only {p.get('license_file')}); clarify it in deny.toml")
            continue
        if license_ok(expr, allow):
            continue
        if any(n == p["name"] for n, _ in exceptions):
            continue
        problems.append(f"{p['name']} {p['version']}: license {expr!r} is not allowed by deny.toml")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", type=Path, default=ROOT.parent / "shared" / "advisory-db")
    ap.add_argument("--skip-licenses", action="store_true", help="advisories only")
    args = ap.parse_args()
    if not (args.db / "crates").is_dir():
        print(f"audit: no advisory-db snapshot at {args.db} (pass --db)", file=sys.stderr)
        return 1
    config = tomllib.loads((ROOT / "deny.toml").read_text())
    ignored = {i["id"]: i["reason"] for i in config.get("advisories", {}).get("ignore", [])}
    meta = metadata()
    packages = in_graph(meta)
    snapshot = (args.db / "SNAPSHOT").read_text().strip() if (args.db / "SNAPSHOT").exists() else "unknown snapshot"
    problems, accepted = audit_advisories(args.db, packages, ignored)
    if not args.skip_licenses:
        problems += audit_licenses(config, meta)
    print(f"audit: {len(packages)} crates in the build graph against {snapshot}")
    for a in accepted:
        print(f"  {a}")
    for p in problems:
        print(f"  PROBLEM {p}")
    print("audit: ok" if not problems else f"audit: {len(problems)} problem(s)")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
