import { execFile } from "node:child_process";
import { access, constants, readFile, stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { aptInstallCommand, systemPackagesUsedBy } from "@voxpipe/core";

/** Where Debian's `pocketsphinx-en-us` package installs the US English model. */
export const DEBIAN_MODEL_DIR = "/usr/share/pocketsphinx/model/en-us";

/**
 * The install command of the system packages this package needs at build and run time
 * (pocketsphinx, its model, the helper's compiler; core's system package list).
 */
export const APT_INSTALL_HINT = aptInstallCommand(systemPackagesUsedBy("@voxpipe/speech-local"));

/** Paths of a pocketsphinx model: acoustic model directory, trigram LM, pronunciation dictionary. */
export interface SphinxModelPaths {
  /** Acoustic model directory (`-hmm`). */
  hmm: string;
  /** Binary trigram language model (`-lm`), also used for P(</s> | last words). */
  lm: string;
  /** Pronunciation dictionary (`-dict`). */
  dict: string;
}

/**
 * The model paths of `dir` laid out as Debian's `pocketsphinx-en-us` lays them out.
 * Default: env `VOXPIPE_SPHINX_MODEL_DIR`, else {@link DEBIAN_MODEL_DIR}.
 */
export function defaultModelPaths(
  dir = process.env.VOXPIPE_SPHINX_MODEL_DIR ?? DEBIAN_MODEL_DIR,
): SphinxModelPaths {
  return { hmm: `${dir}/en-us`, lm: `${dir}/en-us.lm.bin`, dict: `${dir}/cmudict-en-us.dict` };
}

/** The machine lacks a system package or file the local speech engine needs; the message says what to install. */
export class SpeechLocalSetupError extends Error {
  override readonly name = "SpeechLocalSetupError";
}

/**
 * Check that every model file exists.
 * @throws SpeechLocalSetupError naming the missing path and the `apt-get install` command.
 */
export async function checkModel(paths: SphinxModelPaths): Promise<void> {
  for (const field of ["hmm", "lm", "dict"] as const) {
    const path = paths[field];
    try {
      await access(path, constants.R_OK);
    } catch {
      throw new SpeechLocalSetupError(
        `pocketsphinx model ${field} not found at ${path}; install it with: ${APT_INSTALL_HINT}`,
      );
    }
  }
}

/**
 * The front-end parameters an acoustic model fixes: its `feat.params` (`-name value` per line,
 * e.g. `-nfilt 25`, `-agc none`, `-cmn batch`), which pocketsphinx reads after the command
 * line and applies over it. Empty when the model has no `feat.params`.
 */
export async function modelFeatureParams(hmmDir: string): Promise<Map<string, string>> {
  let text: string;
  try {
    text = await readFile(`${hmmDir}/feat.params`, "utf8");
  } catch {
    return new Map();
  }
  const params = new Map<string, string>();
  for (const line of text.split("\n")) {
    const [name, value] = line.trim().split(/\s+/);
    if (name?.startsWith("-") && value !== undefined) params.set(name, value);
  }
  return params;
}

const nativeDir = fileURLToPath(new URL("../native/", import.meta.url));

/** Path of the compiled pocketsphinx helper (built by the package's `build` script). */
export const HELPER_PATH = `${nativeDir}build/voxpipe-sphinx`;

/** The helper's source files: a helper older than any of them is stale and rebuilt. */
const HELPER_SOURCES = [`${nativeDir}voxpipe-sphinx.c`, `${nativeDir}build.sh`];

let building: Promise<string> | undefined;

/**
 * Path of the pocketsphinx helper, compiling it with gcc on first use when the package
 * build has not (e.g. when running from sources under `--conditions=@voxpipe/source`),
 * or when it is older than its source (a stale helper speaks an older wire protocol,
 * which the stream code would wait on forever instead of failing).
 * @throws SpeechLocalSetupError when it can't be built (the message has the apt-get command).
 */
export function ensureHelper(): Promise<string> {
  building ??= ensureBuilt(HELPER_PATH, HELPER_SOURCES, `${nativeDir}build.sh`).catch(
    (err: unknown) => {
      building = undefined;
      throw err;
    },
  );
  return building;
}

/**
 * `binary` when it is executable and not older than any of `sources`; otherwise runs
 * `sh buildScript` first (make's rule, by modification time).
 * @throws SpeechLocalSetupError naming the build's stderr and the apt-get command.
 * @internal exported for its test.
 */
export async function ensureBuilt(
  binary: string,
  sources: readonly string[],
  buildScript: string,
): Promise<string> {
  if (await isCurrent(binary, sources)) return binary;
  try {
    await promisify(execFile)("sh", [buildScript]);
    return binary;
  } catch (err) {
    const detail =
      err instanceof Error && "stderr" in err ? String(err.stderr).trim() : String(err);
    throw new SpeechLocalSetupError(
      `cannot build the pocketsphinx helper (${detail}); install: ${APT_INSTALL_HINT}`,
    );
  }
}

async function isCurrent(binary: string, sources: readonly string[]): Promise<boolean> {
  try {
    await access(binary, constants.X_OK);
  } catch {
    return false; // not built yet
  }
  const built = (await stat(binary)).mtimeMs;
  for (const source of sources) {
    // A source that is absent (a trimmed install) cannot make the helper stale.
    const changed = await stat(source).then(
      (s) => s.mtimeMs,
      () => 0,
    );
    if (changed > built) return false;
  }
  return true;
}
