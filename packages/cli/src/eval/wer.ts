/**
 * Word error rate, with jiwer's usual normalisation (the Python package most ASR
 * evaluations report with): `ToLowerCase`, `RemovePunctuation` (every Unicode punctuation
 * character is deleted, so "don't" → "dont" and "o'clock" → "oclock" on both sides),
 * `RemoveMultipleSpaces`, `Strip`, `ReduceToListOfListOfWords`. WER = (substitutions +
 * deletions + insertions) / reference words, summed over files before dividing.
 */

/** The words of `text` after jiwer-style normalisation (see the module comment). */
export function normalizeWords(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/\p{P}/gu, "")
    .split(/\s+/u)
    .filter((w) => w !== "");
}

/** Word-level edit distance (substitutions + deletions + insertions) from `reference` to `hypothesis`. */
export function wordErrors(reference: readonly string[], hypothesis: readonly string[]): number {
  let previous = Array.from({ length: hypothesis.length + 1 }, (_, j) => j);
  for (let i = 1; i <= reference.length; i++) {
    const current = [i];
    for (let j = 1; j <= hypothesis.length; j++) {
      const substitution = previous[j - 1] + (reference[i - 1] === hypothesis[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j] + 1, current[j - 1] + 1, substitution));
    }
    previous = current;
  }
  return previous[hypothesis.length];
}
