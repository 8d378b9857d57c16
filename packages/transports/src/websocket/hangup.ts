/**
 * Ending a call through the provider's REST API, as Pipecat's serializers do on `EndFrame`
 * (`auto_hang_up`). Closing the media WebSocket alone does not hang up a Twilio, Telnyx or
 * Plivo call: the call would go on to the next TwiML/XML verb (or sit in silence).
 */
import type { CallInfo } from "./serializer.js";

/** Hangs up a call. Resolves `ended` (done now) or `already-ended`; rejects with {@link HangUpError}. */
export interface CallHangUp {
  /** Provider name for logs. */
  readonly provider: string;
  hangUp(call: CallInfo, signal?: AbortSignal): Promise<"ended" | "already-ended">;
}

/** The provider refused or could not be reached. Never contains credentials. */
export class HangUpError extends Error {
  constructor(
    readonly provider: string,
    message: string,
    readonly status?: number | undefined,
    options?: ErrorOptions,
  ) {
    super(`${provider} hang-up failed: ${message}`, options);
    this.name = "HangUpError";
  }
}

const TIMEOUT_MS = 5000;

async function request(
  provider: string,
  url: string,
  init: RequestInit,
  signal: AbortSignal | undefined,
): Promise<{ status: number; body: string }> {
  const timeout = AbortSignal.timeout(TIMEOUT_MS);
  try {
    const res = await fetch(url, {
      ...init,
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    return { status: res.status, body: await res.text() };
  } catch (err) {
    const cause = err instanceof Error ? err : new Error(String(err));
    const code = (cause.cause as { code?: string } | undefined)?.code;
    throw new HangUpError(
      provider,
      `${new URL(url).origin} unreachable (${code ?? cause.message})`,
      undefined,
      { cause },
    );
  }
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
}

function requireCallId(provider: string, call: CallInfo): string {
  if (call.callId === undefined || call.callId === "")
    throw new HangUpError(provider, "the stream's start message carried no call id");
  return call.callId;
}

/** Options of {@link TwilioRestHangUp}. */
export interface TwilioHangUpOptions {
  /** Account SID (`AC…`); default: the call's `accountSid` from `start`. */
  readonly accountSid?: string | undefined;
  /** Auth token (or an API key secret with `username` set to the key SID). Never logged. */
  readonly authToken: string;
  /** Basic-auth user when using an API key (`SK…`). Default: the account SID. */
  readonly username?: string | undefined;
  /** API base URL. Default `https://api.twilio.com` (tests point it at a local fake). */
  readonly baseUrl?: string | undefined;
}

/**
 * Twilio: `POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json` with form body
 * `Status=completed`, HTTP Basic auth (Twilio REST API, "Update a Call resource"). 200 → ended;
 * 404 (error 20404) or 400 with error 21220 (call not in progress) → already ended.
 */
export class TwilioRestHangUp implements CallHangUp {
  readonly provider = "twilio";
  constructor(readonly options: TwilioHangUpOptions) {}

  async hangUp(call: CallInfo, signal?: AbortSignal): Promise<"ended" | "already-ended"> {
    const callSid = requireCallId(this.provider, call);
    const account = this.options.accountSid ?? call.accountId;
    if (account === undefined) throw new HangUpError(this.provider, "no account SID");
    const base = this.options.baseUrl ?? "https://api.twilio.com";
    const url = `${base}/2010-04-01/Accounts/${encodeURIComponent(account)}/Calls/${encodeURIComponent(callSid)}.json`;
    const res = await request(
      this.provider,
      url,
      {
        method: "POST",
        headers: {
          authorization: basic(this.options.username ?? account, this.options.authToken),
          "content-type": "application/x-www-form-urlencoded",
        },
        body: new URLSearchParams({ Status: "completed" }).toString(),
      },
      signal,
    );
    if (res.status === 200) return "ended";
    const code = errorCode(res.body);
    if (res.status === 404 || code === "21220") return "already-ended";
    throw new HangUpError(this.provider, describe(res), res.status);
  }
}

/** Options of {@link TelnyxRestHangUp}. */
export interface TelnyxHangUpOptions {
  /** API key (Bearer). Never logged. */
  readonly apiKey: string;
  /** API base URL. Default `https://api.telnyx.com`. */
  readonly baseUrl?: string | undefined;
}

/**
 * Telnyx: `POST /v2/calls/{call_control_id}/actions/hangup`, `Authorization: Bearer` (Telnyx
 * Call Control, "Hangup call"). 200 → ended; 422 with error code 90018 ("Call has already
 * ended") → already ended.
 */
export class TelnyxRestHangUp implements CallHangUp {
  readonly provider = "telnyx";
  constructor(readonly options: TelnyxHangUpOptions) {}

  async hangUp(call: CallInfo, signal?: AbortSignal): Promise<"ended" | "already-ended"> {
    const id = requireCallId(this.provider, call);
    const base = this.options.baseUrl ?? "https://api.telnyx.com";
    const res = await request(
      this.provider,
      `${base}/v2/calls/${encodeURIComponent(id)}/actions/hangup`,
      {
        method: "POST",
        headers: {
          authorization: `Bearer ${this.options.apiKey}`,
          "content-type": "application/json",
        },
        body: "{}",
      },
      signal,
    );
    if (res.status === 200) return "ended";
    if (res.status === 422 && errorCode(res.body) === "90018") return "already-ended";
    throw new HangUpError(this.provider, describe(res), res.status);
  }
}

/** Options of {@link PlivoRestHangUp}. */
export interface PlivoHangUpOptions {
  /** Auth ID (also the account in the URL). */
  readonly authId: string;
  /** Auth token. Never logged. */
  readonly authToken: string;
  /** API base URL. Default `https://api.plivo.com`. */
  readonly baseUrl?: string | undefined;
}

/**
 * Plivo: `DELETE /v1/Account/{auth_id}/Call/{call_uuid}/`, HTTP Basic auth (Plivo Voice API,
 * "Hang up a call"). 204 → ended; 404 → already ended.
 */
export class PlivoRestHangUp implements CallHangUp {
  readonly provider = "plivo";
  constructor(readonly options: PlivoHangUpOptions) {}

  async hangUp(call: CallInfo, signal?: AbortSignal): Promise<"ended" | "already-ended"> {
    const id = requireCallId(this.provider, call);
    const base = this.options.baseUrl ?? "https://api.plivo.com";
    const { authId, authToken } = this.options;
    const res = await request(
      this.provider,
      `${base}/v1/Account/${encodeURIComponent(authId)}/Call/${encodeURIComponent(id)}/`,
      { method: "DELETE", headers: { authorization: basic(authId, authToken) } },
      signal,
    );
    if (res.status === 204) return "ended";
    if (res.status === 404) return "already-ended";
    throw new HangUpError(this.provider, describe(res), res.status);
  }
}

/** The provider's error code from a JSON body (Twilio `code`, Telnyx `errors[0].code`). */
function errorCode(body: string): string | undefined {
  try {
    const json = JSON.parse(body) as { code?: unknown; errors?: { code?: unknown }[] };
    const code = json.code ?? json.errors?.[0]?.code;
    return typeof code === "string" || typeof code === "number" ? String(code) : undefined;
  } catch {
    return undefined;
  }
}

function describe(res: { status: number; body: string }): string {
  const code = errorCode(res.body);
  return `HTTP ${res.status}${code ? ` (error ${code})` : ""}`;
}
