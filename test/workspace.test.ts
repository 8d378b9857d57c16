/**
 * The release rules of the packages, checked on their package.json files: one version for all
 * (changesets' fixed group), `@voxpipe/core` a peer of every plugin, a changelog and an API
 * report per package, and each package's own `pnpm test` aimed at its own tests; and that every
 * example is self-contained (copyable out of the repository).
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
interface Pkg {
  name: string;
  version: string;
  private?: boolean;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}
const packages = readdirSync(join(root, "packages"))
  .filter((dir) => existsSync(join(root, "packages", dir, "package.json")))
  .map((dir) => ({
    dir,
    pkg: JSON.parse(readFileSync(join(root, "packages", dir, "package.json"), "utf8")) as Pkg,
  }));

describe("published packages", () => {
  it("share one version, released together (changesets fixed group)", () => {
    expect(new Set(packages.map((p) => p.pkg.version)).size).toBe(1);
    const config = JSON.parse(readFileSync(join(root, ".changeset/config.json"), "utf8")) as {
      fixed: string[][];
    };
    expect([...(config.fixed[0] ?? [])].sort()).toEqual(packages.map((p) => p.pkg.name).sort());
  });

  it("take @voxpipe/core as a peer dependency (one copy per application), except core and the CLI", () => {
    for (const { pkg } of packages) {
      if (pkg.name === "@voxpipe/core" || pkg.name === "@voxpipe/cli") continue;
      if (!JSON.stringify(pkg).includes("@voxpipe/core")) continue;
      expect(pkg.dependencies?.["@voxpipe/core"], pkg.name).toBeUndefined();
      expect(pkg.peerDependencies?.["@voxpipe/core"], pkg.name).toBe("workspace:^");
    }
  });

  it("each have a changelog, an API report and a test script that runs their own tests", () => {
    for (const { dir, pkg } of packages) {
      expect(existsSync(join(root, "packages", dir, "CHANGELOG.md")), pkg.name).toBe(true);
      expect(existsSync(join(root, "packages", dir, "api", `${dir}.api.md`)), pkg.name).toBe(true);
      if (existsSync(join(root, "packages", dir, "test"))) {
        expect(pkg.scripts?.test, pkg.name).toBe(`vitest run --root ../.. packages/${dir}/test/`);
      }
    }
  });
});

describe("examples", () => {
  const examples = readdirSync(join(root, "examples")).filter((dir) =>
    existsSync(join(root, "examples", dir, "package.json")),
  );
  /** Files of `dir` (recursively), node_modules left out. */
  const filesOf = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.name === "node_modules"
        ? []
        : e.isDirectory()
          ? filesOf(join(dir, e.name))
          : [join(dir, e.name)],
    );

  it("are self-contained: nothing reaches outside the folder, every imported package is a dependency", () => {
    expect(examples.length).toBeGreaterThan(0);
    for (const dir of examples) {
      const folder = join(root, "examples", dir);
      const pkg = JSON.parse(readFileSync(join(folder, "package.json"), "utf8")) as Pkg & {
        devDependencies?: Record<string, string>;
      };
      const declared = { ...pkg.dependencies, ...pkg.devDependencies };
      for (const file of filesOf(folder).filter((f) => /\.(ts|json|sh)$/.test(f))) {
        const text = readFileSync(file, "utf8");
        // `../..` from anywhere in an example leaves it (test/x.ts → ../src is fine).
        expect(text.includes("../.."), `${file} reaches outside its example`).toBe(false);
        for (const [, specifier] of text.matchAll(/from "([^"]+)"/g)) {
          if (specifier.startsWith("node:") || specifier.startsWith(".")) continue;
          const name = specifier
            .split("/")
            .slice(0, specifier.startsWith("@") ? 2 : 1)
            .join("/");
          expect(
            declared[name],
            `${file} imports ${name}, not in ${dir}/package.json`,
          ).toBeDefined();
        }
      }
    }
  });
});
