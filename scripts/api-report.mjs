#!/usr/bin/env node
// API reports (@microsoft/api-extractor): the public surface of every package entry point
// (each "exports" subpath), checked in under packages/<name>/api/. `pnpm api:check` fails when
// the built .d.ts no longer match the checked-in report — an accidental breaking (or any)
// change to the API shows up in review; `pnpm api:update` rewrites the reports after an
// intended change. Runs on dist/ (after `pnpm build`).
import { existsSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import process from "node:process";
import { URL, fileURLToPath } from "node:url";
import { Extractor, ExtractorConfig } from "@microsoft/api-extractor";

const root = fileURLToPath(new URL("..", import.meta.url));
const update = process.argv.includes("--update");
const failures = [];
let count = 0;

for (const dir of readdirSync(join(root, "packages"))) {
  const pkgDir = join(root, "packages", dir);
  const pkgPath = join(pkgDir, "package.json");
  if (!existsSync(pkgPath)) continue;
  const pkg = JSON.parse(readFileSync(pkgPath, "utf8"));
  for (const [subpath, target] of Object.entries(pkg.exports ?? {})) {
    if (typeof target !== "object" || typeof target.types !== "string") continue;
    const name = subpath === "." ? dir : `${dir}-${subpath.slice(2).replace(/\//g, "-")}`;
    const reportFolder = join(pkgDir, "api");
    mkdirSync(reportFolder, { recursive: true });
    const config = ExtractorConfig.prepare({
      configObject: {
        projectFolder: pkgDir,
        mainEntryPointFilePath: join(pkgDir, target.types),
        compiler: { tsconfigFilePath: join(pkgDir, "tsconfig.build.json") },
        apiReport: {
          enabled: true,
          reportFileName: `${name}.api.md`,
          reportFolder,
          reportTempFolder: join(tmpdir(), "voxpipe-api-extractor", dir),
        },
        docModel: { enabled: false },
        dtsRollup: { enabled: false },
        tsdocMetadata: { enabled: false },
        newlineKind: "lf",
        messages: {
          // The report is the point here; TSDoc style and release tags are not checked.
          compilerMessageReporting: { default: { logLevel: "warning" } },
          extractorMessageReporting: {
            default: { logLevel: "none" },
            "ae-wrong-input-file-type": { logLevel: "error" },
          },
          tsdocMessageReporting: { default: { logLevel: "none" } },
        },
      },
      configObjectFullPath: join(pkgDir, "api-extractor.json"),
      packageJsonFullPath: pkgPath,
    });
    const result = Extractor.invoke(config, {
      localBuild: update,
      showVerboseMessages: false,
      messageCallback: (m) => {
        if (m.logLevel === "warning" || m.logLevel === "error") {
          process.stderr.write(`${pkg.name}${subpath.slice(1)}: ${m.text}\n`);
        }
        m.handled = true;
      },
    });
    count++;
    if (!result.succeeded || (!update && result.apiReportChanged)) {
      failures.push(
        `${pkg.name}${subpath.slice(1)} (${relative(root, join(reportFolder, `${name}.api.md`))})`,
      );
    }
  }
}
if (failures.length > 0) {
  process.stderr.write(
    `api-report: the public API changed (or could not be read) for: ${failures.join(", ")}.\n` +
      "If the change is intended, run `pnpm api:update`, commit the reports and add a changeset (`pnpm changeset`).\n",
  );
  process.exit(1);
}
process.stderr.write(
  `api-report: ${count} entry points ${update ? "written" : "match their reports"}\n`,
);
