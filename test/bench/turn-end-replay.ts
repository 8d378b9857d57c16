/**
 * `pnpm bench:turn-end-replay` — try turn-end policies of the local engine in seconds instead
 * of a full eval per setting.
 *
 * 1. **Record** (once per code change below the turn-end estimate, ≈1 min): runs the held-out
 *    eval (`runEval`, as `pnpm eval:local-heldout` does: eot 0.7 / eager 0.4, telephone
 *    copies as 8 kHz μ-law) against an in-process server whose local engine reports every
 *    80 ms frame's `TurnObservation` (VAD, pause, words with confidences, P(</s>), prosodic
 *    cues), and saves them with the eval's figures.
 * 2. **Replay**: feeds the observations, with the end-of-turn confidence recomputed by
 *    `endOfTurnConfidence` under other `TurnEndOptions`, through the server's own
 *    `TurnStateMachine` and the local engine's `recognitionState`, and scores the events with
 *    the eval's `scoreSession` and `aggregate`. Nothing of the turn rules or the scoring is
 *    copied here.
 *
 * The replay of the recorded policy reproduces the eval exactly (printed as a check). Under
 * another policy it is an approximation: the recording's turns were reset where the recorded
 * policy ended them (a replayed turn still open there keeps its words and its pause runs on,
 * but the recognizer's final pass and the next words' decoding differ a little), and the
 * prosodic cues and word confidences are those of the recorded turns. Confirm a chosen policy with
 * `pnpm eval:local-heldout --split tune --engine-options '{"turnEnd":{…}}'`.
 *
 *   pnpm bench:turn-end-replay [--split tune|test] [--recording file.json] [--record]
 *                              [--turn-end '{"completeMs":200}']
 *                              [--sweep '{"completeMs":[150,200],"tauMs":[240,256]}']
 *                              [--limit '{"medianMs":485,"leadMs":250,"falseEots":5,"missed":0}']
 *                              [--cues]
 *
 * `--recording` (default /tmp/voxpipe-turn-end-<split>.json) is reused when it exists, unless
 * `--record`. `--cues` prints how well each prosodic cue separates the EagerEndOfTurns that a
 * TurnResumed undid from the ones that stood (area under the ROC curve, by tag).
 */
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { aggregate, loadDataset, runEval, scoreSession } from "@voxpipe/cli/eval";
import type { EvalMetrics, FileScore, RecordedEvent } from "@voxpipe/cli/eval";
import { startFluxServer, TurnStateMachine } from "@voxpipe/flux-server";
import {
  confidenceAuc,
  endOfTurnConfidence,
  LocalSpeech,
  type TurnEndOptions,
  type TurnObservation,
} from "@voxpipe/speech-local";
import type { LabelledTurn } from "@voxpipe/cli/eval";
import {
  localEngineFactory,
  recognitionState,
} from "../../packages/flux-server/src/engines/local.js";
import { HELDOUT_DIR, loadHeldout } from "../fixtures/make-heldout.js";

const { values: args } = parseArgs({
  options: {
    split: { type: "string", default: "tune" },
    recording: { type: "string" },
    record: { type: "boolean", default: false },
    "turn-end": { type: "string", default: "{}" },
    sweep: { type: "string" },
    limit: { type: "string", default: "{}" },
    cues: { type: "boolean", default: false },
  },
});
if (args.split !== "tune" && args.split !== "test")
  throw new RangeError(`--split must be tune or test, got ${args.split}`);

const EOT = 0.7;
const EAGER = 0.4;
const EOT_TIMEOUT_MS = 5000;

/** One file's recording: its labels and the observation of every frame the engine heard. */
interface FileRecording {
  name: string;
  tags: readonly string[];
  turns: readonly LabelledTurn[];
  /** Per frame the server's engine heard: the frame's audio time (s, the server's clock) and what the engine observed. */
  frames: Array<{ start: number; end: number; o: TurnObservation }>;
  /** The eval's events for this file (to check the replay against). */
  events: readonly RecordedEvent[];
}
interface Recording {
  split: string;
  createdAt: string;
  files: FileRecording[];
}

const path = args.recording ?? `/tmp/voxpipe-turn-end-${args.split}.json`;

