/**
 * The `local` turn engine: real offline speech recognition and turn detection from
 * `@voxpipe/speech-local` (pocketsphinx + Silero VAD + the LM-adaptive turn-end estimator).
 *
 * What it reports per 80 ms frame (engine.ts contract):
 * - `transcript`/`words`: pocketsphinx's current hypothesis for the turn, sentence-cased;
 *   end punctuation once the user pauses (Flux punctuates ended turns, not ongoing ones);
 *   words only after the VAD has heard speech in the turn (no turns from noise alone).
 * - `speechActive`: the VAD (so `eot_timeout_ms` counts streamed silence, as on Flux).
 * - `endOfTurnConfidence`: sigmoid((pause − T)/τ), the pause counted from the end of the
 *   last recognised word once the VAD hears silence, T from P(</s> | last words) and, longer,
 *   when the last word is not lengthened as utterance ends are (a prosodic cue), so
 *   `eot_threshold` 0.5…0.9 moves the end of turn later and surer, as on Flux
 *   (see `@voxpipe/speech-local` README "Turn-end estimator").
 * Keyterms (query and Configure) boost the LM for words the pocketsphinx dictionary
 * knows, from the next utterance on. `numerals` and language hints are not honoured
 * (English-only model, no inverse text normalisation).
 */
import {
  confidenceFeatures,
  formatWords,
  LocalSpeech,
  Resampler16k,
  SAMPLE_RATE,
} from "@voxpipe/speech-local";
import { withTimeout } from "@voxpipe/core";
import type {
  LocalSpeechOptions,
  LocalSpeechStream,
  SearchPreset,
  TurnObservation,
} from "@voxpipe/speech-local";
import type { FluxWord } from "@voxpipe/flux-protocol";
import type {
  AudioFrame,
  EngineConfiguration,
  EngineSessionContext,
  EngineWarning,
  RecognitionState,
  TurnEngine,
  TurnEngineFactory,
  TurnEngineProvider,
} from "../engine.js";
import { REDUCED_SEARCH_WARNING } from "../engine.js";

/** Options of the `local` engine (`startFluxServer({ engine: "local", engineOptions })`). */
export interface LocalEngineOptions {
  /** `"silero"` (default) or `"webrtc"` (the light fallback without ONNX). */
  vad?: "silero" | "webrtc";
  /** Directory laid out like Debian's `pocketsphinx-en-us` (default: env `VOXPIPE_SPHINX_MODEL_DIR` or `/usr/share/pocketsphinx/model/en-us`). */
  modelDir?: string;
  /**
   * Word-confidence model (`@voxpipe/speech-local` `ConfidenceCalibration`: `slope`,
   * `intercept`, `unscored`, optional `neighbours`, `secondsPerPhone`, `turnAcousticScore`),
   * e.g. one fitted on your own audio.
   */
  confidenceCalibration?: Record<string, number>;
  /** Turn-end curve (`@voxpipe/speech-local` `TurnEndOptions`: numbers in ms or probabilities). */
  turnEnd?: Record<string, number>;
  /** VAD hysteresis (`@voxpipe/speech-local` `SpeechActivityOptions`: probabilities, ms). */
  activity?: Record<string, number>;
  /**
   * Extra pocketsphinx search arguments merged over `DEFAULT_DECODER_ARGS`, e.g.
   * `{ "-maxhmmpf": "5000" }` (trade CPU per stream for words; see speech-local's README).
   */
  decoderArgs?: Record<string, string>;
  /**
   * The recognizer searches only audio the VAD calls speech, plus margins
   * (`@voxpipe/speech-local` `SearchGateOptions`: `threshold`, `closeAfterMs`, `lookBackMs`);
   * `false` (the default) searches all audio pocketsphinx's energy VAD lets through.
   */
  searchGate?: Record<string, number> | false;
  /**
   * The recognizer's search effort (`@voxpipe/speech-local` `LocalSpeechOptions.search`):
   * `"default"`, or `"fast"` — tighter pocketsphinx pruning (`-pl_weight 4 -lpbeam 1e-30`,
   * `FAST_SEARCH_DECODER_ARGS`): ≈20 % less decoder CPU per audio second for a few words on some
   * voices, for a server that must carry more concurrent calls per core (speech-local README,
   * "CPU"). `decoderArgs` still override single arguments.
   */
  search?: "default" | "fast";
  /**
   * Admission-time degradation: a session that starts while the server is overloaded (a live
   * session is behind real time, `EngineSessionContext.serverOverloaded`) uses this search
   * instead of `search`, for its whole life, and its client gets a `Warning`
   * {@link REDUCED_SEARCH_WARNING} after `Connected`. Sessions already running keep theirs.
   * A second recognizer host with this search is loaded at start (≈0.4 s, its own model
   * copy). Default: unset, every session uses `search`.
   */
  overloadSearch?: "default" | "fast";
}

