/**
 * @voxpipe/flux-protocol — the Deepgram Flux `/v2/listen` wire protocol as data:
 * message types, tolerant parsing, encoding, query build/parse, settings and Configure
 * validation, and a checker for the event-order guarantees. No I/O.
 *
 * @packageDocumentation
 */
export * from "./constants.js";
/** Rounds a number through float32, the way Flux prints floats. */
export { float32 } from "./float32.js";
/** Client and server messages: types, tolerant parsing, encoding (reference §2–3). */
export {
  END_OF_TURN_TRIGGERS,
  TURN_EVENTS,
  encodeClientMessage,
  encodeServerMessage,
  parseClientMessage,
  parseServerMessage,
  parseServerMessageObject,
  type ClientMessage,
  type CloseStreamMessage,
  type ConfigureFailureMessage,
  type ConfigureMessage,
  type ConfigureSuccessMessage,
  type ConfigureThresholds,
  type ConnectedMessage,
  type EndOfTurnTrigger,
  type ErrorMessage,
  type FluxWord,
  type ForceEndTurnMessage,
  type InvalidClientMessage,
  type KnownServerMessage,
  type Received,
  type ServerMessage,
  type TurnEvent,
  type TurnInfoMessage,
  type UnknownServerMessage,
  type WarningMessage,
} from "./messages.js";
/** Connection settings (camelCase ↔ wire names) and their validation, with the source of each rule. */
export {
  FLUX_QUERY_PARAMETERS,
  FluxSettingsError,
  applyConfigure,
  assertValidSettings,
  initialActiveConfiguration,
  normalizeLanguageHint,
  validateSettings,
  type ConfigureFields,
  type ConfigureResult,
  type FluxActiveConfiguration,
  type FluxQueryParameter,
  type FluxSettings,
  type FluxSettingsErrorCode,
  type FluxSettingsIssue,
} from "./settings.js";
/** `/v2/listen` query strings: build and parse, lists as repeated keys (reference §1.3). */
export {
  buildListenQuery,
  buildListenUrl,
  parseListenQuery,
  type ParseListenQueryResult,
} from "./query.js";
/** Checks that a message stream obeys Flux's ordering guarantees (reference §3, §4.2). */
export {
  TurnSequenceChecker,
  checkTurnSequence,
  type TurnSequenceCheckOptions,
  type TurnSequenceReport,
  type TurnSequenceRule,
  type TurnSequenceViolation,
} from "./checker.js";