async function record(): Promise<Recording> {
  await loadHeldout(args.split as "tune" | "test");
  const dataset = await loadDataset(join(HELDOUT_DIR, args.split));
  const observations = new Map<string, FileRecording["frames"]>();
  const sessions: string[] = [];
  // The recorded policy is --turn-end's: its replay is exact, others nearby are close.
  // With the pitch cues the engine leaves out by default, for --cues.
  const speech = await LocalSpeech.start({ turnEnd: base, pitchCues: true });
  const server = await startFluxServer({
    port: 0,
    engine: localEngineFactory(speech, {
      observe: (context, o, frame) => {
        if (!observations.has(context.requestId)) {
          observations.set(context.requestId, []);
          sessions.push(context.requestId);
        }
        observations.get(context.requestId)!.push({ start: frame.start, end: frame.end, o });
      },
    }),
  });
  let results;
  try {
    // One session at a time: the sessions open in the dataset's file order.
    results = await runEval({
      dataset,
      settings: [{ eotThreshold: EOT, eagerEotThreshold: EAGER }],
      target: { url: `${server.url}/v2/listen`, kind: "url", shown: "in-process local engine" },
      model: "flux-general-en",
      fast: true,
      concurrency: 1,
      telephoneAsMulaw: true,
    });
  } finally {
    await server.close();
  }
  if (sessions.length !== results.files.length)
    throw new Error(`recorded ${sessions.length} sessions for ${results.files.length} files`);
  return {
    split: args.split,
    createdAt: new Date().toISOString(),
    files: results.files.map((f, i) => ({
      name: f.name,
      tags: f.tags,
      turns: f.turns,
      frames: observations.get(sessions[i])!,
      events: f.runs[0].events ?? [],
    })),
  };
}

/** Full 80 ms frames (the partial frame flushed at CloseStream changes no state). */
const fullFrame = (f: { start: number; end: number }): boolean => f.end - f.start > 0.08 - 1e-6;

/** A turn-end policy: the end-of-turn confidence of a (replayed) observation. */
type Policy = (o: TurnObservation) => number;

/** The estimate `LocalSpeechStream` computes, under other turn-end options. */
function curvePolicy(options: TurnEndOptions): Policy {
  return (o) => {
    const last = o.words.slice(-2);
    if (last.length === 0) return 0;
    return endOfTurnConfidence(
      {
        silenceMs: o.pauseMs,
        endOfSentenceProbability: o.endOfSentenceProbability,
        lastWordsConfidence: last.reduce((s, w) => s + w.confidence, 0) / last.length,
        prosody: o.prosody,
      },
      options,
    );
  };
}

/** Replays one file under `policy`: the events a client would have received. */
function replay(file: FileRecording, policy: Policy): RecordedEvent[] {
  const machine = new TurnStateMachine({
    eotThreshold: EOT,
    eagerEotThreshold: EAGER,
    eotTimeoutMs: EOT_TIMEOUT_MS,
  });
  const events: RecordedEvent[] = [];
  let turnStart = 0;
  let lastSpeech = -1;
  let latest: TurnObservation | undefined;
  let latestTime = 0;
  // The recording's stream started a new turn after each recorded EndOfTurn. A replayed turn
  // still open there keeps what it had heard (`carried`): its words, and its pause going on.
  const resets = new Set(
    file.events.filter((e) => e.event === "EndOfTurn").map((e) => e.time.toFixed(3)),
  );
  let carried: TurnObservation | undefined;
  for (const { end: time, o: recorded } of file.frames.filter(fullFrame)) {
    if (recorded.speaking) lastSpeech = time;
    // Where the replayed policy (not the recorded one) reset the turn.
    const words = [...(carried?.words ?? []), ...recorded.words].filter(
      (w) => w.start >= turnStart,
    );
    let o: TurnObservation = {
      ...recorded,
      words,
      turnHasSpeech: recorded.turnHasSpeech && lastSpeech > turnStart,
    };
    if (carried !== undefined && !recorded.turnHasSpeech) {
      // Nothing heard since the recording's reset: the carried turn's pause goes on.
      const since = (recorded.audioTime - carried.audioTime) * 1000;
      o = {
        ...carried,
        audioTime: recorded.audioTime,
        speaking: recorded.speaking,
        silenceMs: recorded.speaking ? 0 : carried.silenceMs + since,
        pauseMs: recorded.speaking ? 0 : carried.pauseMs + since,
      };
    }
    latest = { ...o, endOfTurnConfidence: policy(o) };
    const update = machine.frame(recognitionState(latest), time);
    latestTime = time;
    if (update?.event === "EndOfTurn") {
      turnStart = o.audioTime;
      carried = undefined;
    } else if (resets.has(time.toFixed(3)) && machine.turnOpen) carried = o;
    if (update === undefined || update.event === "Update") continue;
    events.push({
      event: update.event,
      turnIndex: update.turnIndex,
      time: update.audioWindowEnd,
      wallMs: 0,
      transcript: update.transcript,
      endOfTurnConfidence: update.endOfTurnConfidence,
      ...(update.trigger !== undefined && { trigger: update.trigger }),
    });
  }
  // The eval's client ends a turn still open when the stream closes (trigger "closed").
  if (machine.turnOpen && latest !== undefined) {
    const state = recognitionState(latest);
    events.push({
      event: "EndOfTurn",
      turnIndex: machine.currentTurnIndex,
      time: latestTime,
      wallMs: 0,
      transcript: state.transcript,
      trigger: "closed",
    });
  }
  return events;
}

