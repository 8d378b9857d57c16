#!/usr/bin/env bash
# The main job on real audio, offline: installs what it needs (see bootstrap.sh), builds a
# multi-turn conversation from the LibriVox recordings in Debian's pocketsphinx-testdata,
# and transcribes it with `voxpipe transcribe` through the embedded local Flux server.
# With DEEPGRAM_API_KEY set, the same command streams to Deepgram Flux instead.
# Extra arguments go to `voxpipe transcribe` (try --json or --eager-eot-threshold 0.4).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh >&2
AUDIO=test/fixtures/generated/librivox_conversation.wav
[ -f "$AUDIO" ] || ./scripts/make-fixtures.sh >&2
exec node packages/cli/dist/bin.js transcribe "$AUDIO" "$@"
