/**
 * Kubernetes' time formatting for ages: a leaf module, so column tables (storage-columns,
 * hpa-columns) can use it without importing printers.ts, which imports them.
 */
/** Milliseconds since the epoch of an RFC 3339 time (any fraction digits); undefined when absent or bad. */
export function parseTime(value: unknown): number | undefined {
  if (typeof value !== 'string' || !value) return undefined;
  // Date.parse wants at most milliseconds: trim MicroTime's extra digits.
  const ms = Date.parse(value.replace(/(\.\d{3})\d+/, '$1'));
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * `k8s.io/apimachinery/pkg/util/duration.HumanDuration`: `45s`, `2m10s`, `10m`, `3h5m`,
 * `2d3h`, `30d`, `2y100d`, `<invalid>` for durations more than a second negative.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(ms / 3_600_000);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.trunc(hours / 24) % 365;
    const years = Math.trunc(hours / 24 / 365);
    return dy === 0 ? `${years}y` : `${years}y${dy}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/** kubectl's `translateTimestampSince`: the age of a timestamp, `<unknown>` when there is none. */
export function formatAge(timestamp: string | undefined | null, now: number): string {
  const t = parseTime(timestamp);
  return t === undefined ? '<unknown>' : humanDuration(now - t);
}
