import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import {
  APT_INSTALL_HINT,
  checkModel,
  defaultModelPaths,
  ensureHelper,
  modelFeatureParams,
  SpeechLocalSetupError,
} from "./system.js";
import type { SphinxModelPaths } from "./system.js";

/** One recognized word. Times are seconds of stream audio (since the stream's first sample). */
export interface RecognizedWord {
  /** Lowercase word, pronunciation-variant marker (`(2)`) stripped. */
  word: string;
  /** Start, seconds of stream audio. */
  start: number;
  /** End, seconds of stream audio. */
  end: number;
  /**
   * Posterior probability of the word in [0, 1] (pocketsphinx `ps_seg_prob` over the word
   * lattice) when {@link scored}; pocketsphinx's placeholder 1 otherwise.
   */
  confidence: number;
  /**
   * The word comes from a finished utterance whose lattice gave it a posterior. Words of a
   * partial hypothesis are not scored (the lattice exists only once the utterance ends).
   */
  scored: boolean;
  /**
   * Acoustic log-likelihood per 10 ms frame (natural log), relative to the best-scoring
   * senone of each frame: 0 when the word's sounds are the best match everywhere, more
   * negative the worse they fit (pocketsphinx normalises every frame's scores by its best).
   */
  acousticScore: number;
  /** Phones in the word's dictionary pronunciation (0 if the dictionary lacks it). */
  phones: number;
}

/** What the recognizer currently believes about the stream, at `audioTime`. */
export interface RecognizerState {
  /** Seconds of audio the recognizer has processed. */
  audioTime: number;
  /** Words of finished utterances not yet released with {@link RecognizerStream.releaseWordsBefore}, then the current partial hypothesis. */
  words: RecognizedWord[];
  /**
   * P(</s> | last two words) from the trigram LM for the latest hypothesis that had words
   * (`0` before any word): how likely the words so far end a sentence.
   */
  endOfSentenceProbability: number;
  /** pocketsphinx's own endpointer (0.5 s hangover) says an utterance is in progress. */
  inUtterance: boolean;
  /**
   * On the state {@link RecognizerStream.finalize} resolves with, when it was given a carry
   * point: the stream time (s, on the 10 ms frame grid) from which the next utterance
   * re-decodes the audio. `words` then holds only words starting before it; those after it
   * come again from the next utterance, decoded whole.
   */
  carryFrom?: number;
}

/** CPU and memory of one stream's decoder process. */
export interface RecognizerStreamStats {
  /** Seconds of audio processed. */
  audioSeconds: number;
  /** CPU seconds the decoder used (one core), including the forked copies that settled its pauses. */
  cpuSeconds: number;
  /** Memory private to this stream, kB (the model is shared copy-on-write with the other streams). */
  privateKb: number;
  /** Process id of the stream's decoder. */
  pid: number;
  /** Of {@link cpuSeconds}: the final passes at utterance ends (final search and lattice pass), CPU seconds. */
  finalCpuSeconds: number;
  /** Pauses settled ({@link RecognizerStream.settle} calls that forked a copy of the decoder). */
  settles: number;
  /** Of {@link cpuSeconds}: the settles (forking, and the copies' final search and lattice pass), CPU seconds. */
  settleCpuSeconds: number;
  /**
   * Seconds of audio the search decoded, of {@link audioSeconds}: pocketsphinx's energy VAD
   * (`-remove_silence`, on by default) hands the search only what it calls speech, padded by
   * `-vad_prespeech` (0.2 s) before and `-vad_postspeech` (0.5 s) after; the first pass's CPU
   * goes with this, not with the audio's length. 0 from a helper that does not report it.
   */
  searchedSeconds: number;
}

/** Options of {@link SphinxRecognizer.start}. */
export interface SphinxRecognizerOptions {
  /** Model files; default {@link defaultModelPaths}. */
  model?: SphinxModelPaths;
  /** Audio between two partial hypotheses, ms. Default 200 (5 partials per second). Allowed 50–1000. */
  partialIntervalMs?: number;
  /**
   * Extra pocketsphinx arguments, e.g. `{ "-maxhmmpf": "3000" }`, merged over
   * {@link DEFAULT_DECODER_ARGS}. Names must start with `-`. Front-end settings the acoustic
   * model's `feat.params` sets (filterbank, AGC, CMN, variance normalisation) cannot be
   * changed here: pocketsphinx applies the model's values over its arguments.
   */
  decoderArgs?: Readonly<Record<string, string>>;
}

