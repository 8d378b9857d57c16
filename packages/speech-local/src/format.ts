/**
 * Make pocketsphinx's lowercase, unpunctuated words read like Flux transcripts.
 *
 * Exactly what is added (nothing else is changed):
 * 1. the first word of the turn starts with a capital letter;
 * 2. the pronoun "i" and its contractions ("i'm", "i'll", "i'd", "i've") are capitalised;
 * 3. when `terminal` is set (a turn that has ended, or may have: Flux punctuates the
 *    transcripts of EagerEndOfTurn/EndOfTurn, not of a turn in progress), the last word gets
 *    "?" if the turn starts with a question word or an auxiliary verb (see
 *    {@link QUESTION_STARTERS}), otherwise ".".
 * Pronunciation-variant markers such as `the(2)` are already stripped by the recognizer.
 */
export const QUESTION_STARTERS: ReadonlySet<string> = new Set([
  "what",
  "where",
  "when",
  "why",
  "who",
  "whom",
  "whose",
  "which",
  "how",
  "can",
  "could",
  "would",
  "will",
  "shall",
  "should",
  "may",
  "might",
  "must",
  "do",
  "does",
  "did",
  "is",
  "are",
  "was",
  "were",
  "am",
  "have",
  "has",
  "had",
]);

/** Apply the casing and punctuation rules above to a word list; returns new strings, one per word. */
export function formatWords(words: readonly string[], terminal = true): string[] {
  const out = words.map((w) => (w === "i" || /^i'(m|ll|d|ve)$/.test(w) ? `I${w.slice(1)}` : w));
  if (out.length === 0) return out;
  out[0] = out[0].charAt(0).toUpperCase() + out[0].slice(1);
  if (!terminal) return out;
  const question = QUESTION_STARTERS.has(words[0]);
  out[out.length - 1] += question ? "?" : ".";
  return out;
}

/** The transcript string for a word list: {@link formatWords} joined by single spaces. */
export function formatTranscript(words: readonly string[], terminal = true): string {
  return formatWords(words, terminal).join(" ");
}
