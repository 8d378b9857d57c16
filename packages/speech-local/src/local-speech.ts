import { FAST_SEARCH_DECODER_ARGS, SphinxRecognizer } from "./recognizer.js";
import type {
  KeytermReport,
  RecognizedWord,
  RecognizerStream,
  RecognizerStreamStats,
  SphinxRecognizerOptions,
} from "./recognizer.js";
import { DEFAULT_CONFIDENCE_CALIBRATION, wordConfidences } from "./confidence.js";
import type { ConfidenceCalibration } from "./confidence.js";
import { prosodicCues } from "./prosody.js";
import { RecentAudio } from "./recent-audio.js";
import { SearchGate } from "./search-gate.js";
import type { SearchGateOptions } from "./search-gate.js";
import type { ProsodicCues } from "./prosody.js";
import { endOfTurnConfidence, SpeechActivity } from "./turn-end.js";
import type { SpeechActivityOptions, TurnEndOptions } from "./turn-end.js";
import { FramedVad, SileroVad, WebRtcVad } from "./vad.js";
import type { SileroModel, VadFrame, VoiceActivityDetector } from "./vad.js";

/** Audio kept for the prosodic cues of a turn's ending, s (its last words; measured once per pause: ≈0.06 ms of CPU, ≈8 ms with `pitchCues`). */
const PROSODY_AUDIO_S = 2.5;

/**
 * How far back from a turn's end the recognizer decodes again as the start of the next turn
 * when speech has begun there (never before the ended turn's last word), s. A word the user
 * began as the turn was ended began at most a chunk plus the VAD's onset lag before (had the
 * VAD heard it, the pause would have ended); and an EndOfTurn fires ≥ ≈400 ms after the last
 * word at the default `eot_threshold` 0.7, so this stays inside the pause. Starting right at
 * the last word's end instead re-decoded the tail of a word the hypothesis had ended early
 * ("no thanks" heard as "now if" gave the next turn an "and").
 */
const CARRY_BACK_S = 0.4;

/**
 * Speech has begun at a turn's end when a VAD frame of its last {@link RESUME_WINDOW_S} has
 * at least this probability: below the VAD's speech threshold (0.5), which an onset reaches
 * only after the turn end fired. At 47 of the tune half's 52 turn ends the VAD read ≤ 0.09
 * there (0.00–0.01 at 43), at 5 it read 0.20–0.48; the onset of "until" after a 400 ms
 * hesitation ("…open | until nine", the case this is for) read 0.31, 0.50. Without speech
 * there nothing is decoded again: re-decoding the pause at every turn end changed the next
 * turn's words on noisy and telephone copies and cost eager transcript = final on tune
 * (96.4 → 94.6 %).
 */
const RESUME_PROBABILITY = 0.2;
/** See {@link RESUME_PROBABILITY}, s (≈3 Silero frames). */
const RESUME_WINDOW_S = 0.1;

/**
 * The recognizer's search effort ({@link LocalSpeechOptions.search}): `"default"`, or
 * `"fast"` ({@link FAST_SEARCH_DECODER_ARGS}: tighter pruning, fewer CPU seconds per audio
 * second, a few words lost on some voices).
 */
export type SearchPreset = "default" | "fast";

/** The decoder arguments of each {@link SearchPreset} (over `DEFAULT_DECODER_ARGS`). */
const SEARCH_PRESETS: Readonly<Record<SearchPreset, Readonly<Record<string, string>>>> = {
  default: {},
  fast: FAST_SEARCH_DECODER_ARGS,
};

