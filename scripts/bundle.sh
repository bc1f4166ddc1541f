#!/usr/bin/env bash
# Builds installable bundles with the Tauri CLI (from ui/node_modules):
#   scripts/bundle.sh deb                       release .deb (what users install)
#   scripts/bundle.sh deb --debug               debug .deb
#   scripts/bundle.sh rpm                       release .rpm (tauri's bundler writes it: no rpmbuild)
#   scripts/bundle.sh deb,rpm --debug --no-build  debug .deb and .rpm of the binary already built
#       with `cargo build --workspace --features defender-desk/custom-protocol` (what CI checks:
#       the binary its E2E tests drove, with no second compile)
# Each package is checked: its files (the binary, the desktop entry registering defender-desk://
# and passing the link, the icons, the license), its declared dependencies (WebKitGTK 4.1), and
# the binary, installed into a scratch root, starts (`--version`). The .rpm is read with Debian's
# `rpm` tool. tauri.conf.json also configures AppImage, MSI, NSIS and DMG, which need their own
# OS or download their tooling at build time (.github/workflows/release.yml builds them).
set -euo pipefail
cd "$(dirname "$0")/.."
bundles="${1:-deb}"
shift || true
build=yes flags=()
for a in "$@"; do
  case "$a" in
    --no-build) build=no ;;
    *) flags+=("$a") ;;
  esac
done
cd src-tauri
stamp="$(mktemp)"
tauri=../ui/node_modules/.bin/tauri
if [ "$build" = yes ]; then
  "$tauri" build --bundles "$bundles" --ci "${flags[@]}" -- --locked
else
  "$tauri" bundle --bundles "$bundles" --ci --features custom-protocol "${flags[@]}"
fi
newest() { find "${CARGO_TARGET_DIR:-../target}" -path "*/bundle/$1/*" -name "*.$1" -newer "$stamp" | head -1; }
# The desktop entry registers the deep-link scheme and hands the link to the app (`%u`).
check_entry() {
  grep -qx 'MimeType=x-scheme-handler/defender-desk' <<<"$2" || { echo "$1: the desktop entry does not register defender-desk://" >&2; exit 1; }
  grep -qE '^Exec=defender-desk %u$' <<<"$2" || { echo "$1: the desktop entry does not pass the link (%u)" >&2; exit 1; }
}
# What every package holds, as listed: the binary, a desktop entry, icons, the license.
check_listing() {
  grep -qE '(^|[ ./])usr/bin/defender-desk$' <<<"$2" || { echo "$1 lacks usr/bin/defender-desk" >&2; exit 1; }
  grep -q '\.desktop$' <<<"$2" || { echo "$1 lacks a desktop entry" >&2; exit 1; }
  grep -qE 'usr/share/icons/hicolor/(32x32|128x128|256x256@2|512x512)[^ ]*/apps/defender-desk\.png$' <<<"$2" || { echo "$1 lacks its icons" >&2; exit 1; }
  grep -qE 'usr/share/(doc/defender-desk/copyright|licenses/defender-desk/LICENSE)$' <<<"$2" || { echo "$1 lacks the license" >&2; exit 1; }
}
# The installed binary starts.
check_starts() {
  local v
  v="$("$2/usr/bin/defender-desk" --version)" || { echo "$1: the installed binary does not start" >&2; exit 1; }
  [[ "$v" == "defender-desk "* ]] || { echo "$1: --version printed $v" >&2; exit 1; }
  echo "$1: installed, $v"
}
IFS=, read -ra kinds <<<"$bundles"
for kind in "${kinds[@]}"; do
  case "$kind" in
    deb)
      deb="$(newest deb)"
      [ -n "$deb" ] || { echo "no .deb was produced" >&2; exit 1; }
      dpkg-deb --field "$deb" Package Version Depends
      dpkg-deb --field "$deb" Depends | grep -q 'libwebkit2gtk-4.1' || { echo "$deb does not depend on WebKitGTK 4.1" >&2; exit 1; }
      # The listing is read whole before it is searched: `dpkg-deb | grep -q` under pipefail
      # fails at random when grep exits early and dpkg-deb's tar dies of SIGPIPE.
      listing="$(dpkg-deb --contents "$deb")"
      check_listing "$deb" "$listing"
      check_entry "$deb" "$(dpkg-deb --fsys-tarfile "$deb" | tar -xO --wildcards '*.desktop')"
      root="$(mktemp -d)"
      dpkg-deb -x "$deb" "$root"
      check_starts "$deb" "$root"
      rm -rf "$root"
      echo "built $deb"
      ;;
    rpm)
      rpm="$(newest rpm)"
      [ -n "$rpm" ] || { echo "no .rpm was produced" >&2; exit 1; }
      rpm -qp --qf '%{NAME} %{VERSION}-%{RELEASE} %{ARCH} license %{LICENSE}\n' "$rpm"
      requires="$(rpm -qp --requires "$rpm")"
      echo "requires: $(tr '\n' ' ' <<<"$requires")"
      grep -q '^webkit2gtk4.1' <<<"$requires" || { echo "$rpm does not require WebKitGTK 4.1" >&2; exit 1; }
      [ "$(rpm -qp --qf '%{LICENSE}' "$rpm")" = "Apache-2.0" ] || { echo "$rpm: no license declared" >&2; exit 1; }
      listing="$(rpm -qpl "$rpm")"
      check_listing "$rpm" "$listing"
      # Installed into a scratch root with rpm itself (its own database there; the root has
      # none of the dependencies, so they are not checked — they were listed above).
      root="$(mktemp -d)"
      rpm --root "$root" --initdb
      rpm --root "$root" -i --nodeps --noscripts --ignorearch "$rpm"
      rpm --root "$root" -q defender-desk >/dev/null || { echo "$rpm did not install" >&2; exit 1; }
      check_entry "$rpm" "$(cat "$root"/usr/share/applications/*.desktop)"
      check_starts "$rpm" "$root"
      rm -rf "$root"
      echo "built $rpm"
      ;;
  esac
done
rm -f "$stamp"
