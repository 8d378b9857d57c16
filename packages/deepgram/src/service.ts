import alawmulaw from "alawmulaw";
import type { Subscription } from "rxjs";
import {
  EagerEndOfTurnFrame,
  EndOfTurnFrame,
  InterimTranscriptionFrame,
  StartOfTurnFrame,
  STTService,
  SystemFrame,
  TranscriptionFrame,
  TurnResumedFrame,
  UserStartedSpeakingFrame,
  UserStoppedSpeakingFrame,
  type CancelFrame,
  type EndFrame,
  type Frame,
  type FrameDirection,
  type InputAudioRawFrame,
  type ProcessorSetup,
  type StartFrame,
  type STTServiceEvents,
  type TurnFrameInit,
} from "@voxpipe/core";
import type { InputAudioEncoding } from "@voxpipe/core";
import type { FluxEncoding, FluxModel, FluxRedact, FluxSettings } from "@voxpipe/flux-protocol";
import type { Carrier } from "./carriers/carrier.js";
import type {
  FluxConnectedEvent,
  FluxEndOfTurnEvent,
  FluxEvent,
  FluxReconnectingEvent,
  FluxTurnEvent,
  FluxTurnFields,
  FluxWarningEvent,
} from "./events.js";
import { FluxError } from "./errors.js";
import { FluxClient, type FluxClientOptions } from "./flux-client.js";

/**
 * Settings of {@link DeepgramFluxSTTService} (names per voxpipe issue #5; wire names in
 * brackets). Thresholds, keyterms, language hints and numerals change live through a
 * Flux `Configure`; `model`, `encoding`, `sampleRate`, `tag`, `mipOptOut`,
 * `profanityFilter` and `redact` need a new connection (opened at the next turn
 * boundary, audio replayed); `minConfidence` is applied client-side.
 * Ranges are those of `@voxpipe/flux-protocol` (flux-protocol.md §1.3).
 */
export interface DeepgramFluxSettings {
  /** [`model`] Default `flux-general-en`. */
  model: FluxModel;
  /** [`encoding`] What Flux receives. Default `linear16`. `mulaw`/`alaw` are encoded from the pipeline's PCM. */
  encoding: Extract<FluxEncoding, "linear16" | "mulaw" | "alaw">;
  /** [`sample_rate`] Hz: 8000, 16000, 24000, 44100 or 48000. Default: the StartFrame's input rate. */
  sampleRate?: number;
  /** [`eot_threshold`] 0.5–1.0 (1.0: model-triggered EndOfTurn off). Flux default 0.7. */
  eotThreshold?: number;
  /** [`eager_eot_threshold`] 0.3–0.9, ≤ eotThreshold; enables EagerEndOfTurn/TurnResumed. */
  eagerEotThreshold?: number;
  /** [`eot_timeout_ms`] 500–60000 ms of streamed silence that end a turn. Flux default 5000. */
  eotTimeoutMs?: number;
  /** [`keyterm`] ≤100 plain terms, 1–100 characters each, ≤500 tokens. Private: never logged. */
  keyterm?: readonly string[];
  /** [`language_hint`] `flux-general-multi` only; base codes (en, es, fr, de, hi, ru, pt, ja, it, nl). */
  languageHints?: readonly string[];
  /**
   * Client-side: a final whose mean word confidence is not above this (0–1) is dropped
   * (no `TranscriptionFrame`), but the turn is still closed (`EndOfTurnFrame`,
   * `UserStoppedSpeakingFrame`). Default: keep everything.
   */
  minConfidence?: number;
  /** [`tag`] Usage-reporting labels. */
  tag?: readonly string[];
  /** [`mip_opt_out`] Opt out of the Model Improvement Program. */
  mipOptOut?: boolean;
  /** [`numerals`] Spoken numbers as digits. */
  numerals?: boolean;
  /** [`profanity_filter`] */
  profanityFilter?: boolean;
  /** [`redact`] `numbers` or `aggressive_numbers`. */
  redact?: FluxRedact;
}

/** Constructor options of {@link DeepgramFluxSTTService}. */
export interface DeepgramFluxSTTServiceOptions extends Omit<
  FluxClientOptions,
  "settings" | "logger" | "carrier"
