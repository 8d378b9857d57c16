/**
 * Evaluation of the `local` engine (pocketsphinx + Silero VAD + LM-adaptive turn-end
 * estimator) on the labelled set of test/fixtures, the way Deepgram evaluates Flux:
 * every file is streamed over a WebSocket to the real flux-server with the local engine
 * (as fast as the server consumes it: all timing is audio time), and the TurnInfo events
 * are scored — EOT latency = audio time from end of speech to EndOfTurn; an EndOfTurn
 * inside a turn (false EOT) makes that turn's latency infinite.
 *
 * Run: `pnpm eval:local` [--vad silero|webrtc] [--only <substring>] [--concurrency 2]
 */
import { once } from "node:events";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { buildListenUrl, checkTurnSequence, parseServerMessage } from "@voxpipe/flux-protocol";
import type { ServerMessage } from "@voxpipe/flux-protocol";
import { startFluxServer } from "@voxpipe/flux-server";
import { LocalSpeech, readWav16k } from "@voxpipe/speech-local";
import { ensureFixtures } from "../fixtures/make-fixtures.js";
import type { LabelledFile } from "../fixtures/make-fixtures.js";
import { quantile, scoreFile } from "../fixtures/scoring.js";
import type { FileScore, ObservedEvent } from "../fixtures/scoring.js";

const { values: args } = parseArgs({
  options: {
    vad: { type: "string", default: "silero" },
    only: { type: "string" },
    concurrency: { type: "string", default: "2" },
  },
});
if (args.vad !== "silero" && args.vad !== "webrtc")
  throw new RangeError(`--vad must be silero or webrtc, got ${args.vad}`);
const concurrency = Number(args.concurrency);
if (!Number.isInteger(concurrency) || concurrency < 1)
  throw new RangeError(`--concurrency must be a positive integer, got ${args.concurrency}`);

/** eot_threshold → eager_eot_threshold used with it (Flux allows 0.3–0.9, eager ≤ eot). */
const THRESHOLDS: Array<[number, number]> = [
  [0.5, 0.3],
  [0.7, 0.4],
  [0.9, 0.6],
];
const CHUNK = 1280; // 80 ms at 16 kHz, Flux's recommended chunk

const TARGETS = {
  rtf: 0.5,
  falseEotPer25: 1,
  medianLatencyMs: 500,
  werFlite: 0.15,
  werLibrivox: 0.4,
};

interface Result {
  file: LabelledFile;
  score: FileScore;
  violations: number;
}

async function streamFile(
  baseUrl: string,
  file: LabelledFile,
  eot: number,
  eager: number,
): Promise<Result> {
  const pcm = await readWav16k(file.path);
  const url = buildListenUrl(baseUrl, {
    model: "flux-general-en",
    encoding: "linear16",
    sampleRate: 16000,
    eotThreshold: eot,
    eagerEotThreshold: eager,
  });
  const ws = new WebSocket(url);
  const messages: ServerMessage[] = [];
  ws.on("message", (data: Buffer) => messages.push(parseServerMessage(data.toString("utf8"))));
  await once(ws, "open");
  const closed = once(ws, "close");
  for (let i = 0; i < pcm.length; i += CHUNK) {
    const chunk = pcm.subarray(i, i + CHUNK);
    await new Promise<void>((resolve, reject) =>
      ws.send(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength), (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  }
  // Let the server hear every frame before CloseStream: after it, Flux only flushes Updates
  // (reference §4.6), so a turn ending in the file's last seconds would go unreported.
  // Updates come every 240 ms of audio in 80 ms frames: the last one is at most 320 ms from the end.
  const lastUpdate = pcm.length / 16000 - 0.33;
  while (!messages.some((m) => m.type === "TurnInfo" && m.audio_window_end >= lastUpdate)) {
    await once(ws, "message");
  }
  ws.send(JSON.stringify({ type: "CloseStream" }));
  await closed;
  const events: ObservedEvent[] = [];
  for (const m of messages) {
    if (m.type === "TurnInfo" && m.event !== "Update") {
      events.push({ event: m.event, time: m.audio_window_end, transcript: m.transcript });
    }
  }
  return {
    file,
    score: scoreFile(file, events),
    violations: checkTurnSequence(messages).violations.length,
  };
}

async function pool<T, R>(
  items: readonly T[],
  n: number,
  work: (t: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await work(items[i]);
      }
    }),
  );
  return out;
}

