#!/usr/bin/env bash
# Installs everything voxpipe needs on a fresh Debian/Ubuntu machine, then builds it.
# Safe to run again: each step skips what is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages: ONE list, packages/core/src/system/system-packages.json (the offline
# speech stack, audio tools, TTS voices, the pocketsphinx helper's compiler...). The same list
# feeds the "install X" hints of voxpipe's errors and the pre-test check (check-system.mjs).
SYSTEM_PACKAGES_JSON=packages/core/src/system/system-packages.json
mapfile -t APT_PACKAGES < <(node -e '
  for (const p of JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).packages)
    console.log(p.name);' "$SYSTEM_PACKAGES_JSON")
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "voxpipe: installing system packages: ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# pnpm through corepack, at the version pinned in package.json ("packageManager").
# corepack's signature check cannot reach its keys here, hence COREPACK_INTEGRITY_KEYS=0.
export COREPACK_INTEGRITY_KEYS=0
if ! command -v pnpm >/dev/null 2>&1; then
  corepack enable pnpm
fi
export TURBO_TELEMETRY_DISABLED=1
# node-gyp (webrtcvad, a dev dependency) builds against the installed Node's own headers
# (/usr/include/node from the nodejs package) instead of downloading them from nodejs.org.
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/common.gypi ]; then
  export npm_config_nodedir=/usr
fi

if [ "${CI:-}" = "true" ]; then
  pnpm install --frozen-lockfile
else
  pnpm install
fi
pnpm build