> {
  /** Initial settings (see {@link DeepgramFluxSettings}); validated in the constructor. */
  settings?: Partial<DeepgramFluxSettings>;
  /** Transport (default: `@deepgram/sdk` `listen.v2`). */
  carrier?: Carrier;
  /** Forward input audio downstream. Default true. */
  audioPassthrough?: boolean;
  /** Processor name for logs and observers. */
  name?: string;
}

/** Typed events of {@link DeepgramFluxSTTService} (mitt): `stt.on("endOfTurn", (e) => …)`. */
export type DeepgramFluxSTTServiceEvents = STTServiceEvents<DeepgramFluxSettings> & {
  startOfTurn: FluxTurnEvent;
  update: FluxTurnEvent;
  eagerEndOfTurn: FluxTurnEvent;
  turnResumed: FluxTurnEvent;
  endOfTurn: FluxEndOfTurnEvent;
  connected: FluxConnectedEvent;
  reconnecting: FluxReconnectingEvent;
  /** A Flux `Warning` (non-fatal; e.g. the server is overloaded and its events will come late). */
  warning: FluxWarningEvent;
};

/**
 * Asks the STT service to end the open turn now (Flux `ForceEndTurn`; the `EndOfTurn`
 * follows with `trigger: "manual"`). A system frame so it stays in order with the
 * (system-lane) input audio it refers to. Consumed by the service.
 */
export class STTForceEndTurnFrame extends SystemFrame {}

const DEFAULTS = { model: "flux-general-en", encoding: "linear16" } as const;

/**
 * Deepgram Flux speech-to-text as a voxpipe processor: `InputAudioRawFrame`s in,
 * Flux's turn frames out. A thin layer over {@link FluxClient}, which owns the
 * connection (reconnects, replay, watchdog, Configure).
 *
 * Frames per Flux event, in this order:
 * - `StartOfTurn` → `StartOfTurnFrame`, `UserStartedSpeakingFrame` (whether that
 *   interrupts the bot is the user aggregator's decision: one owner, one `InterruptionFrame`);
 * - `Update` → `InterimTranscriptionFrame` (non-empty transcripts inside a turn);
 * - `EagerEndOfTurn` → `EagerEndOfTurnFrame`; `TurnResumed` → `TurnResumedFrame`;
 * - `EndOfTurn` → `TranscriptionFrame` (unless dropped by `minConfidence` or empty),
 *   `EndOfTurnFrame`, `UserStoppedSpeakingFrame`.
 *
 * `STTUpdateSettingsFrame` → `Configure` or a reconnect at the next turn boundary;
 * `STTForceEndTurnFrame` → `ForceEndTurn`; `EndFrame` → `ForceEndTurn` (if a turn is
 * open), `CloseStream`, and the last result is pushed before the `EndFrame` moves on.
 * Errors: permanent → one fatal `ErrorFrame`; `ConfigureFailure` → non-fatal
 * `ErrorFrame` with Flux's code and description (previous settings stay).
 */
export class DeepgramFluxSTTService extends STTService<
  DeepgramFluxSettings,
  DeepgramFluxSTTServiceEvents