function metricsOf(
  files: FileRecording[],
  events: (f: FileRecording) => readonly RecordedEvent[],
): {
  metrics: EvalMetrics;
  scores: FileScore[];
} {
  const scores = files.map((f) => scoreSession(f.turns, events(f)));
  return {
    metrics: aggregate(
      scores.map((score) => ({ score, audioSeconds: 0, reconnects: 0, violations: 0 })),
    ),
    scores,
  };
}

const ms = (x: number): string => (Number.isFinite(x) ? `${Math.round(x)}` : "∞");
function line(m: EvalMetrics): string {
  return (
    `false ${m.falseEots}/${m.turns}  missed ${m.missed}  median ${ms(m.medianLatencyMs)} ms  p90 ${ms(m.latencyMs.p90)} ms  ` +
    `lead ${ms(m.eager.leadMs.p50)} ms  eager = final ${(100 * (1 - m.eager.finalDiffersRate)).toFixed(1)} %  ` +
    `(${m.eager.events} eagers, ${Math.round(m.eager.events * m.eager.turnResumedRate)} resumed)`
  );
}

const base = JSON.parse(args["turn-end"]) as TurnEndOptions;
const recording: Recording =
  !args.record && existsSync(path)
    ? (JSON.parse(await readFile(path, "utf8")) as Recording)
    : await (async () => {
        const r = await record();
        await writeFile(path, JSON.stringify(r));
        console.log(`recorded ${r.files.length} files to ${path}`);
        return r;
      })();
const files = recording.files;
console.log(
  `${recording.split} half, recorded ${recording.createdAt}: ${files.length} files, ${files.reduce((n, f) => n + f.turns.length, 0)} turns; eot ${EOT} / eager ${EAGER}`,
);
const evaluated = metricsOf(files, (f) => f.events);
const replayed = metricsOf(files, (f) => replay(f, (o) => o.endOfTurnConfidence));
console.log(`eval (recorded)       ${line(evaluated.metrics)}`);
console.log(`replay (recorded)     ${line(replayed.metrics)}`);
// The replay must reproduce the eval on the policy it recorded, file by file; otherwise the
// turn rules or the scoring moved on without it, and no figure below means anything.
const differs = files.filter((f, i) => {
  const [a, b] = [evaluated.scores[i], replayed.scores[i]];
  return (
    JSON.stringify([
      a.latenciesMs,
      a.eagerEvents,
      a.turnResumed,
      a.eagerFinalDiffers,
      a.eagerLeadsMs,
    ]) !==
    JSON.stringify([
      b.latenciesMs,
      b.eagerEvents,
      b.turnResumed,
      b.eagerFinalDiffers,
      b.eagerLeadsMs,
    ])
  );
});
if (differs.length > 0) {
  console.error(
    `the replay of the recorded policy does not reproduce the eval on ${differs.map((f) => f.name).join(", ")}: ` +
      "fix the replay (or record again with --record) before trusting its figures",
  );
  process.exit(1);
}
console.log(
  `replay --turn-end     ${line(metricsOf(files, (f) => replay(f, curvePolicy(base))).metrics)}`,
);

