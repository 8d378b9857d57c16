import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { scriptedArguments, toolCallDeltas } from "@voxpipe/core/testing";
import type { ScriptedLLMToken } from "@voxpipe/core/testing";

/** One chat message as received by the fake server (OpenAI `messages[]` item). */
export interface ReceivedChatMessage {
  role: string;
  content: string;
  /** `assistant` messages: the `tool_calls` they carried (function name and JSON arguments). */
  toolCalls?: { id: string; name: string; arguments: string }[];
  /** `tool` messages: `tool_call_id`. */
  toolCallId?: string;
}

/** A request the fake server received, recorded for assertions. */
export interface RecordedChatRequest {
  /** `model` from the request body. */
  model: string;
  /** `messages` from the request body, content flattened to text. */
  messages: ReceivedChatMessage[];
  /** Function names in the request's `tools`. */
  tools: string[];
  /** `tool_choice` as sent, if any. */
  toolChoice: unknown;
  /** The `Authorization` header was `Bearer <apiKey>` (or no key was required). */
  authorized: boolean;
  /** The client closed the connection before the reply was complete (e.g. an aborted speculative reply). */
  aborted: boolean;
  /** The reply was streamed to the end, `data: [DONE]` included. */
  completed: boolean;
}

/** What the fake replies to one request. A plain string is split into word tokens. */
export type ScriptedReply =
  | string
  | {
      /**
       * Tokens streamed one `delta.content` each, in order, and function calls streamed as
       * OpenAI streams them: `delta.tool_calls` fragments (index, id and name first, then the
       * arguments' JSON in pieces), the reply ending with `finish_reason: "tool_calls"`.
       * Several calls in one reply are parallel calls (index 0, 1, …).
       */
      tokens: ScriptedLLMToken[];
    }
  | {
      /** Reply with an HTTP error in OpenAI's error-body shape instead of a stream. */
      status: number;
      message: string;
    };

/** Options of {@link startScriptedChatServer}. */
export interface ScriptedChatServerOptions {
  /**
   * Decides the reply to each request. Default: `"You said: <last user message>."` — an echo,
   * so tests can see which context the service sent.
   */
  reply?: (request: RecordedChatRequest) => ScriptedReply;
  /** Delay before the first token, ms. Default 0. */
  firstTokenDelayMs?: number;
  /** Delay between tokens, ms. Default 0. */
  tokenDelayMs?: number;
  /** When set, requests must carry `Authorization: Bearer <apiKey>`; others get HTTP 401. */
  apiKey?: string;
}

/** A running fake server. */
export interface ScriptedChatServer {
  /** Base URL to give the `openai` client, e.g. `http://127.0.0.1:41234/v1`. */
  baseURL: string;
  /** Every request received so far, in arrival order. */
  requests: RecordedChatRequest[];
  /** Stops the server and drops open connections. */
  close(): Promise<void>;
}

/**
 * Starts a **fake**, scripted OpenAI-compatible chat-completions server on `127.0.0.1` (port
 * chosen by the OS). It answers `POST /v1/chat/completions` with `stream: true` by streaming
 * `chat.completion.chunk` objects as server-sent events (`data: <json>\n\n`, ending with
 * `data: [DONE]`), the wire format of the OpenAI streaming API
 * (https://platform.openai.com/docs/api-reference/chat-streaming). It exists so the LLM service
 * and the agent pipeline can be tested offline against real HTTP + SSE; it generates no language.
 *
 * The SSE framing is one line per event, so it is written directly rather than through a library.
 */
