#!/usr/bin/env node
// Pre-test check: every system package in voxpipe's one list
// (packages/core/src/system/system-packages.json) is installed and its commands are on PATH.
// Fails with one clear message naming what is missing and how to install it, instead of
// letting tests fail later with confusing assertions.
import { execFileSync } from "node:child_process";
import { accessSync, constants, readFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import process from "node:process";
import { URL } from "node:url";

const listPath = new URL("../packages/core/src/system/system-packages.json", import.meta.url);
const { packages } = JSON.parse(readFileSync(listPath, "utf8"));

const onPath = (command) =>
  (process.env.PATH ?? "").split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });

/** dpkg's view, for packages that provide files rather than commands (models, headers, data). */
const dpkgInstalled = (name) => {
  try {
    const status = execFileSync("dpkg-query", ["-W", "-f=${Status}", name], {
      stdio: ["ignore", "pipe", "ignore"],
    }).toString();
    return status.includes("install ok installed");
  } catch {
    return false;
  }
};

const missing = [];
for (const pkg of packages) {
  const absent = pkg.commands.filter((c) => !onPath(c));
  if (absent.length > 0) missing.push(`${pkg.name} (${absent.join(", ")} not on PATH)`);
  else if (pkg.commands.length === 0 && !dpkgInstalled(pkg.name))
    missing.push(`${pkg.name} (not installed)`);
}
if (missing.length > 0) {
  const names = packages
    .filter((p) => missing.some((m) => m.startsWith(`${p.name} `)))
    .map((p) => p.name);
  process.stderr.write(
    `voxpipe: the tests need system packages that are missing: ${missing.join("; ")}.\n` +
      `Run ./scripts/bootstrap.sh, or: sudo apt-get install -y ${names.join(" ")}\n`,
  );
  process.exit(1);
}