/**
 * Search settings used unless overridden: at most 3000 active HMMs per frame, no flat-lexicon
 * second pass (`-fwdflat`: on the labelled set it cost ≈15 % more CPU for no reliable WER
 * gain), and the word-lattice pass (`-bestpath`) at each utterance end, which is cheap and
 * gives every final word a posterior probability (without it `ps_seg_prob` is always 1).
 */
export const DEFAULT_DECODER_ARGS: Readonly<Record<string, string>> = {
  "-maxhmmpf": "3000",
  "-fwdflat": "no",
  "-bestpath": "yes",
};

/**
 * The `"fast"` search (`LocalSpeechOptions.search`), merged over {@link DEFAULT_DECODER_ARGS}:
 * two of pocketsphinx's pruning thresholds tightened, trading a few words for decoder CPU.
 * - `-pl_weight` 3 → 4: the phone-loop lookahead's score counts more in pruning word-internal
 *   HMMs (the lookahead, `-pl_window` 5 frames, estimates which phones come next; a higher
 *   weight prunes paths it finds unlikely sooner).
 * - `-lpbeam` 1e-40 → 1e-30: the beam for the last phone of each word (word exits and
 *   cross-word transitions), narrowed.
 *
 * Measured (speech-local README, "CPU"; chosen on the held-out tune half, never the test half):
 * decoder CPU per audio second on LibriVox ≈ −20 % (−18 to −25 % in five interleaved runs of
 * `pnpm bench:local-rtf --ab '{"search":"fast"}'`; flite −4 to −15 %), tune WER flite 7.1 → 6.0 %, LibriVox 22.0 → 24.4 %, espeak-ng 36.9 → 35.7 %,
 * noisy 30.3 → 33.6 %, flite telephone 48.8 → 54.8 %, false EndOfTurn 1 → 2 of 52; median
 * EndOfTurn latency, eager lead and eager transcript = final unchanged.
 */
export const FAST_SEARCH_DECODER_ARGS: Readonly<Record<string, string>> = {
  "-pl_weight": "4",
  "-lpbeam": "1e-30",
};

/**
 * Cepstral mean (13 coefficients, pocketsphinx's MFCC units) of telephone speech — 8 kHz
 * audio, nothing above 4 kHz, resampled to 16 kHz — that narrowband streams start from
 * (`openStream({ narrowband: true })`) instead of the wideband model's trained mean
 * (`-cmninit` 41.00,-5.29,-0.12,…). Measured on the held-out tune half's telephone copies
 * (flite, espeak-ng, LibriVox; 8 kHz G.711 μ-law, `sox -R`): the mean each stream reached
 * after its turns, averaged (twice: the second time starting from the first result); the test
 * half was not used. The empty band moves the higher
 * coefficients far from the wideband mean (c1 +25.6 instead of −5.3, c3 +43.8 instead of +5.1),
 * so a telephone stream warmed up from the wideband mean decoded its first seconds with a
 * mean for another channel.
 */
export const NARROWBAND_CEPSTRAL_MEAN: readonly number[] = [
  44.15, 25.62, -31.19, 43.75, -19.51, -4.53, 14.5, -29.4, 13.27, -9.75, -2.95, 14.5, -14.4,
];

