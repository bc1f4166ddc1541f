#!/usr/bin/env bash
# Runs every test of Defender Desk: formatting, lints, unit, property, fixture, fuzz-regression,
# store and CLI tests, the API docs (rustdoc), the emulators' faithfulness against boto3 and splunk-sdk, the sync
# tests against moto_server and the emulators with a real Secret Service (gnome-keyring in a
# private D-Bus session), the UI (typecheck, vitest, Playwright layout tests with mocked IPC),
# the end-to-end tests of the built app through tauri-driver under Xvfb, the icon set, and the
# .deb and .rpm bundles.
# CI (.ci/run) calls exactly this.
#
# One compile of the dependency graph serves every step (a fresh 2-core machine has no time for
# more; bench/runs/ci-fresh-machine.md). Every cargo command below therefore selects the
# same units with the same features and profile:
# - the same packages (--workspace) and features (the bundle's custom-protocol), so cargo unifies
#   one feature set: building one package alone resolves other features for shared crates;
# - test targets in every build, so dev-dependencies' features (proptest and tempfile turn on
#   rustix/default, under polars, zbus and keyring) are in the app's build too;
# - clippy as the workspace crates' rustc wrapper (what `cargo clippy` itself does), so its lints
#   run while the test build compiles instead of in a second, check-mode build of every crate;
# - the app binary the E2E drives is the one the .deb and .rpm package (`tauri bundle`, no rebuild).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
step() { printf '\n=== %s: %s\n' "$(date -u +%H:%M:%S)" "$*"; }

step "UI: build, vitest, Playwright layout"
# The desktop crate embeds ui/dist at compile time.
npm --prefix ui run build
npm --prefix ui run lint
npm --prefix ui test
npm --prefix ui run test:layout

step "cargo fmt"
cargo fmt --all --check

step "dependency audit: RustSec snapshot and licenses (deny.toml)"
python3 scripts/test_audit_deps.py
python3 scripts/audit_deps.py --db "${DDESK_ADVISORY_DB:-../shared/advisory-db}"

step "emulators against boto3 and splunk-sdk"
VENV="${DDESK_TEST_VENV:-.ci-venv}"
"$VENV/bin/python" tests/emulators/test_emulators.py

# `cargo clippy --all-targets -- -D warnings`, as a wrapper: cargo-clippy passes its arguments to
# clippy-driver the same way (CLIPPY_ARGS, split on __CLIPPY_HACKERY__).
RUSTC_WORKSPACE_WRAPPER="$(rustup which clippy-driver 2>/dev/null || command -v clippy-driver)"
export RUSTC_WORKSPACE_WRAPPER CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
# ddesk/fault-injection: the crash test's switch (never in a shipped build).
units=(--workspace --locked --features defender-desk/custom-protocol,ddesk/fault-injection)

step "build every target once (clippy lints the workspace crates as they compile)"
cargo build "${units[@]}" --lib --bins --tests --examples

step "unit, property, fixture, store, sync and CLI tests"
if command -v cargo-nextest >/dev/null; then
  run_tests="cargo nextest run ${units[*]} --no-fail-fast"
else
  run_tests="cargo test ${units[*]} --no-fail-fast --lib --bins --tests"
fi
# A throwaway keyring: an old login.keyring with another password would block unlocking.
XDG_DATA_HOME="$(mktemp -d)"
export XDG_DATA_HOME
trap 'rm -rf "$XDG_DATA_HOME"' EXIT
dbus-run-session -- bash -c "echo -n test | gnome-keyring-daemon --unlock --components=secrets >/dev/null && $run_tests"

step "doctests"
# nextest does not run doctests.
cargo test "${units[@]}" --doc

step "API docs (rustdoc, warnings denied)"
# Internal items documented too (this is an application: its modules are its documentation).
# Its dependency metadata is a check-mode pass over the graph, the one second compile CI pays
# for (9 min on a fresh 2-core machine; BENCHMARKS.md); the clippy wrapper is not needed here.
RUSTC_WORKSPACE_WRAPPER= RUSTDOCFLAGS="-D warnings -A rustdoc::private_intra_doc_links" \
  cargo doc "${units[@]}" --no-deps --document-private-items

step "the real app in its real webview"
bash scripts/e2e.sh

step "the icon set"
python3 scripts/check_icons.py

step "the Debian and RPM packages"
# AppImage, MSI, NSIS and DMG are configured but need their own OS/tools (release.yml).
bash scripts/bundle.sh deb,rpm --debug --no-build
step "done"
