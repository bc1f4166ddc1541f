#!/usr/bin/env bash
# Installs what building and testing Defender Desk needs, when it is missing (Debian/Ubuntu).
# Safe to run repeatedly: it only installs what `command -v` cannot find.
set -euo pipefail

need_apt=()
command -v cc >/dev/null || need_apt+=(build-essential)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
command -v python3 >/dev/null || need_apt+=(python3 python3-venv)
command -v curl >/dev/null || need_apt+=(curl ca-certificates)

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
