/**
 * Scale-out on loopback: nginx — running the very config block `docs/deployment.md` gives
 * (ports swapped for free ones) — in front of two `voxpipe serve` processes (embedded Flux
 * server with the scripted engine, echo LLM, tone TTS), and 20 simulated Twilio calls through
 * it: every call is answered on its streamSid, both processes take calls, the TwiML fetched
 * through nginx points the stream back at nginx, and health checks pass through.
 *
 * nginx runs rootless from a temp prefix: `daemon off`, `master_process off`, pid, logs and
 * temp paths in the temp dir (Debian's `nginx` package, installed by `scripts/bootstrap.sh`).
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pcmToMulaw } from "@voxpipe/core";
import { tonePcm } from "@voxpipe/core/testing";
import { SimulatedTwilioCall } from "@voxpipe/transports/testing";
import { startServe, stopChild } from "../child-process.js";
import type { StartedChild } from "../child-process.js";

const CALLS = 20;
const DOC = new URL("../../docs/deployment.md", import.meta.url);

/** The ```nginx block of docs/deployment.md, with its ports replaced by ours. */
async function documentedNginxBlock(backends: number[], listen: number): Promise<string> {
  const doc = await readFile(DOC, "utf8");
  const block = /```nginx\n([\s\S]*?)```/.exec(doc)?.[1];
  if (block === undefined) throw new Error("docs/deployment.md has no ```nginx block");
  const servers = [...block.matchAll(/^(\s*server\s+)127\.0\.0\.1:\d+;/gm)];
  if (servers.length !== backends.length)
    throw new Error(
      `the documented upstream has ${servers.length} servers, expected ${backends.length}`,
    );
  let i = 0;
  return block
    .replace(
      /^(\s*server\s+)127\.0\.0\.1:\d+;/gm,
      (_m, lead: string) => `${lead}127.0.0.1:${backends[i++]};`,
    )
    .replace(/^(\s*listen\s+)\d+;/m, (_m, lead: string) => `${lead}127.0.0.1:${listen};`);
}

/** A port free right now (nginx takes a port number, not 0). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** One short caller turn as a phone line carries it: 0.3 s quiet, 0.8 s "speech", 1.2 s quiet. */
function turnAudio(): Uint8Array {
  const quiet = (ms: number) => new Uint8Array((8000 * ms * 2) / 1000);
  const parts = [quiet(300), tonePcm(300, 800, 8000, 0.3), quiet(1200)];
  const pcm = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  parts.reduce((o, p) => (pcm.set(p, o), o + p.byteLength), 0);
  return pcmToMulaw(pcm);
}

const NGINX = ["/usr/sbin/nginx", "/usr/bin/nginx"].find((p) => existsSync(p)) ?? "nginx";
let dir = "";
let nginx: ChildProcess | undefined;
let nginxLog = "";
let serves: StartedChild[] = [];
let port = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "voxpipe-nginx-"));
  serves = await Promise.all([0, 1].map(() => startServe(["--local-engine", "scripted"])));
  port = await freePort();
  const block = await documentedNginxBlock(
    serves.map((s) => Number(s.match[1])),
    port,
  );
  const conf = join(dir, "nginx.conf");
  await writeFile(
    conf,
    [
      "daemon off;",
      "master_process off;",
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log warn;`,
      "events { worker_connections 256; }",
      "http {",
      `  access_log ${dir}/access.log;`,
      ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map(
        (t) => `  ${t}_temp_path ${dir}/${t};`,
      ),
      block,
      "}",
      "",
    ].join("\n"),
  );
  nginx = spawn(NGINX, ["-p", dir, "-e", `${dir}/error.log`, "-c", conf], { stdio: "pipe" });
  nginx.stderr?.on("data", (d: Buffer) => (nginxLog += d.toString()));
  nginx.once(
    "error",
    (err) => (nginxLog += `${err.message} (install nginx: scripts/bootstrap.sh)`),
  );
  // Ready when it proxies a health check.
  for (const t0 = Date.now(); ; await sleep(50)) {
    const ok = await fetch(`http://127.0.0.1:${port}/livez`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() - t0 > 15_000 || nginx.exitCode !== null)
      throw new Error(
        `nginx did not proxy /livez: ${nginxLog}${await readFile(`${dir}/error.log`, "utf8").catch(() => "")}`,
      );
  }
}, 90_000);

afterAll(async () => {
  if (nginx !== undefined && nginx.exitCode === null) {
    const exited = new Promise((r) => nginx?.once("exit", r));
    nginx.kill("SIGQUIT"); // nginx's graceful shutdown
    await exited;
  }
  const codes = await Promise.all(serves.map((s) => stopChild(s.child)));
  if (dir !== "") await rm(dir, { recursive: true, force: true });
  expect(codes).toEqual(serves.map(() => 0));
});

describe("nginx in front of two voxpipe serve processes (docs/deployment.md)", () => {
  it("spreads 20 Twilio calls over both processes and every call is answered", async () => {
    const twiml = await (await fetch(`http://127.0.0.1:${port}/twilio/twiml`)).text();
    expect(twiml).toContain(`<Stream url="ws://127.0.0.1:${port}/twilio"/>`);

    const calls = await Promise.all(
      Array.from({ length: CALLS }, () =>
        SimulatedTwilioCall.connect(`ws://127.0.0.1:${port}/twilio`),
      ),
    );
    // Every call is live at once: each process reports its share.
    const live = await Promise.all(
      serves.map(async (s) => {
        const health = (await (await fetch(`http://127.0.0.1:${s.match[1]}/healthz`)).json()) as {
          calls: number;
        };
        return health.calls;
      }),
    );
    expect(live.reduce((a, b) => a + b, 0)).toBe(CALLS);
    expect(Math.min(...live), `calls per process: ${live.join(", ")}`).toBeGreaterThan(0);

    const audio = turnAudio();
    await Promise.all(calls.map((c) => c.sendAudio(audio)));
    const unanswered = () => calls.filter((c) => c.media.length === 0).length;
    for (const t0 = Date.now(); unanswered() > 0 && Date.now() - t0 < 15_000;) await sleep(100);
    expect(unanswered(), "calls without a reply").toBe(0);
    for (const c of calls) expect(c.media.every((m) => m.streamSid === c.streamSid)).toBe(true);

    await Promise.all(calls.map((c) => c.hangUp()));
    expect(calls.every((c) => c.closed !== undefined)).toBe(true);
  }, 60_000);
});
