/**
 * `pnpm bench:local-capacity` — how many concurrent real-time streams the `local` engine
 * serves on this machine: for each level (default 4, 8, 12, 16) `voxpipe stress file local`
 * plays the LibriVox conversation (real speech, 3 turns) into N connections at real-time
 * pace, and the curve of EndOfTurn wall-clock delay (last audio byte of the turn sent →
 * EndOfTurn received) is printed with the load average before and after each level, since
 * on a shared machine other work moves the figures.
 *
 * Target (issue 16): ≥ 10 streams with wall delay p90 ≤ 500 ms.
 *
 * Options: --levels 4,8,12,16  --file <wav>
 */
import { spawn } from "node:child_process";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { StressReport } from "@voxpipe/cli/stress";
import { ensureFixtures } from "../fixtures/make-fixtures.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const { values } = parseArgs({
  options: {
    levels: { type: "string", default: "4,8,12,16" },
    file: { type: "string" },
  },
});
const levels = values.levels.split(",").map(Number);
for (const n of levels)
  if (!Number.isInteger(n) || n < 1) throw new Error(`--levels: ${n} is not a positive integer`);
const file =
  values.file ?? (await ensureFixtures()).find((f) => f.name === "librivox_conversation")!.path;

function stress(connections: number): Promise<StressReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "--conditions=@voxpipe/source",
        join(root, "packages/cli/src/bin.ts"),
        "stress",
        "file",
        "local",
        "--file",
        file,
        "--connections",
        String(connections),
        "--eot-threshold",
        "0.7",
        "--eager-eot-threshold",
        "0.4",
        "--json",
      ],
      { cwd: root, stdio: ["ignore", "pipe", "ignore"] },
    );
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("exit", (code) => {
      try {
        resolve(JSON.parse(out) as StressReport);
      } catch {
        reject(new Error(`voxpipe stress exited with ${String(code)} without a JSON report`));
      }
    });
  });
}

const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(" ");
console.log(
  `local engine capacity: ${file.split("/").pop()} at real-time pace into N connections (eot 0.7, eager 0.4)`,
);
console.log("shared machine: figures move with other work — see the load average columns\n");
console.log(
  "streams  turns  EOT wall p50  p90      EOT audio p50  p90      errors  load avg before → after",
);
for (const n of levels) {
  const before = load();
  const r = await stress(n);
  const a = r.aggregate;
  const errors = Object.values(a.errors).reduce((s: number, x: number) => s + x, 0);
  console.log(
    [
      String(n).padStart(7),
      String(a.turns).padStart(6),
      `${Math.round(a.eotLatencyWallMs.p50)} ms`.padStart(13),
      `${Math.round(a.eotLatencyWallMs.p90)} ms`.padStart(8),
      `${Math.round(a.eotLatencyAudioMs.p50)} ms`.padStart(14),
      `${Math.round(a.eotLatencyAudioMs.p90)} ms`.padStart(8),
      String(errors).padStart(7),
      `  ${before} → ${load()}`,
    ].join(" "),
  );
}