/** Options of {@link LocalSpeech.start}. */
export interface LocalSpeechOptions {
  /** Voice activity detector: Silero (default) or the light WebRTC fallback. */
  vad?: "silero" | "webrtc";
  /** Silero model, when `vad` is `"silero"`. Default `"v5"`. */
  sileroModel?: SileroModel;
  /** Recognizer options (model paths, partial interval). */
  recognizer?: SphinxRecognizerOptions;
  /** Turn-end curve (see {@link endOfTurnConfidence}). */
  turnEnd?: TurnEndOptions;
  /** VAD hysteresis. */
  activity?: SpeechActivityOptions;
  /**
   * Silence (VAD) after which the recognizer settles the utterance so far (final search and
   * lattice pass: words get posteriors and their final form, see `RecognizerStream.settle`)
   * and the turn's words stay fixed until speech resumes, ms of VAD silence (which itself
   * starts ≈80 ms after the last word). Default 0: at the first silent frame, before any
   * `eager_eot_threshold` can fire, so EagerEndOfTurn and EndOfTurn carry the same words.
   */
  settleMs?: number;
  /** Word-confidence model (posteriors and evidence → confidences); default {@link DEFAULT_CONFIDENCE_CALIBRATION}. */
  confidenceCalibration?: ConfidenceCalibration;
  /**
   * Also measure the pitch cues of {@link TurnObservation.prosody} (`finalPitchSlope`,
   * `finalPitchLevel`; see `ProsodicCueOptions.pitch`). Default `false`: the turn-end rule uses
   * only final lengthening, and pitch tracking was nearly all of the cues' CPU, on the event
   * loop once per pause. Turn on to study the cues (as `pnpm bench:turn-end-replay --cues` does).
   */
  pitchCues?: boolean;
  /**
   * Search only audio the VAD calls speech, plus margins (see {@link SearchGate}; `{}` for
   * its defaults); `false` searches everything pocketsphinx's own energy VAD lets through.
   * Default `false`: on the held-out tune half the gate searched ≈9 % fewer frames but cost
   * words on two voices and 27 ms of median EndOfTurn latency (speech-local README, "CPU").
   */
  searchGate?: SearchGateOptions | false;
  /**
   * How hard the recognizer's search prunes: `"default"` (pocketsphinx's beams as
   * `DEFAULT_DECODER_ARGS` leave them) or `"fast"`, {@link FAST_SEARCH_DECODER_ARGS} merged over
   * them: a measured trade of words for decoder CPU (≈20 % less per audio second; its TSDoc and
   * the README's "CPU" section give the figures) for deployments that need more concurrent
   * streams per core. `recognizer.decoderArgs` still override single arguments. Default
   * `"default"`.
   * @throws RangeError from {@link LocalSpeech.start} for any other value.
   */
  search?: SearchPreset;
}

/** What the local speech stack knows at the end of a chunk of audio. */
export interface TurnObservation {
  /** End of the audio processed so far, seconds of stream audio. */
  audioTime: number;
  /** The VAD hears speech at the end of the chunk. */
  speaking: boolean;
  /** The current turn has speech (VAD) since it began. */
  turnHasSpeech: boolean;
  /** Silence (VAD) since the current turn's last speech, ms (0 while speaking or before speech). */
  silenceMs: number;
  /**
   * The pause the turn-end estimate sees, ms: while the VAD hears silence, the audio since the
   * end of the turn's last word (the VAD's own speech→silence lag is not counted); else 0.
   */
  pauseMs: number;
  /**
   * Words of the current turn so far (times in seconds of stream audio), `confidence` the
   * probability the word is right (see `wordConfidences`).
   */
  words: RecognizedWord[];
  /** The same words as the recognizer gave them: `confidence` is the lattice posterior. */
  recognizedWords: RecognizedWord[];
  /** P(</s> | last two words) from the trigram LM. */
  endOfSentenceProbability: number;
  /**
   * How the turn's last word sounds (lengthening, energy, and pitch with
   * {@link LocalSpeechOptions.pitchCues}), measured on the audio once per pause when the words
   * settle; `undefined` while the user speaks.
   */
  prosody: ProsodicCues | undefined;
  /** The turn-end estimate in [0, 1] (0 while the turn has no words). */
  endOfTurnConfidence: number;
}

/**
 * The local speech stack: a pocketsphinx recognizer host (model loaded once, shared by all
 * streams) plus a VAD and the turn-end estimator per stream.
 */
export class LocalSpeech {
  private constructor(
    readonly recognizer: SphinxRecognizer,
    private readonly options: LocalSpeechOptions,
  ) {}

  /**
   * Load the recognizer model and check the VAD loads.
   * @throws SpeechLocalSetupError when a system package or the VAD's optional npm package is
   *   missing (the message says what to install).
   * @throws RangeError when `search` is not `"default"` or `"fast"`, or on a bad recognizer
   *   option (see `SphinxRecognizer.start`).
   */
  static async start(options: LocalSpeechOptions = {}): Promise<LocalSpeech> {
    const search = options.search ?? "default";
    if (!Object.hasOwn(SEARCH_PRESETS, search)) {
      throw new RangeError(
        `search must be one of ${Object.keys(SEARCH_PRESETS)
          .map((k) => JSON.stringify(k))
          .join(", ")}, got ${JSON.stringify(search)}`,
      );
    }
    // The VAD backends are optional packages: fail here, naming them, not on every stream.
    const probe =
      options.vad === "webrtc"
        ? new WebRtcVad()
        : await SileroVad.create(options.sileroModel ?? "v5");
    await probe.close();
    const recognizer = await SphinxRecognizer.start({
      ...options.recognizer,
      decoderArgs: { ...SEARCH_PRESETS[search], ...options.recognizer?.decoderArgs },
    });
    return new LocalSpeech(recognizer, options);
  }