const TURN_END_KEYS = [
  "completeMs",
  "incompleteMs",
  "tauMs",
  "pIncomplete",
  "pComplete",
  "trustedConfidence",
  "uncertainCompleteness",
  "unlengthenedMs",
  "lengthenedRatio",
  "unlengthenedRatio",
] as const;

const ACTIVITY_KEYS = ["positiveThreshold", "negativeThreshold", "minSpeechMs"] as const;
const SEARCH_GATE_KEYS = ["threshold", "closeAfterMs", "lookBackMs"] as const;

/** A plain object of finite numbers with exactly the allowed keys (the ones present). */
function numberRecord(
  option: string,
  value: unknown,
  allowed: readonly string[],
  required: readonly string[] = [],
): Record<string, number> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(
      `local engine option ${option} must be an object of numbers, got ${JSON.stringify(value)}`,
    );
  }
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(value)) {
    if (!allowed.includes(k)) {
      throw new RangeError(
        `unknown key ${JSON.stringify(k)} in local engine option ${option}; allowed: ${allowed.join(", ")}`,
      );
    }
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new TypeError(
        `local engine option ${option}.${k} must be a finite number, got ${JSON.stringify(v)}`,
      );
    }
    out[k] = v;
  }
  for (const k of required) {
    if (!(k in out)) throw new TypeError(`local engine option ${option} needs ${k}`);
  }
  return out;
}

/** A plain object of strings (pocketsphinx arguments; `SphinxRecognizer.start` checks the names). */
function stringRecord(option: string, value: unknown): Record<string, string> {
  if (
    typeof value !== "object" ||
    value === null ||
    Array.isArray(value) ||
    !Object.values(value).every((v) => typeof v === "string")
  ) {
    throw new TypeError(
      `local engine option ${option} must be an object of strings (e.g. {"-maxhmmpf":"5000"}), got ${JSON.stringify(value)}`,
    );
  }
  return { ...(value as Record<string, string>) };
}

/**
 * The `local` engine's options (JSON-shaped, as `--engine-options` gives them) as
 * `LocalSpeechOptions`. Not part of the package's API: the benches (`pnpm bench:local-rtf
 * --ab '…'`) read the same JSON the server and `pnpm eval:local-heldout --engine-options` take.
 * @throws RangeError/TypeError on a bad option (names the option and what is allowed).
 */