interface WireWord {
  w: string;
  start: number;
  end: number;
  conf: number;
  /** Acoustic score per frame and phones (received leniently: absent from an older helper). */
  ac?: number;
  phones?: number;
}
type WireLine =
  | { type: "ready"; load_cpu_s: number; max_rss_kb: number }
  | { type: "error"; message: string }
  | { type: "speech_start"; audio_t: number }
  | {
      type: "partial" | "final" | "settled";
      audio_t: number;
      words: WireWord[];
      eos: number;
      reason?: string;
      cmn?: number[];
      /** On a "final" answering a finalize with a carry point: where the next utterance re-decodes from, s. */
      carry_from?: number;
      /** On "settled": the lattice pass could not run, the words are the first pass's. */
      unscored?: boolean;
    }
  | { type: "ack"; audio_t: number; in_speech: boolean }
  | { type: "keyterms"; applied: boolean; known: string[]; unknown: string[] }
  | {
      type: "stats";
      audio_s: number;
      cpu_s: number;
      private_kb: number;
      pid: number;
      final_cpu_s: number;
      settles: number;
      settle_cpu_s: number;
      /** Absent from an older helper (received leniently). */
      searched_s?: number;
    };

/**
 * One line of the helper's JSON-lines protocol.
 * @throws Error naming the line when it is not a JSON object with a `type`.
 */
function parseWireLine(text: string): WireLine {
  let line: unknown;
  try {
    line = JSON.parse(text);
  } catch {
    line = undefined;
  }
  if (typeof (line as { type?: unknown } | undefined)?.type !== "string") {
    throw new Error(
      `pocketsphinx helper sent an unreadable line: ${JSON.stringify(text.slice(0, 120))}`,
    );
  }
  return line as WireLine;
}

/** A running helper: the process that holds the model and forks a decoder per stream. */
interface Helper {
  child: ChildProcess;
  socketPath: string;
  load: { cpuSeconds: number; maxRssKb: number };
  /** Date.now() when it became ready. */
  readyAt: number;
}

/**
 * A restarted helper that dies sooner than this (ms) is started again only on demand (the
 * next openStream), so a crash loop never spins; otherwise a dead helper is restarted at once.
 */
const EAGER_RESTART_AFTER_MS = 1000;

/** How long `openStream` waits for a helper whose socket refused to be reaped, ms. */
const HELPER_EXIT_WAIT_MS = 2000;

/** Whether `child` has exited, or does within `ms`. */
async function hasExited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  try {
    await once(child, "exit", { signal: AbortSignal.timeout(ms) });
    return true;
  } catch {
    return false;
  }
}

/** Two pocketsphinx option values that mean the same (`6800` and `6800.0` do). */
function sameSetting(a: string, b: string): boolean {
  const x = Number(a);
  const y = Number(b);
  return a === b || (a.trim() !== "" && b.trim() !== "" && Number.isFinite(x) && x === y);
}

/**
 * The pocketsphinx recognizer host: one helper process that loads the model once and forks
 * a decoder per stream, so every stream shares the model's memory copy-on-write, runs on its
 * own core and cannot crash the others (see README "Design").
 *
 * If the helper dies (killed, out of memory), streams already open keep their own decoder
 * processes; the helper is started again (at once, or at the next {@link openStream} when a
 * restarted helper died within a second), so new streams work without restarting the server.
 */
export class SphinxRecognizer {
  private helper: Promise<Helper> | undefined;
  private spawned = 0;
  private closed = false;
  /** How many times the helper was started again after it died. */
  restarts = 0;
  /** Called when the helper dies unexpectedly (exit code or signal), before it is restarted. */
  onHelperExit: ((info: { code: number | null; signal: string | null }) => void) | undefined;

  private constructor(
    private readonly args: readonly string[],
    /** The decoder runs the lattice pass, so final words carry posteriors. */
    private readonly scoresFinals: boolean,
    private readonly dir: string,
    first: Helper,
  ) {
    this.load = first.load;
    this.helper = Promise.resolve(first);
    this.watch(first);
  }

  /** CPU seconds and peak RSS (kB) of loading the model, once for all streams (the first helper's). */
  readonly load: { cpuSeconds: number; maxRssKb: number };

  /** Process id of the current helper (undefined while it is being restarted). */
  helperPid: number | undefined;

