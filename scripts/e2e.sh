#!/usr/bin/env bash
# End-to-end tests of the built app in its real webview: Xvfb, a private D-Bus session with an
# unlocked gnome-keyring, tauri-driver + WebKitWebDriver, selenium (tests/e2e/test_app.py).
# Screenshots of every step land in e2e-artifacts/.   Usage: scripts/e2e.sh [--bench N]
# DDESK_E2E_PROFILE=release drives the release build (what users install) instead of the dev one.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
profile="${DDESK_E2E_PROFILE:-debug}"
app="$target/$profile/defender-desk"
ddesk="$target/$profile/ddesk"
[ -x "$app" ] && [ -x "$ddesk" ] || { echo "build first: cargo build --workspace --features defender-desk/custom-protocol${DDESK_E2E_PROFILE:+ --release}" >&2; exit 1; }
VENV="${DDESK_TEST_VENV:-.ci-venv}"
rm -rf e2e-artifacts && mkdir -p e2e-artifacts
XDG_DATA_HOME="$(mktemp -d)"
export XDG_DATA_HOME
# Caches with data but no Device Defender source act through the default AWS credential chain:
# never the developer's own ~/.aws, nor the instance metadata service, from a test.
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/nonexistent/aws-config AWS_SHARED_CREDENTIALS_FILE=/nonexistent/aws-credentials
unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
trap 'rm -rf "$XDG_DATA_HOME"' EXIT
# A 1280x800 screen: the smallest laptop the window must fit (the configured 1440x900 does not).
# A WebDriver command that never returns fails the run instead of hanging CI.
timeout --kill-after=10 "${DDESK_E2E_TIMEOUT:-1200}" \
  xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- bash -c '
  echo -n test | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  exec "$0" tests/e2e/test_app.py "$1" "$2" e2e-artifacts/screens "${@:3}"' \
  "$VENV/bin/python" "$app" "$ddesk" "$@"
