import { describe, expect, it } from "vitest";
import { formatTranscript, formatWords } from "../src/index.js";

describe("formatWords", () => {
  it("capitalises the first word and the pronoun I, and ends a statement with a period", () => {
    expect(formatTranscript(["hello", "i", "would", "like", "a", "table"])).toBe(
      "Hello I would like a table.",
    );
    expect(formatWords(["yes", "i'm", "sure"])).toEqual(["Yes", "I'm", "sure."]);
  });

  it("ends a turn that starts with a question word or auxiliary with a question mark", () => {
    expect(formatTranscript(["can", "you", "tell", "me"])).toBe("Can you tell me?");
    expect(formatTranscript(["what", "time", "is", "it"])).toBe("What time is it?");
  });

  it("adds no end punctuation while the turn is in progress, and nothing for no words", () => {
    expect(formatTranscript(["can", "you"], false)).toBe("Can you");
    expect(formatWords([])).toEqual([]);
  });

  it("leaves words that merely contain an i alone", () => {
    expect(formatTranscript(["it", "is", "in", "india"], false)).toBe("It is in india");
  });
});