  /**
   * Start the helper and load the model (≈0.4 s).
   * @throws SpeechLocalSetupError when pocketsphinx or its model is missing (with the apt-get command).
   * @throws RangeError when `partialIntervalMs` is outside 50–1000, or when `decoderArgs` has
   * a name that is not a pocketsphinx option, or a front-end setting the acoustic model's
   * `feat.params` fixes at another value (`-nfilt`, `-lowerf`, `-upperf`, `-agc`, `-varnorm`,
   * `-cmn`… with Debian's en-us model): pocketsphinx would silently use the model's.
   */
  static async start(options: SphinxRecognizerOptions = {}): Promise<SphinxRecognizer> {
    const interval = options.partialIntervalMs ?? 200;
    if (!(interval >= 50 && interval <= 1000)) {
      throw new RangeError(`partialIntervalMs must be within 50–1000 ms, got ${interval}`);
    }
    const decoderArgs = { ...DEFAULT_DECODER_ARGS, ...options.decoderArgs };
    for (const [name, value] of Object.entries(decoderArgs)) {
      if (!/^-[a-z_]+$/.test(name) || typeof value !== "string") {
        throw new RangeError(
          `decoderArgs: ${JSON.stringify(name)} must be a pocketsphinx option (-name) with a string value`,
        );
      }
    }
    const model = options.model ?? defaultModelPaths();
    await checkModel(model);
    // pocketsphinx applies the model's feat.params over the command line, so a front-end
    // setting the model fixes (e.g. -nfilt, -lowerf, -upperf, -agc, -varnorm, -cmn) would
    // be ignored without a word: say so instead.
    const fixed = await modelFeatureParams(model.hmm);
    for (const [name, value] of Object.entries(options.decoderArgs ?? {})) {
      const modelValue = fixed.get(name);
      if (modelValue !== undefined && !sameSetting(modelValue, value)) {
        throw new RangeError(
          `decoderArgs: ${JSON.stringify(name)} is ${JSON.stringify(value)}, but the acoustic model fixes it at ${JSON.stringify(modelValue)} (${model.hmm}/feat.params), which pocketsphinx applies over decoder arguments; leave it out, or use a model whose feat.params sets it`,
        );
      }
    }
    const binary = await ensureHelper();
    const dir = await mkdtemp(join(tmpdir(), "voxpipe-sphinx-"));
    const args = [
      binary,
      model.hmm,
      model.lm,
      model.dict,
      String(interval / 1000),
      ...Object.entries(decoderArgs).flat(),
    ];
    try {
      const first = await spawnHelper(args, join(dir, "s0"));
      return new SphinxRecognizer(args, decoderArgs["-bestpath"] !== "no", dir, first);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  private watch(helper: Helper): void {
    this.helperPid = helper.child.pid;
    helper.child.once("exit", (code, signal) => {
      if (this.closed) return;
      this.helperPid = undefined;
      this.onHelperExit?.({ code, signal });
      const lived = Date.now() - helper.readyAt;
      this.helper = undefined;
      if (lived >= EAGER_RESTART_AFTER_MS || this.restarts === 0) {
        // Load the model now so the next session does not wait for it; a failure is
        // reported to that session by openStream, which tries again.
        this.restart().catch(() => undefined);
      }
    });
  }

  private restart(): Promise<Helper> {
    const next = spawnHelper(this.args, join(this.dir, `s${++this.spawned}`)).then((h) => {
      this.restarts += 1;
      if (this.closed) h.child.stdin?.end();
      else this.watch(h);
      return h;
    });
    this.helper = next;
    next.catch(() => {
      if (this.helper === next) this.helper = undefined;
    });
    return next;
  }

  /**
   * Open a decoding stream (16 kHz mono PCM s16le). It starts from the model's trained
   * cepstral mean and adapts it to its own audio during the first seconds of speech, so its
   * first utterance is not decoded with a stranger's channel; or from `cepstralMeanPrior`
   * (e.g. {@link RecognizerStream.cepstralMean} of the same caller's previous connection).
   * Streams never share a mean by themselves: measured on the held-out tune half, a mean
   * carried from whichever stream finished last (another caller, a telephone line, a noisy
   * room) cost more words than it saved. `narrowband`: the audio is band-limited telephone
   * speech (8 kHz, resampled to 16 kHz); the warm-up starts from
   * {@link NARROWBAND_CEPSTRAL_MEAN} instead of the model's wideband mean (ignored when
   * `cepstralMeanPrior` is given).
   * @throws SpeechLocalSetupError when the helper died and cannot be started again.
   * @throws Error when the recognizer is closed.
   */
  async openStream(
    options: { cepstralMeanPrior?: readonly number[]; narrowband?: boolean } = {},
  ): Promise<RecognizerStream> {
    if (this.closed) throw new Error("the recognizer is closed");
    const helper = await (this.helper ?? this.restart());
    let socket: Socket;
    try {
      socket = await connectTo(helper.socketPath);
    } catch (err) {
      // The helper died after our last look: its socket refuses before Node has reaped it (the
      // exit event comes on a later turn of the event loop, later still under load), so wait
      // briefly for that exit rather than read exitCode now; then start it again, once.
      if (!(await hasExited(helper.child, HELPER_EXIT_WAIT_MS))) throw err;
      const current = await this.helper?.catch(() => undefined);
      const next = current && current !== helper ? current : await this.restart();
      socket = await connectTo(next.socketPath);
    }
    const stream = new RecognizerStream(socket, this.scoresFinals);
    if (options.cepstralMeanPrior) stream.setCepstralMeanPrior(options.cepstralMeanPrior);
    else if (options.narrowband) stream.setWarmUpMean(NARROWBAND_CEPSTRAL_MEAN);
    return stream;
  }

  /** Stop the helper (open streams keep running until they close). */
  async close(): Promise<void> {
    this.closed = true;
    const helper = await this.helper?.catch(() => undefined);
    helper?.child.stdin?.end();
    await rm(this.dir, { recursive: true, force: true });
  }
}

function connectTo(path: string): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const s = connect(path, () => resolve(s));
    s.once("error", reject);
  });
}

