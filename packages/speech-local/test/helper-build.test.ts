import { chmod, mkdtemp, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SpeechLocalSetupError } from "../src/index.js";
import { ensureBuilt } from "../src/system.js";

// The helper is rebuilt by make's rule: a binary older than its source is stale. A stale
// helper once made every local-engine stream stall silently (it did not send the frames
// the newer stream code waited for), so this rule is what keeps a pulled change working.
describe("ensureBuilt (the pocketsphinx helper's build rule)", () => {
  let dir: string;
  let source: string;
  let binary: string;
  let script: string;
  const builds = async (): Promise<number> =>
    (await readFile(join(dir, "builds"), "utf8").catch(() => "")).length;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "voxpipe-helper-build-"));
    source = join(dir, "helper.c");
    binary = join(dir, "helper");
    script = join(dir, "build.sh");
    await writeFile(source, "int main(void) { return 0; }\n");
    // A stand-in build script: records each run and "compiles" by writing an executable.
    await writeFile(
      script,
      `printf x >> '${dir}/builds'\nprintf '#!/bin/sh\\n' > '${binary}'\nchmod +x '${binary}'\n`,
    );
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("builds a helper that does not exist yet", async () => {
    await expect(ensureBuilt(binary, [source], script)).resolves.toBe(binary);
    expect(await builds()).toBe(1);
  });

  it("keeps a helper newer than its sources", async () => {
    await ensureBuilt(binary, [source], script);
    await ensureBuilt(binary, [source], script);
    expect(await builds()).toBe(1);
  });

  it("rebuilds a helper older than its source", async () => {
    await ensureBuilt(binary, [source], script);
    const later = new Date(Date.now() + 60_000);
    await utimes(source, later, later);
    await ensureBuilt(binary, [source], script);
    expect(await builds()).toBe(2);
  });

  it("ignores a source that is not installed", async () => {
    await ensureBuilt(binary, [source], script);
    await ensureBuilt(binary, [source, join(dir, "absent.c")], script);
    expect(await builds()).toBe(1);
  });

  it("names the build's error and the apt-get command when the build fails", async () => {
    await writeFile(script, "echo 'helper.c:1: error: no pocketsphinx.h' >&2\nexit 1\n");
    await chmod(script, 0o755);
    const err = await ensureBuilt(binary, [source], script).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SpeechLocalSetupError);
    expect((err as Error).message).toMatch(/no pocketsphinx\.h.*install: .*apt-get install/s);
  });
});