export function localSpeechOptions(options: Readonly<Record<string, unknown>>): LocalSpeechOptions {
  const out: LocalSpeechOptions = {};
  for (const [key, value] of Object.entries(options)) {
    if (key === "vad") {
      if (value !== "silero" && value !== "webrtc") {
        throw new RangeError(
          `local engine option vad must be "silero" or "webrtc", got ${JSON.stringify(value)}`,
        );
      }
      out.vad = value;
    } else if (key === "modelDir") {
      if (typeof value !== "string" || value === "") {
        throw new TypeError(
          `local engine option modelDir must be a directory path, got ${JSON.stringify(value)}`,
        );
      }
      out.recognizer = {
        ...out.recognizer,
        model: {
          hmm: `${value}/en-us`,
          lm: `${value}/en-us.lm.bin`,
          dict: `${value}/cmudict-en-us.dict`,
        },
      };
    } else if (key === "confidenceCalibration") {
      const required = ["slope", "intercept", "unscored"];
      const optional = ["neighbours", "secondsPerPhone", "turnAcousticScore"];
      const c = numberRecord(key, value, [...required, ...optional], required);
      out.confidenceCalibration = {
        slope: c.slope,
        intercept: c.intercept,
        unscored: c.unscored,
        ...c,
      };
    } else if (key === "turnEnd") {
      out.turnEnd = numberRecord(key, value, TURN_END_KEYS);
    } else if (key === "activity") {
      out.activity = numberRecord(key, value, ACTIVITY_KEYS);
    } else if (key === "decoderArgs") {
      out.recognizer = { ...out.recognizer, decoderArgs: stringRecord(key, value) };
    } else if (key === "searchGate") {
      out.searchGate = value === false ? false : numberRecord(key, value, SEARCH_GATE_KEYS);
    } else if (key === "overloadSearch") {
      continue; // read by createLocalEngine: it starts a second host with this search
    } else if (key === "search") {
      out.search = value as SearchPreset; // LocalSpeech.start names the allowed values
    } else {
      throw new RangeError(
        `unknown local engine option ${JSON.stringify(key)}; allowed: vad, modelDir, confidenceCalibration, turnEnd, activity, decoderArgs, searchGate, search, overloadSearch`,
      );
    }
  }
  return out;
}

/**
 * Build the `local` engine factory: loads the pocketsphinx model once (≈0.4 s); every
 * session forks a decoder that shares it.
 * @throws SpeechLocalSetupError (from `@voxpipe/speech-local`) when pocketsphinx or its
 *   model is missing; the message names the `apt-get install` command.
 * @throws RangeError/TypeError on a bad option (names the option and what is allowed).
 */
export const createLocalEngine: TurnEngineProvider = async (options) => {
  const parsed = localSpeechOptions(options);
  const speech = await LocalSpeech.start(parsed);
  if (options.overloadSearch === undefined) return localEngineFactory(speech);
  try {
    const overloaded = await LocalSpeech.start({
      ...parsed,
      search: options.overloadSearch as SearchPreset, // LocalSpeech.start names the allowed values
    });
    return localEngineFactory(speech, { overloaded });
  } catch (error) {
    await speech.close();
    throw error instanceof RangeError
      ? new RangeError(`local engine option overloadSearch: ${error.message}`)
      : error;
  }
};

/**
 * The `local` engine's factory over an already started {@link LocalSpeech}. Not part of the
 * package's API: `observe` lets the turn-end replay bench (`pnpm bench:turn-end-replay`)
 * record every frame's {@link TurnObservation} as the server's sessions hear it.
 */
export function localEngineFactory(
  speech: LocalSpeech,
  hooks: {
    /** Sessions that start while the server is overloaded open here (see `overloadSearch`). */
    overloaded?: LocalSpeech;
    observe?: (
      context: EngineSessionContext,
      observation: TurnObservation,
      frame: AudioFrame,
    ) => void;
  } = {},
): TurnEngineFactory {
  const { overloaded, observe } = hooks;
  return {
    name: "local",
    async createSession(context) {
      const degrade = overloaded !== undefined && context.serverOverloaded === true;
      const stream = await (degrade ? overloaded : speech).openStream({
        keyterms: context.configuration.keyterms,
        // Telephone audio (8 kHz, nothing above 4 kHz once resampled): start the cepstral
        // mean from telephone speech's, not the wideband model's.
        narrowband: context.sampleRate <= 8000,
      });
      const resampler =
        context.sampleRate === SAMPLE_RATE
          ? undefined
          : await Resampler16k.create(context.sampleRate);
      return new LocalTurnEngine(
        stream,
        resampler,
        context,
        observe,
        degrade
          ? {
              code: REDUCED_SEARCH_WARNING,
              description:
                "The server is overloaded: this session's speech recognition uses a cheaper search, which may get a few more words wrong.",
            }
          : undefined,
      );
    },
    close: async () => {
      await Promise.all([speech.close(), overloaded?.close()]);
    },
  };
}