/** Sums of scores over a group of results. */
function total(results: readonly Result[]): FileScore & { violations: number } {
  const t = {
    turnEnds: 0,
    found: 0,
    missed: 0,
    falseEots: 0,
    extraEots: 0,
    latenciesMs: [] as number[],
    eagerLeadsMs: [] as number[],
    referenceWords: 0,
    wordErrors: 0,
    violations: 0,
  };
  for (const { score: s, violations } of results) {
    t.turnEnds += s.turnEnds;
    t.found += s.found;
    t.missed += s.missed;
    t.falseEots += s.falseEots;
    t.extraEots += s.extraEots;
    t.latenciesMs.push(...s.latenciesMs);
    t.eagerLeadsMs.push(...s.eagerLeadsMs);
    t.referenceWords += s.referenceWords;
    t.wordErrors += s.wordErrors;
    t.violations += violations;
  }
  return t;
}

const ms = (x: number): string => (Number.isFinite(x) ? `${Math.round(x)}` : "∞");
const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;

/** Real-time factor per stream on one core, VAD included: decoder CPU (its own process) + this process's CPU. */
async function measureRtf(speech: LocalSpeech, files: readonly LabelledFile[]) {
  const rows = [];
  for (const file of files) {
    const pcm = await readWav16k(file.path);
    const stream = await speech.openStream();
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < pcm.length; i += CHUNK) await stream.push(pcm.subarray(i, i + CHUNK));
    const node = process.cpuUsage(cpu0);
    const stats = await stream.stats();
    await stream.close();
    const nodeCpu = (node.user + node.system) / 1e6;
    rows.push({
      name: file.name,
      audio: stats.audioSeconds,
      decoder: stats.cpuSeconds,
      node: nodeCpu,
      privateKb: stats.privateKb,
    });
  }
  return rows;
}

const all = await ensureFixtures();
const files = args.only ? all.filter((f) => f.name.includes(args.only!)) : all;
const audioSeconds = files.reduce((s, f) => s + f.duration, 0);
console.log(
  `local engine evaluation: ${files.length} files, ${files.reduce((s, f) => s + f.turns.length, 0)} turn ends, ${audioSeconds.toFixed(1)} s of audio, VAD ${args.vad}`,
);
console.log(
  'driven through: the real flux-server over WebSocket (engine "local"), audio streamed as fast as it is consumed (audio-time metrics)\n',
);

// 1. Real-time factor and memory, one stream at a time.
const speech = await LocalSpeech.start({ vad: args.vad });
const rtfFiles = ["flite_three_turns", "espeak_three_turns_noisy", "librivox_conversation"]
  .map((n) => files.find((f) => f.name === n))
  .filter((f): f is LabelledFile => f !== undefined);
const rtfRows = await measureRtf(speech, rtfFiles);
const load = speech.recognizer.load;
await speech.close();
let worstRtf = 0;
if (rtfRows.length > 0) {
  console.log(
    "real-time factor (one stream, one core; decoder = pocketsphinx process CPU, node = VAD + IPC in this process)",
  );
  console.log(
    "file                          audio s  decoder s  node s   RTF    stream private MB",
  );
  for (const r of rtfRows) {
    const rtf = (r.decoder + r.node) / r.audio;
    worstRtf = Math.max(worstRtf, rtf);
    console.log(
      `${r.name.padEnd(30)}${r.audio.toFixed(1).padStart(6)}  ${r.decoder.toFixed(2).padStart(9)}  ${r.node.toFixed(2).padStart(6)}  ${rtf.toFixed(2).padStart(5)}  ${(r.privateKb / 1024).toFixed(1).padStart(8)}`,
    );
  }
  console.log(
    `model load (once, shared by all streams): ${load.cpuSeconds.toFixed(2)} CPU s, peak RSS ${(load.maxRssKb / 1024).toFixed(0)} MB\n`,
  );
}