/** Spawn the helper and wait for its `ready` line. */
async function spawnHelper(args: readonly string[], socketPath: string): Promise<Helper> {
  const [binary, ...rest] = args;
  const child = spawn(binary, [socketPath, ...rest], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout });
  try {
    const first = await new Promise<WireLine>((resolve, reject) => {
      lines.once("line", (text) => {
        try {
          resolve(parseWireLine(text));
        } catch (err) {
          reject(new SpeechLocalSetupError((err as Error).message));
        }
      });
      child.once("error", reject);
      child.once("exit", (code) =>
        reject(
          new SpeechLocalSetupError(
            `pocketsphinx helper exited (code ${String(code)}); install: ${APT_INSTALL_HINT}`,
          ),
        ),
      );
    });
    if (first.type !== "ready") {
      throw new SpeechLocalSetupError(
        `pocketsphinx helper failed: ${first.type === "error" ? first.message : first.type}`,
      );
    }
    lines.close();
    child.removeAllListeners("exit");
    child.removeAllListeners("error");
    // An error after start-up (e.g. EPIPE on stdin) surfaces as the exit the recognizer watches.
    child.on("error", () => undefined);
    child.stdin?.on("error", () => undefined);
    // The helper exits when its stdin closes, i.e. with this process; keep it from holding the loop open.
    child.unref();
    (child.stdout as unknown as { unref?: () => void }).unref?.();
    return {
      child,
      socketPath,
      load: { cpuSeconds: first.load_cpu_s, maxRssKb: first.max_rss_kb },
      readyAt: Date.now(),
    };
  } catch (err) {
    child.kill();
    throw err;
  }
}

type Pending =
  | { kind: "ack"; resolve: (s: RecognizerState) => void; reject: (e: Error) => void }
  | { kind: "final"; resolve: (s: RecognizerState) => void; reject: (e: Error) => void }
  | { kind: "settled"; resolve: (s: RecognizerState) => void; reject: (e: Error) => void }
  | { kind: "stats"; resolve: (s: RecognizerStreamStats) => void; reject: (e: Error) => void };

/** Outcome of applying keyterms: which words the dictionary knows (boosted) and which it lacks (ignored). */
export interface KeytermReport {
  applied: boolean;
  known: string[];
  unknown: string[];
}

/**
 * One audio stream through its own decoder. Requests are answered in order; audio is
 * aligned on stream time (seconds since the first sample written).
 */