  /**
   * Open one audio stream (16 kHz mono PCM s16le). `cepstralMeanPrior` and `narrowband`
   * (telephone audio, 8 kHz resampled to 16 kHz): see `SphinxRecognizer.openStream`.
   */
  async openStream(
    options: {
      keyterms?: readonly string[];
      cepstralMeanPrior?: readonly number[];
      narrowband?: boolean;
    } = {},
  ): Promise<LocalSpeechStream> {
    const detector: VoiceActivityDetector =
      this.options.vad === "webrtc"
        ? new WebRtcVad()
        : await SileroVad.create(this.options.sileroModel ?? "v5");
    const recognizer = await this.recognizer.openStream({
      cepstralMeanPrior: options.cepstralMeanPrior,
      narrowband: options.narrowband,
    });
    if (options.keyterms?.length) recognizer.setKeyterms(options.keyterms);
    return new LocalSpeechStream(recognizer, detector, this.options);
  }

  /** Stop the recognizer host. */
  close(): Promise<void> {
    return this.recognizer.close();
  }
}

/**
 * One stream: feed audio with {@link push}, read a {@link TurnObservation} per chunk,
 * and tell it when a turn ended ({@link finishTurn}) so the next turn starts empty.
 */
export class LocalSpeechStream {
  private readonly vad: FramedVad;
  private readonly activity: SpeechActivity;
  /** Audio time the current turn began (its VAD speech counts from here), s. */
  private turnStart = 0;
  /**
   * Its words count from here, s: the end of the previous turn's last word, where the
   * recognizer re-decoded from (see {@link finishTurn}); else {@link turnStart}.
   */
  private wordsFrom = 0;
  private last: TurnObservation | undefined;
  /** The words as settled at the current pause (undefined while speaking). */
  private settled:
    | { words: RecognizedWord[]; endOfSentenceProbability: number; prosody: ProsodicCues }
    | undefined;
  /** The latest audio (≤ {@link PROSODY_AUDIO_S}), for the prosodic cues. */
  private readonly recent = new RecentAudio(PROSODY_AUDIO_S);
  private readonly settleMs: number;
  private readonly calibration: ConfidenceCalibration;
  /** The VAD frames of the last {@link RESUME_WINDOW_S}: has speech begun (see {@link RESUME_PROBABILITY})? */
  private latestFrames: { end: number; probability: number }[] = [];
  /** Which audio the recognizer searches; undefined (everything) unless `searchGate` is set. */
  private readonly gate: SearchGate | undefined;

  /** @internal use {@link LocalSpeech.openStream}. */
  constructor(
    readonly recognizer: RecognizerStream,
    private readonly detector: VoiceActivityDetector,
    private readonly options: LocalSpeechOptions,
  ) {
    this.vad = new FramedVad(detector);
    this.activity = new SpeechActivity(options.activity);
    this.settleMs = options.settleMs ?? 0;
    this.calibration = options.confidenceCalibration ?? DEFAULT_CONFIDENCE_CALIBRATION;
    this.gate = options.searchGate ? new SearchGate(options.searchGate) : undefined;
  }