if (args.sweep) {
  const grid = JSON.parse(args.sweep) as Record<string, number[]>;
  const limit = JSON.parse(args.limit) as Partial<
    Record<"medianMs" | "leadMs" | "falseEots" | "missed", number>
  >;
  let variants: TurnEndOptions[] = [base];
  for (const [key, values] of Object.entries(grid))
    variants = variants.flatMap((v) => values.map((x) => ({ ...v, [key]: x })));
  const rows = variants
    .map((v) => ({ v, m: metricsOf(files, (f) => replay(f, curvePolicy(v))).metrics }))
    .filter(
      ({ m }) =>
        m.medianLatencyMs <= (limit.medianMs ?? Infinity) &&
        m.eager.leadMs.p50 >= (limit.leadMs ?? 0) &&
        m.falseEots <= (limit.falseEots ?? Infinity) &&
        m.missed <= (limit.missed ?? Infinity),
    )
    .sort((a, b) => a.m.eager.finalDiffersRate - b.m.eager.finalDiffersRate);
  console.log(
    `\n${rows.length} of ${variants.length} variants within ${JSON.stringify(limit)}, best first:`,
  );
  for (const { v, m } of rows.slice(0, 25)) console.log(`${JSON.stringify(v)}\n    ${line(m)}`);
}

if (args.cues) {
  // Every EagerEndOfTurn of the replay (under --turn-end): did a TurnResumed undo it?
  const samples: Array<{ tags: readonly string[]; resumed: boolean; o: TurnObservation }> = [];
  for (const f of files) {
    const events = replay(f, curvePolicy(base));
    const byTime = new Map(f.frames.map((x) => [x.end.toFixed(3), x.o]));
    events.forEach((e, i) => {
      if (e.event !== "EagerEndOfTurn") return;
      const o = byTime.get(e.time.toFixed(3));
      if (o) samples.push({ tags: f.tags, resumed: events[i + 1]?.event === "TurnResumed", o });
    });
  }
  const cues = ["finalPitchSlope", "finalPitchLevel", "finalLengthening", "finalEnergy"] as const;
  console.log(
    `\nEagerEndOfTurns: ${samples.length}, ${samples.filter((s) => s.resumed).length} undone by TurnResumed. ` +
      `AUC of "the eager stood" against each cue (0.5: no information; < 0.5: lower values stand), n with the cue:`,
  );
  const groups: Array<[string, (t: readonly string[]) => boolean]> = [
    ["all", () => true],
    ["16 kHz clean", (t) => !t.includes("noisy") && !t.includes("phone")],
    ["noisy", (t) => t.includes("noisy")],
    ["telephone", (t) => t.includes("phone")],
  ];
  for (const cue of cues) {
    const cells = groups.map(([name, has]) => {
      const s = samples
        .filter((x) => has(x.tags) && x.o.prosody?.[cue] !== undefined)
        .map((x) => ({ confidence: x.o.prosody![cue]!, correct: !x.resumed }));
      return `${name} ${confidenceAuc(s).toFixed(2)} (n ${s.length})`;
    });
    console.log(`  ${cue.padEnd(17)} ${cells.join("   ")}`);
  }
  const show = (s: (typeof samples)[number]): string => {
    const p = s.o.prosody;
    const f = (x: number | undefined): string => (x === undefined ? "—" : x.toFixed(2));
    return `slope ${f(p?.finalPitchSlope)} level ${f(p?.finalPitchLevel)} length ${f(p?.finalLengthening)} energy ${f(p?.finalEnergy)}  ${s.o.words.map((w) => w.word).join(" ")}`;
  };
  console.log("undone:");
  for (const s of samples.filter((x) => x.resumed))
    console.log(`  [${s.tags.join(",")}] ${show(s)}`);
}
