#!/usr/bin/env bash
# Installs what building and testing Defender Desk needs, when it is missing (Debian/Ubuntu).
# Safe to run repeatedly: it only installs what `command -v` cannot find.
set -euo pipefail

need_apt=()
command -v cc >/dev/null || need_apt+=(build-essential)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
command -v python3 >/dev/null || need_apt+=(python3 python3-venv)
command -v curl >/dev/null || need_apt+=(curl ca-certificates)
python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
# A real Secret Service for the keychain tests, in a private D-Bus session.
command -v dbus-run-session >/dev/null || need_apt+=(dbus dbus-daemon)
command -v gnome-keyring-daemon >/dev/null || need_apt+=(gnome-keyring)
# The Splunk TLS test makes its own CA.
command -v openssl >/dev/null || need_apt+=(openssl)
# The desktop app: Tauri 2 on WebKitGTK (build and run).
pkg-config --exists webkit2gtk-4.1 2>/dev/null || need_apt+=(libwebkit2gtk-4.1-dev libxdo-dev libssl-dev libayatana-appindicator3-dev librsvg2-dev)
command -v node >/dev/null || need_apt+=(nodejs npm)
if [ "${DDESK_DEPS:-test}" = test ]; then
  # End-to-end tests: a virtual display, WebKit's WebDriver, Chromium for the layout tests.
  command -v xvfb-run >/dev/null || need_apt+=(xvfb xauth)
  command -v WebKitWebDriver >/dev/null || need_apt+=(webkit2gtk-driver)
  command -v chromium >/dev/null || need_apt+=(chromium)
  # The .rpm's check: Debian's rpm (rpm -qp, rpm2cpio); the bundle itself needs no rpmbuild.
  command -v rpm2cpio >/dev/null || need_apt+=(rpm)
fi

if ((${#need_apt[@]})); then
  if ! command -v apt-get >/dev/null; then
    echo "missing: ${need_apt[*]} (install them with your package manager)" >&2
    exit 1
  fi
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${need_apt[@]}"
fi

if ! command -v cargo >/dev/null; then
  echo "Rust is missing: install it from your distribution or with rustup (https://rustup.rs)" >&2
  exit 1
fi

# The UI's npm packages, at the versions in ui/package-lock.json. `npm install --no-save`, not
# `npm ci`: npm 11 leaves other platforms' optional binaries (@rollup/*, @tauri-apps/cli-*) out
# of a lock file written on Linux, and `npm ci` then refuses it as out of sync.
if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
  npm --prefix ui install --no-save --no-audit --no-fund --loglevel=error
fi

[ "${DDESK_DEPS:-test}" = test ] || exit 0

# tauri-driver 2 (crates.io's newest is a 3.0 alpha: pin the major).
if ! command -v tauri-driver >/dev/null; then
  cargo install tauri-driver --locked --version '^2'
fi

# Protocol peers for the sync and action tests: moto_server (S3, IoT, STS), boto3 and
# splunk-sdk (the official clients that prove the emulators faithful), and the Athena
# emulator's engine: sqlglot (Trino SQL to DuckDB's) and DuckDB. Pinned, in a venv.
VENV="${DDESK_TEST_VENV:-.ci-venv}"
if [ ! -x "$VENV/bin/moto_server" ] || ! "$VENV/bin/python" -c 'import splunklib, splunk_handler, boto3, selenium, duckdb, sqlglot' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check 'moto[server]==5.2.5' 'splunk-sdk==2.1.1' 'splunk_handler==3.0.0' 'selenium==4.51.0' 'duckdb==2.0.1' 'sqlglot==30.31.0'
fi
