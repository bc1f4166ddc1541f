#!/usr/bin/env bash
# Builds installable bundles with the Tauri CLI (from ui/node_modules):
#   scripts/bundle.sh deb            release .deb (what users install)
#   scripts/bundle.sh deb --debug    debug .deb, reusing the test build (what CI checks)
# tauri.conf.json also configures AppImage, MSI, NSIS and DMG, which need their own OS or
# download their tooling at build time.
set -euo pipefail
cd "$(dirname "$0")/.."
bundles="${1:-deb}"
shift || true
cd src-tauri
../ui/node_modules/.bin/tauri build --bundles "$bundles" --ci "$@" -- --locked
target="${CARGO_TARGET_DIR:-../target}"
find "$target" -path '*/bundle/*' -name '*.deb' -newer tauri.conf.json -printf '%p\n' 2>/dev/null | head -5