> {
  private readonly clientOptions: Omit<FluxClientOptions, "settings">;
  private client: FluxClient | undefined;
  private subscription: Subscription | undefined;
  private mismatchReported = false;

  /**
   * @throws FluxSettingsError naming the field, its value and the allowed range, before anything connects.
   * @throws FluxError (`input`) for a bad URL or a missing API key (non-local URL without `DEEPGRAM_API_KEY`).
   */
  constructor(options: DeepgramFluxSTTServiceOptions = {}) {
    const settings: DeepgramFluxSettings = { ...DEFAULTS, ...options.settings };
    super({
      settings,
      ...(options.name !== undefined ? { name: options.name } : {}),
      ...(options.audioPassthrough !== undefined
        ? { audioPassthrough: options.audioPassthrough }
        : {}),
      ...(settings.sampleRate !== undefined ? { sampleRate: settings.sampleRate } : {}),
    });
    const { settings: _s, audioPassthrough: _a, name: _n, ...clientOptions } = options;
    this.clientOptions = clientOptions;
    checkMinConfidence(settings.minConfidence);
    // Validate now (throws), with the rate the StartFrame will most likely bring.
    FluxClient.validate({
      ...this.clientOptions,
      settings: toFluxSettings(settings, settings.sampleRate ?? 16000),
    });
  }

  /**
   * Saturated while the ordered queue is over its mark or Flux is behind
   * (`FluxClient.isSaturated`): a fast input transport waits on {@link whenWritable}.
   */
  override isSaturated(): boolean {
    return super.isSaturated() || this.client?.isSaturated === true;
  }

  /** Resolves when both the queue and the Flux connection accept more audio. */
  override async whenWritable(): Promise<void> {
    while (this.isSaturated()) {
      const client = this.client;
      if (client?.isSaturated === true) await client.whenWritable();
      else await super.whenWritable();
    }
  }

  /**
   * The settings in force. Once connected, a view of what Flux confirmed
   * (`FluxClient.settings`: the connection's settings, live ones reconciled from each
   * `ConfigureSuccess` echo), plus the client-side `minConfidence`: a change shows here when
   * Flux acknowledged it, and never if Flux refused it or did not answer in time. Before the
   * connection opens: the settings it will open with. (`settingsUpdated` fires when a change
   * is accepted and handed to Flux, before Flux confirms it.)
   */
  override get settings(): Readonly<DeepgramFluxSettings> {
    const own = super.settings;
    const client = this.client;
    if (client === undefined) return own;
    return { ...fromFluxSettings(client.settings), minConfidence: own.minConfidence };
  }

  /** The connection layer (after setup/start), e.g. for its metrics. */
  get flux(): FluxClient | undefined {
    return this.client;
  }

  protected override onSetup(_setup: ProcessorSetup): void {
    // Connect early when the rate is known; otherwise the StartFrame brings it.
    if (this.settings.sampleRate !== undefined) this.connect(this.settings.sampleRate);
  }

  protected override onStart(_frame: StartFrame): void {
    if (this.client === undefined) this.connect(this.sampleRate);
  }

  protected override async onEnd(_frame: EndFrame): Promise<void> {
    await this.client?.close();
    this.subscription?.unsubscribe();
    const sent = this.client?.metrics.audioSecondsSent;
    if (sent !== undefined && this.startFrame?.enableUsageMetrics === true) {
      this.pushMetrics([
        {
          processor: this.name,
          type: "usage",
          value: sent,
          unit: "audio_seconds",
          model: this.settings.model,
        },
      ]);
    }
  }

  protected override onCancel(_frame: CancelFrame): void {
    this.subscription?.unsubscribe();
    this.client?.destroy();
  }

  protected override onCleanup(): void {
    this.subscription?.unsubscribe();
    this.client?.destroy();
  }

  override process(frame: Frame, direction: FrameDirection): void | Promise<void> {
    if (frame instanceof STTForceEndTurnFrame) {
      this.client?.forceEndTurn();
      return;
    }
    return super.process(frame, direction);
  }

  protected override runStt(audio: Uint8Array, frame: InputAudioRawFrame): void {
    const client = this.client;
    if (client === undefined) return;
    const rate = client.settings.sampleRate;
    if (frame.sampleRate !== rate || frame.numChannels !== 1) {
      if (!this.mismatchReported) {
        this.mismatchReported = true;
        this.pushError(
          `${this.name}: input audio is ${frame.sampleRate} Hz × ${frame.numChannels} channel(s) but Flux expects ${String(rate)} Hz mono; resample before the STT or set sampleRate (audio not sent)`,
        );
      }
      return;
    }
    client.sendAudio(encodeFor(client.settings.encoding, audio, frame.encoding));
  }

  /**
   * Validates with flux-protocol (throws: the update is rejected, nothing is sent); live
   * fields become a `Configure`, others a reconnect at the next turn boundary. Flux's
   * refusal or a missing acknowledgement is reported later as a non-fatal `ErrorFrame`;
   * {@link settings} then still shows what Flux has. Updates are handed to the client one
   * by one as they come, so none is lost while another is in flight or being refused.
   */
  protected override applySettings(changed: Partial<DeepgramFluxSettings>): void {
    checkMinConfidence(changed.minConfidence);
    const { minConfidence: _m, ...fluxChanged } = changed;
    if (Object.keys(fluxChanged).length === 0) return;
    const client = this.client;
    const delta = toFluxSettingsDelta(fluxChanged);
    // Same validation as the connection's, against what was asked for so far (throws
    // FluxSettingsError → non-fatal ErrorFrame, nothing changes).
    const base = client?.desiredSettings ?? toFluxSettings(this.settings, this.sampleRate);
    FluxClient.validate({ ...this.clientOptions, settings: { ...base, ...delta } });
    if (client === undefined) return; // not connected yet: the connection will use the new settings
    void this.createTask("configure", async () => {
      try {
        await client.configure(delta);
      } catch (error) {
        // Flux refused (or never acknowledged): the client rolled back what it asked for.
        this.reportError(error, false);
      }
    });
  }

  private connect(sampleRate: number): void {
    const client = new FluxClient({
      ...this.clientOptions,
      settings: toFluxSettings(this.settings, sampleRate),
      logger: this.logger,
    });
    this.client = client;
    this.subscription = client.events$.subscribe((event) => this.onFluxEvent(event));
    client.start().catch(() => {
      // Reported once through events$ (fatal error); nothing else to do here.
    });
  }

  private onFluxEvent(event: FluxEvent): void {
    switch (event.type) {
      case "StartOfTurn":
        this.push(new StartOfTurnFrame(this.turnInit(event)));
        this.push(new UserStartedSpeakingFrame());
        this.emit("startOfTurn", event);
        return;
      case "Update":
        if (event.transcript !== "" && this.client?.turnOpen === true) {
          this.push(
            new InterimTranscriptionFrame({ ...this.turnInit(event), text: event.transcript }),
          );
        }
        this.emit("update", event);
        return;
      case "EagerEndOfTurn":
        this.push(new EagerEndOfTurnFrame(this.turnInit(event)));
        this.emit("eagerEndOfTurn", event);
        return;
      case "TurnResumed":
        this.push(new TurnResumedFrame(this.turnInit(event)));
        this.emit("turnResumed", event);
        return;
      case "EndOfTurn":
        this.onEndOfTurn(event);
        return;
      case "Connected":
        this.emit("connected", event);
        return;
      case "Reconnecting":
        this.emit("reconnecting", event);
        return;
      case "Error":
        // Configure outcomes are reported by the settings task, together with the rollback.
        if (event.error.source !== "configure" && event.error.source !== "configure-timeout") {
          this.reportError(event.error, event.error.fatal);
        }
        return;
      case "Warning":
        // A ForceEndTurn that met no open turn is expected at shutdown; anything else is news.
        if (event.code === "FORCE_END_TURN_NO_ACTIVE_TURN")
          this.logger.debug({ code: event.code }, "flux warning");
        else this.logger.warn({ code: event.code, description: event.description }, "flux warning");
        this.emit("warning", event);
        return;
      case "Configured":
        return;
    }
  }

  private onEndOfTurn(event: FluxEndOfTurnEvent): void {
    const init = this.turnInit(event);
    const min = this.settings.minConfidence;
    const keep =
      event.transcript !== "" &&
      (min === undefined || min <= 0 || (event.confidence !== undefined && event.confidence > min));
    if (keep) {
      this.push(
        new TranscriptionFrame({
          ...init,
          text: event.transcript,
          trigger: event.trigger,
          confidence: event.confidence,
        }),
      );
    } else if (event.transcript !== "") {
      this.logger.debug(
        { turnIndex: event.turnIndex, confidence: event.confidence },
        "final below minConfidence dropped",
      );
    }
    this.push(new EndOfTurnFrame({ ...init, trigger: event.trigger }));
    this.push(new UserStoppedSpeakingFrame());
    const wall = event.metrics.endOfSpeechToEndOfTurnWallMs;
    if (wall !== undefined)
      this.pushMetrics([
        { processor: this.name, type: "ttfb", value: wall, model: this.settings.model },
      ]);
    this.emit("endOfTurn", event);
  }

  private turnInit(
    event: FluxTurnFields & { type: FluxEvent["type"] },
  ): TurnFrameInit & { transcript: string } {
    return {
      turnIndex: event.turnIndex,
      transcript: event.transcript,
      words: event.words,
      languages: event.languages,
      language:
        event.languages?.[0] ?? (this.settings.model === "flux-general-en" ? "en" : undefined),
      endOfTurnConfidence: event.endOfTurnConfidence,
      audioWindowStart: event.audioWindowStart,
      audioWindowEnd: event.audioWindowEnd,
      result: event.raw,
    };
  }

  private reportError(error: unknown, fatal: boolean): void {
    const message =
      error instanceof FluxError || error instanceof Error
        ? error.message
        : `flux error: ${String(error)}`;
    this.pushError(`${this.name}: ${message}`, { fatal, cause: error });
  }
}

