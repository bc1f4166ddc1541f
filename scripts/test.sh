#!/usr/bin/env bash
# Runs every test of Defender Desk: formatting, lints, unit, property, fixture, fuzz-regression,
# store and CLI tests, the emulators' faithfulness against boto3 and splunk-sdk, the sync
# tests against moto_server and the emulators with a real Secret Service (gnome-keyring in a
# private D-Bus session), the UI (typecheck, vitest, Playwright layout tests with mocked IPC),
# the end-to-end tests of the built app through tauri-driver under Xvfb, and the .deb bundle.
# CI (.ci/run) calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"

# The UI first: the desktop crate embeds ui/dist at compile time.
npm --prefix ui run build
npm --prefix ui test
npm --prefix ui run test:layout

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings

VENV="${DDESK_TEST_VENV:-.ci-venv}"
"$VENV/bin/python" tests/emulators/test_emulators.py

if command -v cargo-nextest >/dev/null; then
  run_tests="cargo nextest run --workspace --locked --no-fail-fast"
else
  run_tests="cargo test --workspace --locked --no-fail-fast --lib --bins --tests"
fi
# A throwaway keyring: an old login.keyring with another password would block unlocking.
XDG_DATA_HOME="$(mktemp -d)"
export XDG_DATA_HOME
trap 'rm -rf "$XDG_DATA_HOME"' EXIT
dbus-run-session -- bash -c "echo -n test | gnome-keyring-daemon --unlock --components=secrets >/dev/null && $run_tests"
# nextest does not run doctests.
cargo test --workspace --locked --doc

# The real app in its real webview.
cargo build --workspace --locked
bash scripts/e2e.sh

# The Debian package (AppImage, MSI, NSIS and DMG are configured but need their own OS/tools).
bash scripts/bundle.sh deb --debug
