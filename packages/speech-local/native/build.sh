#!/bin/sh
# Builds the pocketsphinx helper (native/voxpipe-sphinx.c) into native/build/.
# Needs: gcc, pkg-config, libpocketsphinx-dev, libsphinxbase-dev (Debian/Ubuntu).
set -eu
cd "$(dirname "$0")"
mkdir -p build
if ! command -v gcc >/dev/null 2>&1 || ! command -v pkg-config >/dev/null 2>&1 ||
  ! pkg-config --exists pocketsphinx sphinxbase; then
  echo "speech-local: cannot build the pocketsphinx helper; install: apt-get install -y gcc pkg-config libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us" >&2
  exit 1
fi
# shellcheck disable=SC2046
gcc -O2 -Wall -o build/voxpipe-sphinx.tmp voxpipe-sphinx.c $(pkg-config --cflags --libs pocketsphinx sphinxbase)
mv build/voxpipe-sphinx.tmp build/voxpipe-sphinx
