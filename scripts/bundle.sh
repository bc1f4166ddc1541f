#!/usr/bin/env bash
# Builds installable bundles with the Tauri CLI (from ui/node_modules):
#   scripts/bundle.sh deb                       release .deb (what users install)
#   scripts/bundle.sh deb --debug               debug .deb
#   scripts/bundle.sh deb --debug --no-build    debug .deb of the binary already built with
#       `cargo build --workspace --features defender-desk/custom-protocol` (what CI checks: the
#       binary its E2E tests drove, with no second compile)
# tauri.conf.json also configures AppImage, MSI, NSIS and DMG, which need their own OS or
# download their tooling at build time.
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
if [ "$bundles" = deb ]; then
  # Check what was built: a fresh .deb holding the app binary and its desktop entry.
  deb="$(find "${CARGO_TARGET_DIR:-../target}" -path '*/bundle/deb/*' -name '*.deb' -newer "$stamp" | head -1)"
  [ -n "$deb" ] || { echo "no .deb was produced" >&2; exit 1; }
  dpkg-deb --field "$deb" Package Version Depends
  # The listing is read whole before it is searched: `dpkg-deb | grep -q` under pipefail fails
  # at random when grep exits early and dpkg-deb's tar dies of SIGPIPE.
  listing="$(dpkg-deb --contents "$deb")"
  grep -qE ' (\./)?usr/bin/defender-desk$' <<<"$listing" || { echo "$deb lacks usr/bin/defender-desk" >&2; exit 1; }
  grep -q '\.desktop$' <<<"$listing" || { echo "$deb lacks a desktop entry" >&2; exit 1; }
  # The entry registers the deep-link scheme and hands the link to the app (`%u`).
  entry="$(dpkg-deb --fsys-tarfile "$deb" | tar -xO --wildcards '*.desktop')"
  grep -qx 'MimeType=x-scheme-handler/defender-desk' <<<"$entry" || { echo "$deb: the desktop entry does not register defender-desk://" >&2; exit 1; }
  grep -qE '^Exec=defender-desk %u$' <<<"$entry" || { echo "$deb: the desktop entry does not pass the link (%u)" >&2; exit 1; }
  echo "built $deb"
fi
rm -f "$stamp"
