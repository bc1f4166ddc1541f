#!/usr/bin/env python3
"""Tests of scripts/audit_deps.py: version requirements, license expressions, and that an
advisory fails the audit unless ignored, and a stale ignore fails it too."""

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import audit_deps as a  # noqa: E402

ADVISORY = """```toml
[advisory]
id = "RUSTSEC-2099-0001"
package = "demo-crate"
date = "2099-01-01"
{extra}
[versions]
patched = [">= 0.20.0"]
unaffected = ["< 0.15.0"]
```

# A flaw
"""


def check_requirements():
    assert a.matches_req("0.18.5", ">=0.15.0, <0.20.0")
    assert not a.matches_req("0.20.0", ">=0.15.0, <0.20.0")
    assert a.matches_req("0.3.9", "^0.3.1") and not a.matches_req("0.4.0", "^0.3.1")
    assert a.matches_req("1.9.0", "1.2") and not a.matches_req("2.0.0", "1.2")
    assert a.matches_req("1.2.9", "~1.2.3") and not a.matches_req("1.3.0", "~1.2.3")
    assert a.matches_req("0.3.1", "=0.3.1") and not a.matches_req("0.3.2", "=0.3.1")
    assert not a.matches_req("2.0.0-alpha.1", ">= 2.0.0")


def check_licenses():
    allow = {"MIT", "Apache-2.0", "Unicode-3.0"}
    assert a.license_ok("MIT OR Apache-2.0", allow)
    assert a.license_ok("MIT/Apache-2.0", allow)
    assert a.license_ok("(MIT OR Apache-2.0) AND Unicode-3.0", allow)
    assert a.license_ok("Apache-2.0 WITH LLVM-exception", allow)
    assert not a.license_ok("MIT AND GPL-3.0-only", allow)
    assert not a.license_ok("GPL-3.0-only", allow)


def check_advisories():
    with tempfile.TemporaryDirectory() as d:
        db = Path(d)
        (db / "crates" / "demo-crate").mkdir(parents=True)
        md = db / "crates" / "demo-crate" / "RUSTSEC-2099-0001.md"
        md.write_text(ADVISORY.format(extra=""))
        pkg = lambda v: [{"name": "demo-crate", "version": v, "source": "registry+https://x"}]  # noqa: E731
        problems, _ = a.audit_advisories(db, pkg("0.18.0"), {})
        assert len(problems) == 1 and "RUSTSEC-2099-0001" in problems[0], problems
        assert a.audit_advisories(db, pkg("0.20.1"), {}) == ([], [])
        assert a.audit_advisories(db, pkg("0.14.0"), {}) == ([], [])
        problems, accepted = a.audit_advisories(db, pkg("0.18.0"), {"RUSTSEC-2099-0001": "why"})
        assert problems == [] and "accepted: why" in accepted[0]
        problems, _ = a.audit_advisories(db, pkg("0.20.1"), {"RUSTSEC-2099-0001": "why"})
        assert "no longer applies" in problems[0], problems
        md.write_text(ADVISORY.format(extra='withdrawn = "2099-02-01"'))
        assert a.audit_advisories(db, pkg("0.18.0"), {}) == ([], [])


if __name__ == "__main__":
    check_requirements()
    check_licenses()
    check_advisories()
    print("audit_deps self-test: requirements, licenses, advisories ok")
