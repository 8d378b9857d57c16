/**
 * The system (Debian/Ubuntu) packages voxpipe runs or tests with — one list, read by
 * `scripts/bootstrap.sh` (installs them), `scripts/check-system.mjs` (checks them before the
 * tests) and the "install X" hints of errors such as `ToolNotFoundError`.
 */
import list from "./system-packages.json" with { type: "json" };

/** A Debian/Ubuntu package voxpipe needs. */
export interface SystemPackage {
  /** Debian package name, e.g. `"alsa-utils"`. */
  readonly name: string;
  /** Executables it provides that voxpipe runs (looked up on `PATH`), e.g. `["arecord", "aplay"]`. */
  readonly commands: readonly string[];
  /** The npm packages (or `"tests"`) that need it. */
  readonly usedBy: readonly string[];
}

/** Every system package voxpipe needs (the list in `system-packages.json`). */
export const SYSTEM_PACKAGES: readonly SystemPackage[] = list.packages;

/**
 * The Debian package providing `command`.
 * @throws RangeError naming the command when it is not in the list (add it to `system-packages.json`).
 */
export function debianPackageFor(command: string): string {
  const found = SYSTEM_PACKAGES.find((p) => p.commands.includes(command));
  if (found === undefined) {
    throw new RangeError(
      `${JSON.stringify(command)} is not in voxpipe's system package list (packages/core/src/system/system-packages.json)`,
    );
  }
  return found.name;
}

/** The Debian packages an npm package needs, in list order (e.g. `"@voxpipe/speech-local"`). */
export function systemPackagesUsedBy(npmPackage: string): string[] {
  return SYSTEM_PACKAGES.filter((p) => p.usedBy.includes(npmPackage)).map((p) => p.name);
}

/** The install command for `packages`: `sudo apt-get install -y a b c` (Debian/Ubuntu). */
export function aptInstallCommand(packages: readonly string[]): string {
  return `sudo apt-get install -y ${[...new Set(packages)].join(" ")}`;
}
