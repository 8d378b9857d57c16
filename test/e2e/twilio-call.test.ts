/**
 * End to end, a phone call: a simulated Twilio caller (Media Streams protocol, a real
 * three-turn recording sent as 8 kHz μ-law at real-time pace) calls `voxpipe serve` (Flux
 * through the embedded server — scripted engine: speech segments are turns — echo LLM,
 * espeak-ng, μ-law passthrough). One reply per user turn comes back as `media` on the
 * call's streamSid; the caller talking over a reply gets `clear` and the reply stops; `stop`
 * ends the call; bad messages never take the server down.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimulatedTwilioCall } from "@voxpipe/transports/testing";
import type { ReceivedMedia } from "@voxpipe/transports/testing";
import { GENERATED, startServe, wavAsMulaw8k } from "./serve-helpers.js";
import type { ServeProcess } from "./serve-helpers.js";

let serve: ServeProcess;
beforeAll(async () => {
  serve = await startServe(["--local-engine", "scripted", "--llm", "echo", "--tts", "espeak"]);
});
afterAll(async () => {
  expect(await serve?.stop()).toBe(0);
});

/** Bursts of bot audio: media messages grouped by arrival gaps of more than `gapMs`. */
function bursts(media: readonly ReceivedMedia[], gapMs = 250): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  for (const m of media) {
    const last = out.at(-1);
    if (last && m.at - last.end <= gapMs) last.end = m.at;
    else out.push({ start: m.at, end: m.at });
  }
  return out;
}

describe("voxpipe serve: a Twilio call", () => {
  it("answers each user turn on the call's streamSid, cuts a reply the caller talks over, ends on stop", async () => {
    const audio = await wavAsMulaw8k(join(GENERATED, "flite_three_turns.wav"));
    const caller = await SimulatedTwilioCall.connect(`ws://127.0.0.1:${serve.port}/twilio`);
    const t0 = performance.now();
    await caller.sendAudio(audio);
    // Let the last reply play out.
    await caller.waitFor((m) => m.event === "mark", 8000);
    await new Promise((r) => setTimeout(r, 3000));

    expect(caller.media.length).toBeGreaterThan(50);
    expect(caller.media.every((m) => m.streamSid === caller.streamSid)).toBe(true);
    // The recording's turns end at 4.1 s, 8.4 s and 13.1 s: a reply starts after each, and
    // the bot never speaks before the caller's first turn has ended.
    const turnEnds = [4.107, 8.442, 13.096].map((s) => t0 + s * 1000);
    const timeline = JSON.stringify({
      replies: bursts(caller.media).map((r) => [r.start - t0, r.end - t0].map(Math.round)),
      clears: caller.clears.map((c) => Math.round(c - t0)),
    });
    expect(caller.media[0].at, timeline).toBeGreaterThan(turnEnds[0]);
    for (const end of turnEnds) {
      const reply = caller.media.filter((m) => m.at > end && m.at < end + 3000);
      expect(reply.length, timeline).toBeGreaterThan(5);
    }
    // The replies (espeak, "You said: …" of a whole sentence) outlast the 1.5 s gaps: the
    // caller's next turn interrupts them — `clear`, and no more media of that reply.
    expect(caller.clears.length).toBeGreaterThanOrEqual(1);
    for (const clear of caller.clears) {
      const late = caller.media.filter((m) => m.at > clear + 60 && m.at < clear + 400);
      expect(late, timeline).toHaveLength(0);
    }
    // Marks: the sentences the caller heard were confirmed by mark echoes.
    expect(caller.marksAnswered.some((m) => m.played)).toBe(true);

    await caller.hangUp();
    const health = await fetch(`${serve.url}/healthz`);
    expect(health.status).toBe(200);
    const stats = (await (await fetch(`${serve.url}/stats`)).json()) as {
      calls: number;
      latency: { framework: { count: number } };
    };
    expect(stats.calls).toBe(0);
    // Exactly one reply per user turn: three EndOfTurn → first-audio measurements.
    expect(stats.latency.framework.count).toBe(3);
  }, 60_000);

  it("bad messages are logged and ignored or close that call alone, never the server", async () => {
    const url = `ws://127.0.0.1:${serve.port}/twilio`;
    const bad = await SimulatedTwilioCall.connect(url);
    bad.sendRaw("this is not JSON");
    bad.sendJson({ event: "party", streamSid: bad.streamSid });
    bad.sendJson({ event: "media", streamSid: "MZsomeoneelse", media: { payload: "////" } });
    bad.sendJson({ event: "media", streamSid: bad.streamSid, media: { payload: 42 } });
    bad.sendRaw(
      JSON.stringify({
        event: "media",
        streamSid: bad.streamSid,
        media: { payload: "A".repeat(200_000) },
      }),
    );
    await bad.whenClosed();
    expect(bad.closed?.code).toBe(1009);

    // A connection whose media arrives before its start: ignored, then closed for lack of start.
    const { WebSocket } = await import("ws");
    const early = new WebSocket(url);
    await new Promise((r) => early.once("open", r));
    early.send(JSON.stringify({ event: "media", media: { payload: "////" } }));

    // The server still answers a good call.
    const good = await SimulatedTwilioCall.connect(url);
    await good.sendAudio(await wavAsMulaw8k(join(GENERATED, "flite_short_yes.wav")));
    await good.waitFor((m) => m.event === "media", 8000);
    await good.hangUp();
    early.close();
    expect((await fetch(`${serve.url}/healthz`)).status).toBe(200);
  }, 30_000);
});
