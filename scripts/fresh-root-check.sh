#!/usr/bin/env bash
# Proves the README's two commands on a brand-new Debian 12 (not part of CI; run as root):
#  1. a minimal Debian 12 root from Debian's packages (debootstrap --variant=minbase), kept
#     pristine and copied for each run, so every run starts fresh;
#  2. Node 20 copied in from this machine (node, npm, corepack, node's headers) with the CA
#     bundle NODE_EXTRA_CA_CERTS names — voxpipe needs Node and nothing else up front;
#  3. a clone of the repository inside, then, in the chroot: ./scripts/demo.sh and
#     CI=true ./scripts/test.sh, logged to $STATE/{demo,test}.log.
#
# Usage: scripts/fresh-root-check.sh [repo-to-clone]    (default: this checkout)
# Env:   VOXPIPE_FRESH_DIR  where the roots live (default /var/tmp/voxpipe-fresh)
#        VOXPIPE_FRESH_ONLY=demo  run only the demo (the test run is heavy: ~all CPU for a while)
set -euo pipefail
REPO="$(cd "${1:-$(dirname "$0")/..}" && pwd)"
STATE="${VOXPIPE_FRESH_DIR:-/var/tmp/voxpipe-fresh}"
PRISTINE="$STATE/pristine"
ROOT="$STATE/root"
[ "$(id -u)" -eq 0 ] || { echo "fresh-root-check: run as root (debootstrap, chroot, mount)" >&2; exit 1; }

# The mirror apt uses on this machine (deb822 .sources or a one-line sources.list).
MIRROR="$(grep -hoE '^(URIs:|deb) +https?://[^ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
  | grep -v security | head -1 | awk '{ print $2 }' || true)"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"

if [ ! -d "$PRISTINE" ]; then
  command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null
  echo "fresh-root-check: debootstrap bookworm from $MIRROR into $PRISTINE" >&2
  debootstrap --variant=minbase bookworm "$PRISTINE.tmp" "$MIRROR" >"$STATE/debootstrap.log" 2>&1
  mv "$PRISTINE.tmp" "$PRISTINE"
fi

cleanup() {
  for m in "$ROOT/dev/pts" "$ROOT/dev" "$ROOT/proc"; do
    mountpoint -q "$m" && umount -l "$m"
  done
  return 0
}
trap cleanup EXIT
cleanup
rm -rf "$ROOT"
cp -a "$PRISTINE" "$ROOT"

# Node 20 from this machine, as a user would have it installed.
cp -a /usr/bin/node "$ROOT/usr/bin/node"
mkdir -p "$ROOT/usr/lib/node_modules" "$ROOT/usr/include"
cp -a /usr/lib/node_modules/npm /usr/lib/node_modules/corepack "$ROOT/usr/lib/node_modules/"
for link in npm npx corepack; do cp -a "/usr/bin/$link" "$ROOT/usr/bin/$link"; done
cp -a /usr/include/node "$ROOT/usr/include/node"
CA="${NODE_EXTRA_CA_CERTS:-}"
if [ -n "$CA" ]; then
  mkdir -p "$ROOT$(dirname "$CA")"
  cp -L "$CA" "$ROOT$CA"
fi
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"

# The repository, cloned as a user would (committed files only).
mkdir -p "$ROOT/work"
git clone -q --no-local "$REPO" "$ROOT/work/voxpipe"

mount -t proc proc "$ROOT/proc"
mount --bind /dev "$ROOT/dev"
mount --bind /dev/pts "$ROOT/dev/pts"

in_root() {
  chroot "$ROOT" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 TERM=dumb ${CA:+NODE_EXTRA_CA_CERTS="$CA"} "$@"
}

echo "fresh-root-check: $(in_root cat /etc/debian_version) minbase, node $(in_root node --version), $(git -C "$REPO" rev-parse --short HEAD)" | tee "$STATE/summary.txt" >&2
start=$(date +%s)
set +e
in_root bash -c 'cd /work/voxpipe && ./scripts/demo.sh' >"$STATE/demo.log" 2>&1
demo=$?
echo "demo: exit $demo in $(($(date +%s) - start)) s" | tee -a "$STATE/summary.txt" >&2
if [ "${VOXPIPE_FRESH_ONLY:-}" != "demo" ]; then
  start=$(date +%s)
  in_root bash -c 'cd /work/voxpipe && CI=true ./scripts/test.sh' >"$STATE/test.log" 2>&1
  tests=$?
  echo "test: exit $tests in $(($(date +%s) - start)) s" | tee -a "$STATE/summary.txt" >&2
else
  tests=0
fi
set -e
[ "$demo" -eq 0 ] && [ "$tests" -eq 0 ]
