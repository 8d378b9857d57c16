import { InputAudioRawFrame, Pipeline, PipelineTask } from "@voxpipe/core";
import type { ErrorFrame, FrameProcessor, Logger, PipelineTaskResult } from "@voxpipe/core";
import { DeepgramFluxSTTService, FluxError } from "@voxpipe/deepgram";
import type {
  Carrier,
  DeepgramFluxSTTServiceOptions,
  FluxEndOfTurnEvent,
  FluxTurnEvent,
} from "@voxpipe/deepgram";
import type { StressFluxSettings } from "./options.js";
import { StressProbe } from "./probe.js";
import type { DeliveredFrame } from "./probe.js";
import { ConnectionStats } from "./stats.js";
import type { TurnEvent } from "@voxpipe/flux-protocol";
import type { ObservedTurnEvent } from "./stats.js";

/** The STT service's turn events (mitt) and the Flux event each stands for. */
const SERVICE_TURN_EVENTS = [
  ["startOfTurn", "StartOfTurn"],
  ["update", "Update"],
  ["eagerEndOfTurn", "EagerEndOfTurn"],
  ["turnResumed", "TurnResumed"],
  ["endOfTurn", "EndOfTurn"],
] as const;

/** An error as the live view and the statistics see it. */
export interface StressError {
  /** Provider or client code (`FluxError.code`), when known. */
  code?: string;
  message: string;
  /** True when it ended the connection. */
  fatal: boolean;
}

/** What a connection reports while it runs (all optional, called synchronously). */
export interface ConnectionListener {
  /** Flux sent `Connected` on a connection (the first or a reconnect); `requestId` is set. */
  connected?(connection: StressConnection): void;
  /** A Flux TurnInfo event arrived (every one, including `Update`s outside turns). */
  turn?(connection: StressConnection, event: ObservedTurnEvent): void;
  /** The frame made from a TurnInfo reached the end of the pipeline. */
  delivered?(connection: StressConnection, frame: DeliveredFrame): void;
  error?(connection: StressConnection, error: StressError): void;
  reconnecting?(connection: StressConnection, attempt: number, reason: string): void;
  reconnected?(connection: StressConnection): void;
}

/** Options of a {@link StressConnection}. */
export interface StressConnectionOptions {
  /** 1-based connection number (`[Conn N]`). */
  id: number;
  /** Flux endpoint `ws(s)://…/v2/listen` (unused with a {@link carrier} that has its own target). */
  url: string;
  /** Carrier shared by the run's connections (SageMaker); default the service's WebSocket. */
  carrier?: Carrier;
  /** API key; unset for a loopback server. Never logged. */
  apiKey?: string;
  flux: StressFluxSettings;
  /** Hz of the audio fed to the connection (mono PCM s16le). */
  sampleRate: number;
  /**
   * Head of the pipeline that produces the audio (e.g. the WAV input transport). Without one,
   * audio is fed with {@link StressConnection.pushAudio}.
   */
  input?: FrameProcessor;
  listener?: ConnectionListener;
  logger?: Logger;
  /** Connection-layer tuning handed to the STT service (defaults: the service's). */
  client?: Pick<
    DeepgramFluxSTTServiceOptions,
    "connectTimeoutMs" | "stallTimeoutMs" | "reconnect" | "replayBufferSeconds"
  >;
}

/**
 * One stress connection: a voxpipe pipeline `[input?] → DeepgramFluxSTTService → StressProbe`
 * run by its own `PipelineTask`, with its {@link ConnectionStats}. Reconnection, replay and
 * the watchdog are the STT service's; this class only observes them.
 */
export class StressConnection {
  readonly id: number;
  readonly stats: ConnectionStats;
  readonly stt: DeepgramFluxSTTService;
  readonly task: PipelineTask;
  /** Flux `request_id` of the current connection, once `Connected`. */
  requestId: string | undefined;
  readonly #sampleRate: number;
  readonly #listener: ConnectionListener;
  #run: Promise<PipelineTaskResult> | undefined;
  /** Message-to-frame rendezvous, keyed by the raw TurnInfo both sides carry (weak: no leak). */
  readonly #delivered = new WeakMap<object, number>();
  readonly #received = new WeakMap<object, number>();

