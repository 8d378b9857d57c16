#!/usr/bin/env bash
# Builds the labelled audio set of the local speech engine into test/fixtures/generated/
# (WAV files + labels.json). Reproducible: every sox call uses -R.
# Needs: sox flite espeak-ng pocketsphinx-testdata (see scripts/bootstrap.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
exec pnpm exec tsx --conditions=@voxpipe/source test/fixtures/make-fixtures.ts
