#!/usr/bin/env bash
# Builds the UI and the desktop app, then starts Defender Desk. With no source configured it
# opens on the demo fleet (a simulated account in its own file, never mixed with real data).
# Installs missing Debian/Ubuntu packages first. Extra arguments go to the app.
#   DDESK_DB=/path/cache.sqlite  use another cache (default: the OS data dir)
set -euo pipefail
cd "$(dirname "$0")/.."
DDESK_DEPS=run bash scripts/deps.sh
npm --prefix ui run build --silent
cargo build --workspace --locked
app="${CARGO_TARGET_DIR:-target}/debug/defender-desk"
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "no display: run this from a desktop session (or under xvfb-run for a headless check)" >&2
  exit 1
fi
exec "$app" "$@"
