import { TURN_LATENCY_STAGES } from "@voxpipe/core";
import type { LatencyPercentiles, TurnLatency, TurnLatencySummary } from "@voxpipe/core";

/** Milliseconds with one decimal below 10 ms (voxpipe's own stages are that small), else whole. */
function ms(value: number | undefined): string {
  if (value === undefined) return "–";
  return value < 10 ? value.toFixed(1) : Math.round(value).toString();
}

/** JSON numbers rounded to 0.1 ms (the clock resolution worth printing); unknown → omitted. */
function round(value: number | undefined): number | undefined {
  return value === undefined ? undefined : Math.round(value * 10) / 10;
}

/**
 * `--json` line of one turn: `{"event":"TurnLatency", …}` with every stage in ms (see
 * `TurnLatency` in `@voxpipe/core`); snake_case like the other `--json` events.
 */
export function turnLatencyJson(t: TurnLatency): string {
  return JSON.stringify({
    event: "TurnLatency",
    turn_index: t.turnIndex,
    complete: t.complete,
    voice_to_voice_ms: round(t.voiceToVoiceMs),
    voxpipe_ms: round(t.voxpipeMs),
    stages_ms: Object.fromEntries(TURN_LATENCY_STAGES.map((s) => [s, round(t.stages[s])])),
    function_calls_ms: round(t.functionCallsMs),
    speculation:
      t.speculation === undefined
        ? undefined
        : { lead_ms: round(t.speculation.leadMs), matched: t.speculation.matched },
  });
}

/** `--json` line of the end-of-run summary: `{"event":"LatencySummary", …}` (p50/p90/p99 in ms). */
export function latencySummaryJson(s: TurnLatencySummary): string {
  const p = (x: LatencyPercentiles) => ({
    count: x.count,
    p50: round(x.p50),
    p90: round(x.p90),
    p99: round(x.p99),
  });
  return JSON.stringify({
    event: "LatencySummary",
    turns: s.turns,
    complete_turns: s.completeTurns,
    voice_to_voice_ms: p(s.voiceToVoice),
    voxpipe_ms: p(s.voxpipe),
    stages_ms: Object.fromEntries(TURN_LATENCY_STAGES.map((k) => [k, p(s.stages[k])])),
    speculation_matched: s.speculationMatched,
  });
}

/** One line per turn for the terminal: `latency: 812 ms voice-to-voice (stt 250 · … · output 1.2; voxpipe 1.6)`. */
export function turnLatencyLine(t: TurnLatency): string {
  if (!t.complete)
    return `  latency: turn ${t.turnIndex} got no reply out (interrupted or unanswered)`;
  const stages = TURN_LATENCY_STAGES.map((s) => `${s} ${ms(t.stages[s])}`).join(" · ");
  const spec =
    t.speculation === undefined
      ? ""
      : t.speculation.matched
        ? `; eager head start ${ms(t.speculation.leadMs)}`
        : "; eager transcript changed";
  return `  latency: ${ms(t.voiceToVoiceMs)} ms voice-to-voice (${stages}; voxpipe ${ms(t.voxpipeMs)}${spec})`;
}

/** The end-of-run table: p50 / p90 per stage over the turns that got a reply, ms. */
export function latencySummaryTable(s: TurnLatencySummary): string {
  const rows: [string, LatencyPercentiles][] = [
    ...TURN_LATENCY_STAGES.map((k): [string, LatencyPercentiles] => [k, s.stages[k]]),
    ["voice-to-voice", s.voiceToVoice],
    ["voxpipe's share", s.voxpipe],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  const lines = rows.map(
    ([name, x]) => `  ${name.padEnd(width)}  ${ms(x.p50).padStart(7)}  ${ms(x.p90).padStart(7)}`,
  );
  return [
    `latency over ${s.completeTurns} of ${s.turns} turns (ms):`,
    `  ${"stage".padEnd(width)}  ${"p50".padStart(7)}  ${"p90".padStart(7)}`,
    ...lines,
  ].join("\n");
}
