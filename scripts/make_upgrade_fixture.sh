#!/usr/bin/env bash
# Makes tests/fixtures/caches/NAME.sqlite with an earlier version of Defender Desk, so the
# upgrade test reads a cache that version really wrote: its own `ddesk demo` and `ddesk ingest`
# write it, and its own `Store::fingerprint` reads it (NAME.fingerprint, what the upgraded
# cache must match). The two fixtures kept:
#   bash scripts/make_upgrade_fixture.sh 944bf3d schema14-f2   # the previous version: chunk format 2, summaries format 1
#   bash scripts/make_upgrade_fixture.sh fc0b62f schema14-f1   # the one before: chunk and summary format 1
# Run from the repository root.
set -euo pipefail
REV="$1"
NAME="$2"
out="$PWD/tests/fixtures/caches"
work="$(mktemp -d)"
git worktree add --detach "$work/prev" "$REV" >/dev/null
trap 'git worktree remove --force "$work/prev"; rm -rf "$work"' EXIT
cat > "$work/prev/crates/engine/examples/fingerprint.rs" <<'RS'
fn main() {
    let path = std::env::args().nth(1).expect("cache path");
    let store = desk_engine::store::Store::open(std::path::Path::new(&path)).expect("opens");
    println!("{}", store.fingerprint().expect("fingerprint"));
}
RS
# One build of both (one feature set: building the example alone would resolve other features).
(cd "$work/prev" && cargo build --locked -p ddesk -p desk-engine --bin ddesk --example fingerprint)
bin="${CARGO_TARGET_DIR:-$work/prev/target}/debug"
db="$work/$NAME.sqlite"
# The demo fleet (counts, numbers, port and address sets), then the export fixtures: a
# dimensioned series, duplicates with versions, epoch seconds.
"$bin/ddesk" --db "$db" demo --things 3 --days 2 --end 2026-11-01T00:00:00Z >/dev/null
"$bin/ddesk" --db "$db" ingest tests/fixtures/export-batch.json tests/fixtures/export-duplicates-v1.json \
  tests/fixtures/export-duplicates-v2.json tests/fixtures/export-seconds.json >/dev/null
python3 - "$db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
assert c.execute("PRAGMA user_version").fetchone()[0] == 14
c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
c.execute("PRAGMA journal_mode=DELETE")
# 4 KiB pages: every empty table costs one page, and the fixture lives in the repository.
c.execute("PRAGMA page_size=4096")
c.execute("VACUUM")
c.close()
PY
"$bin/examples/fingerprint" "$db" > "$out/$NAME.fingerprint"
cp "$db" "$out/$NAME.sqlite"
ls -l "$out"
