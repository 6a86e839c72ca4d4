// Number formatting shared by the report and the checks.

import { label } from "./servers.mjs";

/** A server's name as the report prints it. */
export const NAMES = new Proxy({}, { get: (_, name) => label(String(name)) });

export function fmt(x, digits) {
  if (x == null || !Number.isFinite(x)) return "-";
  return x.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}
export function spread(s, digits) {
  return `${fmt(s.min, digits)}-${fmt(s.max, digits)}`;
}
export function ratio(s) {
  return s ? `${s.median.toFixed(2)}x (${s.min.toFixed(2)}-${s.max.toFixed(2)})` : "-";
}
export function pct(x) {
  return x == null || !Number.isFinite(x) ? "-" : `${Math.round(x * 100)}%`;
}