function checkMinConfidence(value: number | undefined): void {
  if (value !== undefined && !(typeof value === "number" && value >= 0 && value <= 1)) {
    throw new RangeError(`minConfidence=${String(value)} is out of range: allowed a number 0–1`);
  }
}

/** Maps the service's settings (issue #5 names) to flux-protocol's {@link FluxSettings}. */
function toFluxSettings(s: DeepgramFluxSettings, sampleRate: number): FluxSettings {
  return {
    model: s.model,
    encoding: s.encoding,
    sampleRate: s.sampleRate ?? sampleRate,
    ...toFluxSettingsDelta(s),
  };
}

/**
 * The service's view of the client's settings (issue #5 names), every field present so it
 * replaces the pre-connection value (`undefined`: Flux's default).
 */
function fromFluxSettings(s: Readonly<FluxSettings>): DeepgramFluxSettings {
  return {
    model: s.model,
    // The service only ever opens connections with these encodings (validated in the constructor).
    encoding: (s.encoding ?? "linear16") as DeepgramFluxSettings["encoding"],
    sampleRate: s.sampleRate,
    eotThreshold: s.eotThreshold,
    eagerEotThreshold: s.eagerEotThreshold,
    eotTimeoutMs: s.eotTimeoutMs,
    keyterm: s.keyterms,
    languageHints: s.languageHints,
    tag: s.tags,
    mipOptOut: s.mipOptOut,
    numerals: s.numerals,
    profanityFilter: s.profanityFilter,
    redact: s.redact,
  };
}

