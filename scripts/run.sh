#!/usr/bin/env bash
# Runs Defender Desk on the demo fleet. Until the desktop shell lands, that is the `ddesk`
# command line: it loads the demo fleet into its own cache (never your real one) and shows
# the fleet, its violations and the rogue FTP server's port drift.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cargo build --release --locked -q -p ddesk
bin="${CARGO_TARGET_DIR:-target}/release/ddesk"
db="${DDESK_DEMO_DB:-${XDG_DATA_HOME:-$HOME/.local/share}/defender-desk/demo.sqlite}"
mkdir -p "$(dirname "$db")"
rm -f "$db" "$db-wal" "$db-shm"
"$bin" --db "$db" demo >/dev/null
echo "DEMO fleet loaded into $db"
echo; echo "== Things =="; "$bin" --db "$db" things --format table
echo; echo "== Violations =="; "$bin" --db "$db" violations --format table
echo; echo "== Port drift of gw-plant-03 (rogue FTP on 21) =="; "$bin" --db "$db" drift --thing gw-plant-03 --format table
echo; echo "Explore further:  $bin --db $db --help"
