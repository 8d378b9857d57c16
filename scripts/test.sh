#!/usr/bin/env bash
# Installs what the tests need (see bootstrap.sh), then typechecks, lints, runs every test and
# the consumer test (the packed packages installed with npm into a fresh project).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
export COREPACK_INTEGRITY_KEYS=0 TURBO_TELEMETRY_DISABLED=1
pnpm typecheck
pnpm lint
pnpm format:check
# Public API of every package entry point against its checked-in report (packages/*/api).
pnpm api:check
pnpm test
# voxpipe as users install it: packed tarballs, plain npm, a fresh project (see the script).
./test/consumer/run.sh