function toFluxSettingsDelta(s: Partial<DeepgramFluxSettings>): Partial<FluxSettings> {
  const out: Partial<FluxSettings> = {};
  if (s.model !== undefined) out.model = s.model;
  if (s.encoding !== undefined) out.encoding = s.encoding;
  if (s.sampleRate !== undefined) out.sampleRate = s.sampleRate;
  if (s.eotThreshold !== undefined) out.eotThreshold = s.eotThreshold;
  if (s.eagerEotThreshold !== undefined) out.eagerEotThreshold = s.eagerEotThreshold;
  if (s.eotTimeoutMs !== undefined) out.eotTimeoutMs = s.eotTimeoutMs;
  if (s.keyterm !== undefined) out.keyterms = s.keyterm;
  if (s.languageHints !== undefined) out.languageHints = s.languageHints;
  if (s.tag !== undefined) out.tags = s.tag;
  if (s.mipOptOut !== undefined) out.mipOptOut = s.mipOptOut;
  if (s.numerals !== undefined) out.numerals = s.numerals;
  if (s.profanityFilter !== undefined) out.profanityFilter = s.profanityFilter;
  if (s.redact !== undefined) out.redact = s.redact;
  return out;
}

/**
 * The pipeline carries PCM s16le; μ-law/A-law are encoded here (ITU-T G.711, `alawmulaw`).
 * Audio already in Flux's encoding (telephony passthrough: a call's μ-law sent as
 * `encoding=mulaw`) goes as is — no decode, no resample; other G.711 input is decoded first.
 */
function encodeFor(
  encoding: string | undefined,
  audio: Uint8Array,
  frameEncoding: InputAudioEncoding,
): Uint8Array {
  const target = encoding ?? "linear16";
  if (frameEncoding === target) return audio;
  const pcm =
    frameEncoding === "linear16"
      ? audio
      : new Uint8Array(
          (frameEncoding === "mulaw" ? alawmulaw.mulaw.decode(audio) : alawmulaw.alaw.decode(audio))
            .buffer,
        );
  if (target === "linear16") return pcm;
  // Int16Array needs 2-byte alignment: copy the (rare) unaligned view.
  const aligned = pcm.byteOffset % 2 === 0 ? pcm : pcm.slice();
  const samples = new Int16Array(aligned.buffer, aligned.byteOffset, aligned.byteLength >> 1);
  return encoding === "mulaw" ? alawmulaw.mulaw.encode(samples) : alawmulaw.alaw.encode(samples);
}
