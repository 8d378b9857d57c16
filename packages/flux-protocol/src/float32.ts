/**
 * Rounds a number the way Flux prints it: Flux serializes its floats as 32-bit
 * floats in shortest round-trip form (`"audio_window_end": 0.47999996`, D-mig;
 * reference §3 "Common rules"). The result is the double whose shortest decimal
 * form is that float32 text, so `JSON.stringify` prints exactly what Flux would,
 * and not the 17-digit expansion `Math.fround` alone gives (0.47999998927116394).
 *
 * Non-finite input is returned unchanged.
 */
export function float32(value: number): number {
  const hit = cache.get(value);
  if (hit !== undefined) return hit;
  const result = shortestFloat32(value);
  // Audio times, word times and confidences recur across messages and sessions.
  if (cache.size >= CACHE_SIZE) cache.clear();
  cache.set(value, result);
  return result;
}

const CACHE_SIZE = 4096;
const cache = new Map<number, number>();

function shortestFloat32(value: number): number {
  const f = Math.fround(value);
  if (!Number.isFinite(f) || f === 0) return f === 0 ? 0 : f;
  // Float32 needs at most 9 significant digits to round-trip; most values need far fewer.
  for (let digits = 1; digits < 9; digits++) {
    const candidate = Number(f.toPrecision(digits));
    if (Math.fround(candidate) === f) return candidate;
  }
  return Number(f.toPrecision(9));
}