  /**
   * Process a chunk of 16 kHz mono PCM s16le; resolves once both the recognizer and the VAD
   * have consumed it, so the observation is exact on audio time whatever the input pace.
   */
  async push(pcm: Int16Array): Promise<TurnObservation> {
    const [written, frames] = await Promise.all([this.recognizer.write(pcm), this.vad.push(pcm)]);
    let state = written;
    this.steerSearch(frames, written.audioTime);
    this.recent.push(pcm, written.audioTime);
    for (const f of frames) this.activity.update(f.start, f.end, f.probability);
    this.latestFrames = [...this.latestFrames, ...frames].filter(
      (f) => f.end > written.audioTime - RESUME_WINDOW_S,
    );
    const turnHasSpeech = (this.activity.lastSpeechEnd ?? -1) > this.turnStart;
    const silenceMs = turnHasSpeech ? this.activity.silenceMs(state.audioTime) : 0;
    if (this.activity.speaking) this.settled = undefined;
    else if (turnHasSpeech && this.settled === undefined && silenceMs >= this.settleMs) {
      // A pause: the words as if the utterance ended now (final search + lattice pass →
      // posteriors), kept while the silence lasts — so EagerEndOfTurn and EndOfTurn carry
      // the same words, and pocketsphinx's energy endpointer, which may hear room tone as a
      // new utterance, cannot change them while the VAD says nobody speaks.
      if (state.inUtterance)
        state = { ...(await this.recognizer.settle()), audioTime: state.audioTime };
      const words = state.words.filter((w) => w.start >= this.wordsFrom);
      const recent = this.recent.read();
      this.settled = {
        words,
        endOfSentenceProbability: state.endOfSentenceProbability,
        prosody: prosodicCues(recent.pcm, recent.start, words, {
          pitch: this.options.pitchCues ?? false,
        }),
      };
    }
    const eos = this.settled?.endOfSentenceProbability ?? state.endOfSentenceProbability;
    const recognizedWords =
      this.settled?.words ?? state.words.filter((w) => w.start >= this.wordsFrom);
    const confidences = wordConfidences(recognizedWords, this.calibration);
    const words = recognizedWords.map((w, i) => ({ ...w, confidence: confidences[i] }));
    const last = words.slice(-2);
    // The pause counts from the last word's end, not from the VAD's last speech frame: Silero
    // holds "speech" 70–300 ms past a word's end, time the turn end would otherwise wait
    // on top of its own pause. A last word that reaches the end of the audio (the recognizer
    // still hears it) is no pause yet.
    const pauseMs =
      silenceMs > 0 && last.length > 0
        ? Math.max(0, (state.audioTime - last[last.length - 1].end) * 1000)
        : silenceMs;
    const confidence =
      words.length > 0
        ? endOfTurnConfidence(
            {
              silenceMs: pauseMs,
              endOfSentenceProbability: eos,
              lastWordsConfidence: last.reduce((sum, w) => sum + w.confidence, 0) / last.length,
              prosody: this.settled?.prosody,
            },
            this.options.turnEnd,
          )
        : 0;
    this.last = {
      audioTime: state.audioTime,
      speaking: this.activity.speaking,
      turnHasSpeech,
      silenceMs,
      pauseMs,
      words,
      recognizedWords,
      endOfSentenceProbability: eos,
      prosody: this.settled?.prosody,
      endOfTurnConfidence: confidence,
    };
    return this.last;
  }

  /** Pauses or resumes the recognizer's search on the VAD's word (see {@link SearchGate}). */
  private steerSearch(frames: readonly VadFrame[], audioTime: number): void {
    const command = this.gate?.update(frames, audioTime);
    if (command?.kind === "close") this.recognizer.pauseSearch();
    else if (command?.kind === "open") this.recognizer.resumeSearch(command.from);
  }

  /**
   * The current turn is over: run the recognizer's final pass on it (unless `finalPass` is
   * false) and start a new turn. When the VAD hears speech beginning at the turn end (a false
   * EndOfTurn in a hesitation, fired as the next word began) and with the final pass, the new
   * turn's words start at the end of the ended turn's last word (as the latest observation
   * gave it), or 0.4 s before the current audio time if that is later: the recognizer decodes
   * the audio from there again as the start of its next utterance, so the word the user had
   * begun belongs whole to the new turn instead of being cut in half. Otherwise the new turn
   * starts at the current audio time.
   * Resolves with the ended turn's words.
   */
  async finishTurn(finalPass = true): Promise<RecognizedWord[]> {
    const lastWordEnd = this.last?.words.at(-1)?.end;
    const speechBegun = this.latestFrames.some((f) => f.probability >= RESUME_PROBABILITY);
    const carryFrom =
      lastWordEnd === undefined || this.last === undefined || !speechBegun
        ? undefined
        : Math.max(lastWordEnd, this.last.audioTime - CARRY_BACK_S);
    const state = finalPass ? await this.recognizer.finalize(carryFrom) : this.recognizer.state();
    const words = state.words.filter((w) => w.start >= this.wordsFrom);
    this.turnStart = state.audioTime;
    this.wordsFrom = state.carryFrom ?? state.audioTime;
    this.settled = undefined;
    this.recognizer.releaseWordsBefore(this.wordsFrom);
    return words;
  }

  /** Replace the keyterm boost (takes effect at the next utterance; `[]` removes it). */
  setKeyterms(terms: readonly string[]): void {
    this.recognizer.setKeyterms(terms);
  }

  /** Called when a keyterm list takes effect: which words were boosted, which the dictionary lacks. */
  set onKeyterms(cb: ((r: KeytermReport) => void) | undefined) {
    this.recognizer.onKeyterms = cb;
  }

  /**
   * CPU of the decoder process (and its settle copies) and its private memory. The VAD runs
   * in this process; `pnpm bench:local-rtf` measures it apart. (Measuring it per chunk with
   * `process.cpuUsage` took nearly as much of the event loop as the VAD itself, and with several
   * streams interleaved it counted the others' work too.)
   */
  stats(): Promise<RecognizerStreamStats> {
    return this.recognizer.stats();
  }

  /** Close the decoder and the VAD. */
  async close(): Promise<void> {
    await Promise.all([this.recognizer.close(), this.detector.close()]);
  }
}
