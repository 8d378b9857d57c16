import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
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
  /** Posterior probability of the word in [0, 1] (pocketsphinx `ps_seg_prob`). */
  confidence: number;
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
}

/** CPU and memory of one stream's decoder process. */
export interface RecognizerStreamStats {
  /** Seconds of audio processed. */
  audioSeconds: number;
  /** CPU seconds the decoder used (one core). */
  cpuSeconds: number;
  /** Memory private to this stream, kB (the model is shared copy-on-write with the other streams). */
  privateKb: number;
}

/** Options of {@link SphinxRecognizer.start}. */
export interface SphinxRecognizerOptions {
  /** Model files; default {@link defaultModelPaths}. */
  model?: SphinxModelPaths;
  /** Audio between two partial hypotheses, ms. Default 200 (5 partials per second). Allowed 50–1000. */
  partialIntervalMs?: number;
  /**
   * Extra pocketsphinx arguments, e.g. `{ "-maxhmmpf": "3000" }`, merged over
   * {@link DEFAULT_DECODER_ARGS}. Names must start with `-`.
   */
  decoderArgs?: Readonly<Record<string, string>>;
}

/**
 * Search settings used unless overridden: at most 3000 active HMMs per frame and no
 * second (flat-lexicon, lattice) pass. On the labelled set this halves decoding CPU
 * (LibriVox RTF 0.41 → 0.21) with the same WER; transcripts come from the first pass
 * anyway, since turns end before pocketsphinx's own endpoint.
 */
export const DEFAULT_DECODER_ARGS: Readonly<Record<string, string>> = {
  "-maxhmmpf": "3000",
  "-fwdflat": "no",
  "-bestpath": "no",
};

interface WireWord {
  w: string;
  start: number;
  end: number;
  conf: number;
}
type WireLine =
  | { type: "ready"; load_cpu_s: number; max_rss_kb: number }
  | { type: "error"; message: string }
  | { type: "speech_start"; audio_t: number }
  | { type: "partial" | "final"; audio_t: number; words: WireWord[]; eos: number; reason?: string }
  | { type: "ack"; audio_t: number; in_speech: boolean }
  | { type: "keyterms"; applied: boolean; known: string[]; unknown: string[] }
  | { type: "stats"; audio_s: number; cpu_s: number; private_kb: number };

/**
 * The pocketsphinx recognizer host: one helper process that loads the model once and forks
 * a decoder per stream, so every stream shares the model's memory copy-on-write, runs on its
 * own core and cannot crash the others (see README "Design").
 */
export class SphinxRecognizer {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    private readonly socketPath: string,
    /** CPU seconds and peak RSS (kB) of loading the model, once for all streams. */
    readonly load: { cpuSeconds: number; maxRssKb: number },
  ) {}

  /**
   * Start the helper and load the model (≈0.4 s).
   * @throws SpeechLocalSetupError when pocketsphinx or its model is missing (with the apt-get command).
   * @throws RangeError when `partialIntervalMs` is outside 50–1000.
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
    const helper = await ensureHelper();
    const dir = await mkdtemp(join(tmpdir(), "voxpipe-sphinx-"));
    const socketPath = join(dir, "s");
    const child = spawn(
      helper,
      [
        socketPath,
        model.hmm,
        model.lm,
        model.dict,
        String(interval / 1000),
        ...Object.entries(decoderArgs).flat(),
      ],
      { stdio: ["pipe", "pipe", "inherit"] },
    );
    const lines = createInterface({ input: child.stdout });
    try {
      const first = await new Promise<WireLine>((resolve, reject) => {
        lines.once("line", (l) => resolve(JSON.parse(l) as WireLine));
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
      // The helper exits when its stdin closes, i.e. with this process; keep it from holding the loop open.
      child.unref();
      (child.stdout as unknown as { unref?: () => void }).unref?.();
      return new SphinxRecognizer(child, dir, socketPath, {
        cpuSeconds: first.load_cpu_s,
        maxRssKb: first.max_rss_kb,
      });
    } catch (err) {
      child.kill();
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Open a decoding stream (16 kHz mono PCM s16le). */
  async openStream(): Promise<RecognizerStream> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(this.socketPath, () => resolve(s));
      s.once("error", reject);
    });
    return new RecognizerStream(socket);
  }

  /** Stop the helper (open streams keep running until they close). */
  async close(): Promise<void> {
    this.child.stdin?.end();
    await rm(this.dir, { recursive: true, force: true });
  }
}

type Pending =
  | { kind: "ack"; resolve: (s: RecognizerState) => void; reject: (e: Error) => void }
  | { kind: "final"; resolve: (s: RecognizerState) => void; reject: (e: Error) => void }
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
  /** Called with the report each time a keyterm list takes effect (at the next utterance start). */
  onKeyterms: ((report: KeytermReport) => void) | undefined;
  /** Called on every partial (`final` false, ≈ every `partialIntervalMs` of speech) and final hypothesis. */
  onHypothesis: ((state: RecognizerState, final: boolean) => void) | undefined;

  /** @internal use {@link SphinxRecognizer.openStream}. */
  constructor(private readonly socket: Socket) {
    createInterface({ input: socket }).on("line", (l) => this.onLine(JSON.parse(l) as WireLine));
    const fail = (err?: Error): void => {
      this.failure ??= err ?? new Error("pocketsphinx stream closed");
      for (const p of this.pending.splice(0)) p.reject(this.failure);
    };
    socket.on("error", fail);
    socket.on("close", () => fail());
  }

  private onLine(line: WireLine): void {
    switch (line.type) {
      case "partial":
        this.partial = toWords(line.words);
        if (line.words.length > 0) this.eos = line.eos;
        this.audioTime = line.audio_t;
        this.onHypothesis?.(this.state(), false);
        break;
      case "final":
        this.committed.push(...toWords(line.words));
        this.partial = [];
        if (line.words.length > 0) this.eos = line.eos;
        this.audioTime = line.audio_t;
        this.onHypothesis?.(this.state(), true);
        if (line.reason === "finalize") this.settle("final");
        break;
      case "ack":
        this.audioTime = line.audio_t;
        this.inUtterance = line.in_speech;
        this.settle("ack");
        break;
      case "stats": {
        const p = this.pending.shift();
        if (p?.kind === "stats") {
          p.resolve({
            audioSeconds: line.audio_s,
            cpuSeconds: line.cpu_s,
            privateKb: line.private_kb,
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

  private settle(kind: "ack" | "final"): void {
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

  /** End the current utterance now (full final search pass) and resolve with the resulting state. */
  finalize(): Promise<RecognizerState> {
    return this.request("final", "F", Buffer.alloc(0));
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

  /** Forget finished words that start before `time` (s), e.g. those of a turn that has ended. */
  releaseWordsBefore(time: number): void {
    this.committed = this.committed.filter((w) => w.start >= time);
  }

  /** Close the stream; its decoder process exits. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.once("close", () => resolve());
      this.socket.end();
    });
  }
}

function toWords(words: WireWord[]): RecognizedWord[] {
  return words.map((w) => ({ word: w.w, start: w.start, end: w.end, confidence: w.conf }));
}
