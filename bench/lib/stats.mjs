// Small statistics for the per-round values and ratios of the benchmark.

/** The median of numbers (the mean of the middle two for an even count). */
export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Median and spread of the finite values; `null` when there are none.
 * @returns {{ median: number, min: number, max: number, n: number, values: number[] } | null}
 */
export function summarize(values) {
  const v = values.filter((x) => typeof x === "number" && Number.isFinite(x));
  if (v.length === 0) return null;
  return { median: median(v), min: Math.min(...v), max: Math.max(...v), n: v.length, values: v };
}

/**
 * Per-round ratios a/b, only for rounds where both were measured.
 * @param {(number|null)[]} a
 * @param {(number|null)[]} b
 */
export function roundRatios(a, b) {
  const out = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] != null && b[i] != null && b[i] !== 0) out.push(a[i] / b[i]);
  }
  return out;
}

/**
 * The order of the servers in a round: forward in odd rounds, backward in even ones
 * (A B C, C B A, ...), so that a slow drift of the machine favours no one.
 */
export function roundOrder(servers, round) {
  return round % 2 === 0 ? [...servers] : [...servers].reverse();
}
