/**
 * The restaurant side of the booking agent: the tools the LLM may call (OpenAI function
 * schemas built from zod) and what they do, against an in-memory reservation book.
 */
import {
  EndTaskFrame,
  STTMuteFrame,
  TTSSpeakFrame,
  functionCallResult,
  functionSchema,
} from "@voxpipe/core";
import type { LLMService, LLMTool } from "@voxpipe/core";
import { z } from "zod";

const slot = {
  date: z.string().describe('Day of the booking: "today", "tomorrow" or YYYY-MM-DD'),
  time: z.string().describe("Time in 24-hour HH:MM, e.g. 19:00"),
  party_size: z.number().int().min(1).max(12).describe("Number of guests"),
};
const CheckAvailability = z.object(slot);
const BookTable = z.object({ ...slot, name: z.string().min(1).describe("Name for the booking") });

/** The tools, as the LLM sees them. */
export const tools: LLMTool[] = [
  functionSchema({
    name: "check_availability",
    description: "Check whether a table is free for a party at a date and time.",
    parameters: CheckAvailability,
  }),
  functionSchema({
    name: "book_table",
    description: "Book a table. Only after the caller confirmed the date, time and party size.",
    parameters: BookTable,
  }),
  functionSchema({
    name: "end_call",
    description: "Say goodbye and hang up, when the caller has nothing more to ask.",
    parameters: z.object({}),
  }),
];

/** The system prompt for a real LLM. */
export const SYSTEM_PROMPT =
  "You are the phone host of Bella Vista, an Italian restaurant. Keep every answer to one or two short spoken sentences, no lists. Check availability before offering a table, book only after the caller says yes, and call end_call when the caller says goodbye.";

/** A reservation book: a few tables per time slot. */
export class ReservationBook {
  readonly bookings: {
    code: string;
    name: string;
    date: string;
    time: string;
    partySize: number;
  }[] = [];
  constructor(readonly tablesPerSlot = 2) {}

  /** Whether a table is free; if not, the next free times that evening. */
  check(date: string, time: string): { available: boolean; alternatives: string[] } {
    const taken = (t: string) =>
      this.bookings.filter((b) => b.date === date && b.time === t).length >= this.tablesPerSlot;
    const later = ["18:00", "18:30", "19:00", "19:30", "20:00", "20:30", "21:00"];
    return {
      available: !taken(time),
      alternatives: taken(time) ? later.filter((t) => !taken(t)).slice(0, 2) : [],
    };
  }

  book(name: string, date: string, time: string, partySize: number): string {
    const code = `BV-${1000 + this.bookings.length + 1}`;
    this.bookings.push({ code, name, date, time, partySize });
    return code;
  }
}

/** Text the agent says when it hangs up. */
export const GOODBYE = "Thank you for calling Bella Vista. Goodbye!";

/**
 * Registers the handlers. `check_availability` is a lookup — safe to run speculatively on
 * Flux's EagerEndOfTurn; `book_table` changes the book, so it only runs after EndOfTurn.
 * Arguments come from the model: they are validated with the same zod schemas, and a
 * validation error goes back to the model (thrown errors become `{ error }` results).
 */
export function registerRestaurantFunctions(llm: LLMService<object>, book: ReservationBook): void {
  llm.registerFunction(
    "check_availability",
    ({ arguments: args }) => {
      const a = CheckAvailability.parse(args);
      return { ...book.check(a.date, a.time), ...a };
    },
    { speculative: true, timeoutMs: 3000 },
  );
  llm.registerFunction(
    "book_table",
    ({ arguments: args }) => {
      const a = BookTable.parse(args);
      const { available } = book.check(a.date, a.time);
      if (!available) return { booked: false, reason: "that time was just taken" };
      return { booked: true, confirmation: book.book(a.name, a.date, a.time, a.party_size), ...a };
    },
    { timeoutMs: 3000, cancelOnInterruption: false }, // a booking, once started, completes
  );
  let hangingUp = false;
  llm.registerFunction("end_call", ({ llm: service }) => {
    // Words that reached Flux before the hang-up can still end a turn: say goodbye once.
    if (hangingUp) return functionCallResult({ ended: true }, { runLlm: false });
    hangingUp = true;
    // Stop listening (the caller's last words must not start another turn), say goodbye
    // outside the LLM, then ask the task to end once everything queued has been said.
    service.push(new STTMuteFrame({ mute: true }), "upstream");
    service.push(new TTSSpeakFrame({ text: GOODBYE }));
    service.push(new EndTaskFrame({ reason: "the caller said goodbye" }), "upstream");
    return functionCallResult({ ended: true }, { runLlm: false });
  });
}