export async function startScriptedChatServer(
  options: ScriptedChatServerOptions = {},
): Promise<ScriptedChatServer> {
  const requests: RecordedChatRequest[] = [];
  const decide = options.reply ?? defaultEchoReply;
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, `fake server failure: ${String(error)}`);
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== "POST" || !req.url?.endsWith("/chat/completions")) {
      sendError(res, 404, `unknown route ${req.method ?? "?"} ${req.url ?? ""}`);
      return;
    }
    const body = await readJson(req);
    const record: RecordedChatRequest = {
      model: typeof body.model === "string" ? body.model : "",
      messages: Array.isArray(body.messages) ? body.messages.map(toMessage) : [],
      tools: Array.isArray(body.tools)
        ? body.tools.map((t: unknown) =>
            String((t as { function?: { name?: unknown } }).function?.name),
          )
        : [],
      toolChoice: body.tool_choice,
      authorized:
        options.apiKey === undefined || req.headers.authorization === `Bearer ${options.apiKey}`,
      aborted: false,
      completed: false,
    };
    requests.push(record);
    if (!record.authorized) {
      sendError(res, 401, "Incorrect API key provided.");
      return;
    }
    if (body.stream !== true) {
      sendError(res, 400, "this fake server only implements stream: true");
      return;
    }
    const reply = decide(record);
    if (typeof reply === "object" && "status" in reply) {
      sendError(res, reply.status, reply.message);
      return;
    }
    const tokens = typeof reply === "string" ? splitTokens(reply) : reply.tokens;
    res.on("close", () => {
      if (!record.completed) record.aborted = true;
    });
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    const id = `chatcmpl-fake-${requests.length}`;
    const chunk = (delta: object, finish: string | null) => ({
      id,
      object: "chat.completion.chunk",
      created: Math.floor(Date.now() / 1000),
      model: record.model,
      choices: [{ index: 0, delta, finish_reason: finish }],
    });
    // Each reply's deltas: text as `content`, calls as `tool_calls` fragments.
    const deltas: object[] = [];
    let toolIndex = 0;
    for (const token of tokens) {
      if (typeof token === "string") {
        deltas.push({ content: token });
        continue;
      }
      const index = toolIndex++;
      for (const d of toolCallDeltas(index, {
        id: token.toolCall.id ?? `call_fake_${requests.length}_${index}`,
        name: token.toolCall.name,
        arguments: scriptedArguments(token.toolCall.arguments),
      })) {
        deltas.push({
          tool_calls: [
            d.name !== undefined
              ? { index, id: d.id, type: "function", function: { name: d.name, arguments: "" } }
              : { index, function: { arguments: d.arguments } },
          ],
        });
      }
    }
    if (options.firstTokenDelayMs) await sleep(options.firstTokenDelayMs);
    for (const [i, delta] of deltas.entries()) {
      if (res.destroyed) return;
      if (i > 0 && options.tokenDelayMs) await sleep(options.tokenDelayMs);
      if (res.destroyed) return;
      res.write(
        `data: ${JSON.stringify(chunk(i === 0 ? { role: "assistant", ...delta } : delta, null))}\n\n`,
      );
    }
    if (res.destroyed) return;
    res.write(`data: ${JSON.stringify(chunk({}, toolIndex > 0 ? "tool_calls" : "stop"))}\n\n`);
    res.write("data: [DONE]\n\n");
    record.completed = true;
    res.end();
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Splits text into word tokens that keep their trailing whitespace, like LLM deltas do. */
function splitTokens(text: string): string[] {
  return text.match(/\S+\s*/g) ?? [];
}

function defaultEchoReply(request: RecordedChatRequest): string {
  const lastUser = request.messages.filter((m) => m.role === "user").at(-1);
  return `You said: ${lastUser?.content ?? ""}.`;
}

function toMessage(raw: unknown): ReceivedChatMessage {
  const m = (raw ?? {}) as {
    role?: unknown;
    content?: unknown;
    tool_calls?: unknown;
    tool_call_id?: unknown;
  };
  const content =
    typeof m.content === "string"
      ? m.content
      : Array.isArray(m.content)
        ? m.content
            .map((part: unknown) => ((part as { text?: unknown }).text as string | undefined) ?? "")
            .join("")
        : "";
  const message: ReceivedChatMessage = { role: typeof m.role === "string" ? m.role : "", content };
  if (Array.isArray(m.tool_calls)) {
    message.toolCalls = m.tool_calls.map((c: unknown) => {
      const call = c as { id?: unknown; function?: { name?: unknown; arguments?: unknown } };
      return {
        id: String(call.id),
        name: String(call.function?.name),
        arguments: String(call.function?.arguments),
      };
    });
  }
  if (typeof m.tool_call_id === "string") message.toolCallId = m.tool_call_id;
  return message;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Writes an error in the OpenAI API error-body shape (`{ error: { message, type, code } }`). */
function sendError(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify({ error: { message, type: "invalid_request_error", code: null } }));
}
