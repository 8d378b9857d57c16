/**
 * A **scripted** stand-in for the LLM, so the example runs offline: the replies a model would
 * give in this conversation, decided from the request (what has been called, the last tool
 * result), streamed by `@voxpipe/openai/testing`'s OpenAI-compatible server — tool calls
 * included, split into deltas the way OpenAI streams them. It understands only this script.
 */
import type { RecordedChatRequest, ScriptedReply } from "@voxpipe/openai/testing";

const NUMBERS: Record<string, number> = { one: 1, two: 2, three: 3, four: 4, five: 5, six: 6 };
const HOURS: Record<string, number> = { six: 18, seven: 19, eight: 20, nine: 21 };

/** "a table for two … at seven" → the call's arguments (defaults where the words were not heard). */
function slotFrom(text: string): { date: string; time: string; party_size: number } {
  const words = text.toLowerCase();
  const party = /for (\w+)/.exec(words)?.[1];
  const hour = /at (\w+)/.exec(words)?.[1];
  return {
    date: words.includes("today") ? "today" : "tomorrow",
    time: `${HOURS[hour ?? ""] ?? 19}:00`,
    party_size: NUMBERS[party ?? ""] ?? (Number(party) || 2),
  };
}

function spokenTime(time: string): string {
  const hour = Number(time.slice(0, 2)) - 12;
  return `${Object.entries(HOURS).find(([, h]) => h === hour + 12)?.[0] ?? hour} o'clock`;
}

/** The reply to one chat-completions request. */
export function scriptedWaiter(request: RecordedChatRequest): ScriptedReply {
  const messages = request.messages;
  const last = messages.at(-1);
  const calls = messages.flatMap((m) => m.toolCalls ?? []);
  const called = (name: string) => calls.find((c) => c.name === name);
  if (!messages.some((m) => m.role === "user")) {
    return "Bella Vista, good evening. How can I help you?";
  }
  if (last?.role === "tool") {
    const call = calls.find((c) => c.id === last.toolCallId);
    const result = JSON.parse(last.content) as Record<string, unknown>;
    if (call?.name === "check_availability") {
      const party = String(result.party_size);
      return result.available === true
        ? `We have a table for ${party} ${String(result.date)} at ${spokenTime(String(result.time))}. Shall I book it?`
        : `Sorry, that time is full. I could offer ${(result.alternatives as string[]).join(" or ")}.`;
    }
    if (call?.name === "book_table") {
      return result.booked === true
        ? `You are booked, ${String(result.name)}. Your confirmation number is ${String(result.confirmation)}. Anything else?`
        : "Sorry, that table was just taken.";
    }
    return "Sorry, something went wrong.";
  }
  const heard = last?.content ?? "";
  const availability = called("check_availability");
  if (availability === undefined) {
    return {
      tokens: [
        "Let me check. ",
        { toolCall: { name: "check_availability", arguments: slotFrom(heard) } },
      ],
    };
  }
  if (called("end_call") !== undefined) return { tokens: [] }; // hanging up: nothing more to say
  if (called("book_table") === undefined) {
    const name = /name is (\w+)/i.exec(heard)?.[1] ?? "Guest";
    const slot = JSON.parse(availability.arguments) as object;
    return { tokens: [{ toolCall: { name: "book_table", arguments: { ...slot, name } } }] };
  }
  return { tokens: [{ toolCall: { name: "end_call", arguments: {} } }] };
}