/** How long a closing session waits for its decoder's CPU figures, ms (one chunk's work at most). */
const STATS_TIMEOUT_MS = 2000;

/** One session of the local engine. */
class LocalTurnEngine implements TurnEngine {
  /** The observation of the latest frame (the turn's words when it ends). */
  private last: TurnObservation | undefined;

  constructor(
    private readonly stream: LocalSpeechStream,
    private readonly resampler: Resampler16k | undefined,
    private readonly context: EngineSessionContext,
    private readonly observe?: (
      context: EngineSessionContext,
      o: TurnObservation,
      frame: AudioFrame,
    ) => void,
    readonly warning?: EngineWarning,
  ) {
    stream.onKeyterms = (r) =>
      // Counts only: keyterms are private and never logged.
      context.logger.debug(
        { boosted: r.known.length, notInDictionary: r.unknown.length },
        "keyterms applied",
      );
  }

  async hear(frame: AudioFrame): Promise<RecognitionState> {
    const pcm = this.resampler ? this.resampler.process(frame.samples) : frame.samples;
    this.last = await this.stream.push(pcm);
    this.observe?.(this.context, this.last, frame);
    return recognitionState(this.last);
  }

  configure(configuration: EngineConfiguration): void {
    this.stream.setKeyterms(configuration.keyterms);
  }

  async resetTurn(): Promise<void> {
    // The evidence behind each word confidence of the ended turn (numbers only, no words):
    // what `pnpm eval:local-heldout --split tune` fits the confidence model on.
    if (this.last && this.context.logger.isLevelEnabled("debug")) {
      const { words, recognizedWords } = this.last;
      const features = confidenceFeatures(recognizedWords);
      this.context.logger.debug(
        {
          wordEvidence: words.map((w, i) => ({
            start: w.start,
            end: w.end,
            confidence: w.confidence,
            ...features[i],
          })),
        },
        "turn word confidence evidence",
      );
    }
    // A clean utterance boundary: pocketsphinx runs its final pass on the ended turn and
    // starts the next turn with a fresh search.
    const words = await this.stream.finishTurn(true);
    this.context.logger.debug({ words: words.length }, "turn reset");
  }

  async close(): Promise<void> {
    this.resampler?.close();
    // What this stream cost (load-independent CPU seconds; `pnpm bench:local-capacity` sums
    // them per level). A decoder that already died, or hangs, has nothing to report: the
    // bounded wait keeps a stuck decoder from holding the session open.
    const stats = await withTimeout(
      this.stream.recognizer.stats(),
      STATS_TIMEOUT_MS,
      () => "decoder stats",
    ).catch(() => undefined);
    if (stats !== undefined) {
      this.context.logger.info(
        {
          audioSeconds: stats.audioSeconds,
          decoderCpuSeconds: stats.cpuSeconds,
          settles: stats.settles,
          settleCpuSeconds: stats.settleCpuSeconds,
        },
        "local engine stream closed",
      );
    }
    await this.stream.close();
  }
}

/**
 * What the server's turn state machine sees of an observation (not part of the package's API;
 * the turn-end replay bench maps its replayed observations with it too).
 */
export function recognitionState(o: TurnObservation): RecognitionState {
  const heard = o.turnHasSpeech ? o.words : [];
  const paused = !o.speaking && o.silenceMs > 0;
  const text = formatWords(
    heard.map((w) => w.word),
    paused,
  );
  const words: FluxWord[] = heard.map((w, i) => ({
    word: text[i],
    confidence: w.confidence,
    start: w.start,
    end: w.end,
  }));
  return {
    transcript: text.join(" "),
    words,
    speechActive: o.speaking,
    endOfTurnConfidence: heard.length > 0 ? o.endOfTurnConfidence : 0,
    languages: heard.length > 0 ? ["en"] : [],
  };
}
