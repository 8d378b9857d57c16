import { describe, expect, it } from "vitest";
import {
  SYSTEM_PACKAGES,
  aptInstallCommand,
  debianPackageFor,
  systemPackagesUsedBy,
} from "../src/index.js";

// The one list bootstrap installs from and every "install X" hint reads: a package listed
// twice is installed twice and named twice in hints, a command in two entries is ambiguous.
describe("the system package list", () => {
  it("names each Debian package once", () => {
    const names = SYSTEM_PACKAGES.map((p) => p.name);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
  });

  it("maps each command to one package", () => {
    const commands = SYSTEM_PACKAGES.flatMap((p) => p.commands);
    expect(commands.filter((c, i) => commands.indexOf(c) !== i)).toEqual([]);
    expect(debianPackageFor("aplay")).toBe("alsa-utils");
    expect(() => debianPackageFor("no-such-tool")).toThrow(/"no-such-tool" is not in voxpipe's/);
  });

  it("gives the install command of what a package uses", () => {
    const local = systemPackagesUsedBy("@voxpipe/speech-local");
    expect(local).toContain("pocketsphinx-en-us");
    expect(aptInstallCommand(local)).toMatch(/apt-get install -y .*pocketsphinx-en-us/);
  });
});