export class RecognizerStream {
  private committed: RecognizedWord[] = [];
  private partial: RecognizedWord[] = [];
  private eos = 0;
  private audioTime = 0;
  private inUtterance = false;
  private readonly pending: Pending[] = [];
  private failure: Error | undefined;
  /**
   * The stream's cepstral mean after its latest utterance with ≥ 1.5 s of words (one value
   * per cepstral coefficient; undefined before): pass it as `cepstralMeanPrior` when the
   * same caller connects again. Shorter utterances are skipped: their mean is mostly the
   * silence around the words (after a lone "yes" in digital silence, c0 fell from 41 to 23
   * and a stream started from it heard nothing).
   */
  cepstralMean: readonly number[] | undefined;
  /** Called with the report each time a keyterm list takes effect (at the next utterance start). */
  onKeyterms: ((report: KeytermReport) => void) | undefined;
  /** Called on every partial (`final` false, ≈ every `partialIntervalMs` of speech) and final hypothesis. */
  onHypothesis: ((state: RecognizerState, final: boolean) => void) | undefined;

  /** @internal use {@link SphinxRecognizer.openStream}. */
  constructor(
    private readonly socket: Socket,
    /** Finals carry lattice posteriors (the decoder runs the `-bestpath` pass). */
    private readonly scoresFinals: boolean,
  ) {
    createInterface({ input: socket })
      .on("line", (text) => {
        try {
          this.onLine(parseWireLine(text));
        } catch (err) {
          // Replies are matched to requests by order: after a line that cannot be read, no
          // later answer can be trusted. This stream fails (its session ends with an error);
          // the process and the other streams go on.
          this.fail(err instanceof Error ? err : new Error(String(err)));
          socket.destroy();
        }
      })
      // readline re-emits the socket's errors; the socket's own handler below reports them.
      .on("error", () => undefined);
    const closed = (err?: Error): Error =>
      new Error(
        `pocketsphinx stream closed${err ? ` (${err.message})` : ""}: its decoder process ended`,
        { cause: err },
      );
    socket.on("error", (err) => this.fail(closed(err)));
    socket.on("close", () => this.fail(closed()));
  }

  /** The stream is broken: every pending and later request rejects with the first reason. */
  private fail(reason: Error): void {
    this.failure ??= reason;
    for (const p of this.pending.splice(0)) p.reject(this.failure);
  }

  private onLine(line: WireLine): void {
    switch (line.type) {
      case "partial":
        this.partial = toWords(line.words, false);
        if (line.words.length > 0) this.eos = line.eos;
        this.audioTime = line.audio_t;
        this.onHypothesis?.(this.state(), false);
        break;
      case "final": {
        if (line.cmn && speechSeconds(line.words) >= MIN_PRIOR_SPEECH_S)
          this.cepstralMean = line.cmn;
        this.committed.push(...toWords(line.words, this.scoresFinals));
        this.partial = [];
        if (line.words.length > 0) this.eos = line.eos;
        this.audioTime = line.audio_t;
        const carryFrom = typeof line.carry_from === "number" ? line.carry_from : undefined;
        // The audio from the carry point on is decoded again by the next utterance: its words
        // from this and earlier finals would otherwise be reported twice.
        if (carryFrom !== undefined)
          this.committed = this.committed.filter((w) => w.start < carryFrom);
        this.onHypothesis?.(this.state(), true);
        if (line.reason === "finalize") {
          const p = this.pending.shift();
          if (p?.kind === "final") p.resolve({ ...this.state(), carryFrom });
        }
        break;
      }
      case "settled": {
        const p = this.pending.shift();
        if (p?.kind === "settled") {
          p.resolve({
            audioTime: line.audio_t,
            words: [
              ...this.committed,
              ...toWords(line.words, this.scoresFinals && line.unscored !== true),
            ],
            endOfSentenceProbability: line.words.length > 0 ? line.eos : this.eos,
            inUtterance: this.inUtterance,
          });
        }
        break;
      }
      case "ack":
        this.audioTime = line.audio_t;
        this.inUtterance = line.in_speech;
        this.resolveNext("ack");
        break;
      case "stats": {
        const p = this.pending.shift();
        if (p?.kind === "stats") {
          p.resolve({
            audioSeconds: line.audio_s,
            cpuSeconds: line.cpu_s,
            privateKb: line.private_kb,
            pid: line.pid,
            finalCpuSeconds: line.final_cpu_s,
            settles: line.settles,
            settleCpuSeconds: line.settle_cpu_s,
            searchedSeconds: line.searched_s ?? 0,
          });
        }
        break;
      }
      case "keyterms":
        this.onKeyterms?.({ applied: line.applied, known: line.known, unknown: line.unknown });
        break;
      default:
        break;
    }
  }