  /**
   * Builds the pipeline; nothing connects until {@link start}.
   * @throws FluxSettingsError / FluxError (`input`) from the STT service for invalid settings,
   * a bad URL or a missing API key.
   */
  constructor(options: StressConnectionOptions) {
    this.id = options.id;
    this.#sampleRate = options.sampleRate;
    this.#listener = options.listener ?? {};
    this.stats = new ConnectionStats(options.id, options.sampleRate * 2);
    this.stt = new DeepgramFluxSTTService({
      ...options.client,
      url: options.url,
      ...(options.apiKey !== undefined && { apiKey: options.apiKey }),
      ...(options.carrier !== undefined && { carrier: options.carrier }),
      name: `flux-stt#${options.id}`,
      audioPassthrough: false,
      settings: {
        model: options.flux.model,
        sampleRate: options.sampleRate,
        ...(options.flux.eotThreshold !== undefined && { eotThreshold: options.flux.eotThreshold }),
        ...(options.flux.eagerEotThreshold !== undefined && {
          eagerEotThreshold: options.flux.eagerEotThreshold,
        }),
        ...(options.flux.eotTimeoutMs !== undefined && { eotTimeoutMs: options.flux.eotTimeoutMs }),
        ...(options.flux.keyterms.length > 0 && { keyterm: options.flux.keyterms }),
      },
    });
    const probe = new StressProbe(
      (frame) => this.#onDelivered(frame),
      `stress-probe#${options.id}`,
    );
    const processors = options.input ? [options.input, this.stt, probe] : [this.stt, probe];
    this.task = new PipelineTask(new Pipeline(processors), {
      audioInSampleRate: options.sampleRate,
      // A load test streams for as long as it is told to; silence is not idleness.
      idleTimeoutMs: null,
      ...(options.logger !== undefined && { logger: options.logger }),
    });
    this.stt.on("connected", (event) => {
      this.requestId = event.requestId;
      this.stats.connected(performance.now());
      this.#listener.connected?.(this);
      if (event.connection > 1) {
        this.stats.reconnected();
        this.#listener.reconnected?.(this);
      }
    });
    this.stt.on("reconnecting", (event) => {
      this.stats.disconnected();
      this.stats.error(event.error.code);
      this.stats.connecting(performance.now());
      this.#listener.reconnecting?.(this, event.attempt, event.error.description);
    });
    this.task.on("error", (frame) => this.#onError(frame));
    this.stt.on("warning", (e) => this.stats.warning(e.code));
    for (const [type, event] of SERVICE_TURN_EVENTS) {
      this.stt.on(type, (e) => this.#onTurn(event, e));
    }
  }

  /** Runs the pipeline (connects). The run is tracked: await {@link finished} or {@link stop}. */
  start(): void {
    if (this.#run !== undefined) return;
    this.stats.connecting(performance.now());
    this.#run = this.task.run().catch((error: unknown) => {
      // Setup/start failures (e.g. the handshake was refused) end this connection only.
      this.#report({ ...describe(error), fatal: true });
      return { reason: "error" };
    });
  }

  /** Resolves when the pipeline has finished (immediately if it never started). */
  get finished(): Promise<PipelineTaskResult | undefined> {
    return this.#run ?? Promise.resolve(undefined);
  }

  /** Feeds one chunk of mono PCM s16le at the connection's rate (when there is no `input`). */
  pushAudio(pcm: Uint8Array): void {
    this.task.queueFrame(
      new InputAudioRawFrame({ audio: pcm, sampleRate: this.#sampleRate, numChannels: 1 }),
    );
  }

  /**
   * Ends gracefully (`EndFrame`: the service forces the end of an open turn, sends
   * `CloseStream` and waits for the last result), cancelling if that takes over `timeoutMs`.
   */
  async stop(timeoutMs: number): Promise<void> {
    if (this.#run === undefined) return;
    this.task.stopWhenDone("stress run over");
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<"timeout">(
      (resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)),
    );
    const outcome = await Promise.race([this.#run, expired]);
    clearTimeout(timer);
    if (outcome === "timeout") await this.task.cancel("stress stop timed out");
    await this.#run;
    this.stats.disconnected();
  }

  /**
   * Sends a Flux `Configure` changing `eot_threshold` and records its round trip (send →
   * `ConfigureSuccess`/`ConfigureFailure`, as the Flux client reports it). Never throws: a
   * refusal or a timeout is a result, counted in the statistics.
   */
  async configure(eotThreshold: number): Promise<void> {
    const flux = this.stt.flux;
    if (flux === undefined || !this.stats.up) return;
    this.stats.configureSent(performance.now());
    try {
      await flux.configure({ eotThreshold });
      this.stats.configureAcknowledged(performance.now(), true);
    } catch (error) {
      this.stats.configureAcknowledged(performance.now(), false);
      this.#report({ ...describe(error), fatal: false });
    }
  }

  /** Seconds of audio the Flux client wrote to its sockets (replays and injected silence included). */
  get audioSecondsSent(): number {
    return this.stt.flux?.metrics.audioSecondsSent ?? 0;
  }

  #onTurn(name: TurnEvent, e: FluxTurnEvent | FluxEndOfTurnEvent): void {
    const event: ObservedTurnEvent = {
      event: name,
      turnIndex: e.turnIndex,
      transcript: e.transcript,
      endOfTurnConfidence: e.endOfTurnConfidence,
      ...(e.type === "EndOfTurn" && { metrics: e.metrics }),
    };
    this.stats.turnEvent(event);
    // The service pushes the frame before it emits the event: usually the frame is already
    // delivered; if the probe was busy, it is matched when it arrives.
    const raw: unknown = e.raw;
    if (typeof raw === "object" && raw !== null) {
      const deliveredAt = this.#delivered.get(raw);
      if (deliveredAt !== undefined) this.stats.messageToFrame(deliveredAt - e.receivedAt);
      else this.#received.set(raw, e.receivedAt);
    }
    this.#listener.turn?.(this, event);
  }

  #onDelivered(frame: DeliveredFrame): void {
    if (typeof frame.result === "object" && frame.result !== null) {
      const receivedAt = this.#received.get(frame.result);
      if (receivedAt !== undefined) this.stats.messageToFrame(frame.deliveredAt - receivedAt);
      else this.#delivered.set(frame.result, frame.deliveredAt);
    }
    this.#listener.delivered?.(this, frame);
  }

  #onError(frame: ErrorFrame): void {
    this.#report({ ...describe(frame.cause ?? frame.error), fatal: frame.fatal });
  }

  #report(error: StressError): void {
    this.stats.error(error.code ?? "CLIENT_ERROR");
    if (error.fatal) this.stats.disconnected();
    this.#listener.error?.(this, error);
  }
}

/** Code and message of anything thrown or reported; FluxError messages never hold secrets. */
function describe(error: unknown): { code?: string; message: string } {
  if (error instanceof FluxError) return { code: error.code, message: error.description };
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { ...(typeof code === "string" && { code }), message: error.message };
  }
  return { message: String(error) };
}