// 2. Turn detection and WER through the server, per threshold.
const server = await startFluxServer({ engine: "local", engineOptions: { vad: args.vad } });
const table: string[] = [];
const groups = (rs: Result[], voice: string, noisy: boolean) =>
  rs.filter((r) => r.file.voice === voice && r.file.noisy === noisy);
let at07: { t: ReturnType<typeof total>; werFlite: number; werLibrivox: number } | undefined;
const wall0 = performance.now();
try {
  for (const [eot, eager] of THRESHOLDS) {
    const results = await pool(files, concurrency, (f) => streamFile(server.url, f, eot, eager));
    const t = total(results);
    const wer = (voice: string, noisy: boolean): number => {
      const g = total(groups(results, voice, noisy));
      return g.referenceWords ? g.wordErrors / g.referenceWords : NaN;
    };
    const werFlite = wer("flite", false);
    const werLibrivox = wer("librivox", false);
    if (eot === 0.7) at07 = { t, werFlite, werLibrivox };
    table.push(
      [
        `${eot.toFixed(1)}/${eager.toFixed(1)}`.padEnd(9),
        `${t.found}/${t.turnEnds}`.padStart(6),
        `${t.missed}`.padStart(6),
        `${t.falseEots}`.padStart(6),
        `${t.extraEots}`.padStart(6),
        ms(quantile(t.latenciesMs, 0.5)).padStart(7),
        ms(quantile(t.latenciesMs, 0.9)).padStart(7),
        ms(quantile(t.eagerLeadsMs, 0.5)).padStart(7),
        pct(werFlite).padStart(8),
        pct(wer("flite", true)).padStart(8),
        pct(wer("espeak", false)).padStart(8),
        pct(werLibrivox).padStart(8),
        pct(wer("librivox", true)).padStart(8),
        `${t.violations}`.padStart(5),
      ].join(" "),
    );
    for (const r of results) {
      const s = r.score;
      if (s.missed || s.falseEots || s.extraEots) {
        console.log(
          `  eot ${eot}: ${r.file.name}: missed ${s.missed}, false ${s.falseEots}, extra ${s.extraEots}, latencies ${s.latenciesMs.map(ms).join("/")} ms`,
        );
      }
    }
  }
} finally {
  await server.close();
}
const wall = (performance.now() - wall0) / 1000;

console.log(
  "\nturn detection and WER (latency: audio ms from end of speech to EndOfTurn; ∞ = missed or false EOT in the turn)",
);
console.log(
  "eot/eager  found missed  false  extra  med ms  p90 ms  eager lead  WER flite  +noise  espeak  LibriVox +noise  viol.",
);
for (const row of table) console.log(row);
console.log(
  `(${THRESHOLDS.length} × ${audioSeconds.toFixed(1)} s of audio in ${wall.toFixed(1)} s wall, ${concurrency} concurrent sessions)`,
);

// 3. Targets.
if (at07) {
  const { t } = at07;
  const median = quantile(t.latenciesMs, 0.5);
  const checks: Array<[string, boolean]> = [
    [
      `RTF ≤ ${TARGETS.rtf} per stream incl. VAD (worst ${worstRtf.toFixed(2)})`,
      worstRtf <= TARGETS.rtf,
    ],
    [`eot 0.7: every turn found (${t.found}/${t.turnEnds})`, t.missed === 0],
    [
      `eot 0.7: ≤ ${TARGETS.falseEotPer25} false EOT per 25 turn ends (${t.falseEots} in ${t.turnEnds})`,
      t.falseEots * 25 <= TARGETS.falseEotPer25 * t.turnEnds,
    ],
    [
      `eot 0.7: median EOT latency ≤ ${TARGETS.medianLatencyMs} ms (${ms(median)} ms)`,
      median <= TARGETS.medianLatencyMs,
    ],
    [
      `WER ≤ ${pct(TARGETS.werFlite)} on flite (${pct(at07.werFlite)})`,
      at07.werFlite <= TARGETS.werFlite,
    ],
    [
      `WER ≤ ${pct(TARGETS.werLibrivox)} on LibriVox (${pct(at07.werLibrivox)})`,
      at07.werLibrivox <= TARGETS.werLibrivox,
    ],
  ];
  console.log("\ntargets");
  for (const [text, ok] of checks) console.log(`  ${ok ? "PASS" : "FAIL"}  ${text}`);
}