  private resolveNext(kind: "ack"): void {
    const p = this.pending.shift();
    if (p && p.kind === kind) p.resolve(this.state());
  }

  /** The current state (no round trip). */
  state(): RecognizerState {
    return {
      audioTime: this.audioTime,
      words: [...this.committed, ...this.partial],
      endOfSentenceProbability: this.eos,
      inUtterance: this.inUtterance,
    };
  }

  private request<K extends Pending["kind"]>(
    kind: K,
    frameKind: string,
    payload: Buffer,
  ): Promise<Extract<Pending, { kind: K }> extends { resolve: (v: infer V) => void } ? V : never> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.push({ kind, resolve, reject } as unknown as Pending);
      this.send(frameKind, payload);
    });
  }

  /** A frame to the decoder (kind letter and payload, see native/voxpipe-sphinx.c). */
  private send(kind: string, payload: Buffer): void {
    const header = Buffer.alloc(5);
    header.write(kind, 0, "latin1");
    header.writeUInt32LE(payload.length, 1);
    this.socket.write(Buffer.concat([header, payload]));
  }

  /**
   * Decode `pcm` (16 kHz mono s16le samples). Resolves once the decoder has processed it,
   * with the state at the end of this audio.
   */
  write(pcm: Int16Array): Promise<RecognizerState> {
    return this.request("ack", "A", Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength));
  }

  /**
   * End the current utterance now (full final search pass) and resolve with the resulting state.
   * @param carryFrom stream time, s: the next utterance starts by decoding the audio again from
   *   this time (e.g. the end of the ended turn's last word), so speech that had begun when the
   *   utterance was ended — a word cut in half — is decoded whole in the next utterance, with
   *   stream-time word times. The decoder keeps the last 2 s of audio: an earlier time is
   *   moved up to the oldest audio kept. The resolved state's `carryFrom` says where the
   *   re-decoding starts. Omitted: the next utterance starts with the next audio written.
   * @throws RangeError (the promise rejects) when `carryFrom` is not a finite number ≥ 0.
   */
  async finalize(carryFrom?: number): Promise<RecognizerState> {
    return this.request("final", "F", finalizePayload(carryFrom));
  }

  /**
   * The words of the current utterance as if it ended now — the final search and its lattice
   * pass, so words carry posteriors — without ending it: if speech goes on, decoding
   * continues with the sentence's context (a forked copy of the decoder does the final pass).
   * Resolves with committed words followed by those settled words.
   */
  settle(): Promise<RecognizerState> {
    return this.request("settled", "P", Buffer.alloc(0));
  }

  /**
   * Stop searching audio (e.g. while a VAD hears no speech): audio written from now on is
   * kept (the last 2 s) and counted in stream time, but the search does not decode it until
   * {@link resumeSearch}. A skip shorter than pocketsphinx's `-vad_postspeech` (0.5 s) keeps
   * the utterance open, so the two pieces decode as one; once the skipped audio reaches it,
   * the utterance ends there (an "endpoint" final), as it would had the search heard that
   * silence. Saves the search's CPU on that audio. A no-op on a helper that predates it
   * (every frame is searched).
   */
  pauseSearch(): void {
    if (this.failure) return;
    this.send("G", Buffer.alloc(0));
  }

  /**
   * Search again, first the kept audio from stream time `from` on (s; never audio already
   * searched, never before the oldest kept 2 s), then all audio as it is written. The audio
   * between the pause and `from` is skipped; words after it keep their stream time.
   * @throws RangeError when `from` is not a finite number ≥ 0.
   */
  resumeSearch(from: number): void {
    const payload = timePayload("resumeSearch from", from);
    if (this.failure) return;
    this.send("G", payload);
  }

  /** CPU and private memory of this stream's decoder. */
  stats(): Promise<RecognizerStreamStats> {
    return this.request("stats", "S", Buffer.alloc(0));
  }

  /**
   * Boost these terms in the language model from the next utterance on (an empty list
   * removes the boost). Words the dictionary lacks are ignored (see {@link onKeyterms}).
   */
  setKeyterms(terms: readonly string[]): void {
    if (this.failure) return;
    this.send("K", Buffer.from(terms.map((t) => t.replace(/\n/g, " ")).join("\n"), "utf8"));
  }

  /**
   * Start from this cepstral mean (one value per cepstral coefficient, as reported by an
   * earlier stream's {@link cepstralMean}) instead of the model's default; only useful
   * before the first audio. pocketsphinx then weighs it as 5 s of speech (no fast warm-up).
   */
  setCepstralMeanPrior(mean: readonly number[]): void {
    if (this.failure) return;
    this.send("C", meanPayload(mean));
  }

  /**
   * Start the cepstral-mean warm-up from this mean instead of the model's trained one (e.g.
   * {@link NARROWBAND_CEPSTRAL_MEAN} for telephone audio): it is weighed like the trained
   * mean, as 2 s of speech, and the stream's own frames soon take over. Only useful before
   * the first audio.
   */
  setWarmUpMean(mean: readonly number[]): void {
    if (this.failure) return;
    this.send("I", meanPayload(mean));
  }

  /** Forget finished words that start before `time` (s), e.g. those of a turn that has ended. */
  releaseWordsBefore(time: number): void {
    this.committed = this.committed.filter((w) => w.start >= time);
  }

  /** Close the stream; its decoder process exits. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      // A decoder that hangs never closes its end of the socket: after a grace period the
      // socket is destroyed, so a stuck decoder cannot hold its session open.
      const timer = setTimeout(() => this.socket.destroy(), STREAM_CLOSE_GRACE_MS);
      this.socket.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
      this.socket.end();
    });
  }
}

/**
 * How long {@link RecognizerStream.close} waits for the decoder to finish the utterance and
 * close its end, ms (a final pass takes milliseconds; only a hung decoder needs longer).
 */
const STREAM_CLOSE_GRACE_MS = 2000;

/**
 * The payload of a finalize ('F') frame: empty, or the carry point as the decoder reads it,
 * seconds of stream audio in ASCII decimal (ms precision).
 * @throws RangeError when `carryFrom` is not a finite number ≥ 0.
 */
function finalizePayload(carryFrom: number | undefined): Buffer {
  return carryFrom === undefined ? Buffer.alloc(0) : timePayload("finalize carryFrom", carryFrom);
}

/**
 * A stream time as the decoder reads it: seconds in ASCII decimal (ms precision).
 * @throws RangeError naming `what` when `time` is not a finite number ≥ 0.
 */
function timePayload(what: string, time: number): Buffer {
  if (!Number.isFinite(time) || time < 0)
    throw new RangeError(
      `${what}: ${String(time)} is not allowed; use a stream time in seconds, ≥ 0`,
    );
  return Buffer.from(time.toFixed(3), "latin1");
}

/** A cepstral mean as the decoder reads it: comma-separated decimals. */
function meanPayload(mean: readonly number[]): Buffer {
  return Buffer.from(mean.map((v) => v.toFixed(3)).join(","), "latin1");
}

/** Speech an utterance must have (s of words) for its cepstral mean to be reported as {@link RecognizerStream.cepstralMean}. */
const MIN_PRIOR_SPEECH_S = 1.5;

function speechSeconds(words: readonly WireWord[]): number {
  return words.reduce((s, w) => s + (w.end - w.start), 0);
}

function toWords(words: WireWord[], scored: boolean): RecognizedWord[] {
  return words.map((w) => ({
    word: w.w,
    start: w.start,
    end: w.end,
    confidence: w.conf,
    scored,
    acousticScore: w.ac ?? 0,
    phones: w.phones ?? 0,
  }));
}
