/**
 * Equality of decoded objects as their JSON would compare, without building the JSON: the API
 * server compared `JSON.stringify` strings (two per object, on every update), and a pod actor
 * compares each status it computes with the last it published. As Kubernetes'
 * semantic equality, key order does not matter; as JSON, keys holding `undefined` count as absent.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return scalar(a) === scalar(b);
  const arrayA = Array.isArray(a);
  if (arrayA !== Array.isArray(b)) return false;
  if (arrayA) {
    const x = a as unknown[];
    const y = b as unknown[];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!jsonEqual(x[i] ?? null, y[i] ?? null)) return false;
    return true;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let keysA = 0;
  for (const k in x) {
    const v = x[k];
    if (absent(v)) continue;
    keysA++;
    const w = y[k];
    if (absent(w) || !Object.prototype.hasOwnProperty.call(y, k) || !jsonEqual(v, w)) return false;
  }
  let keysB = 0;
  for (const k in y) if (!absent(y[k])) keysB++;
  return keysA === keysB;
}

/** A key JSON.stringify leaves out of an object. */
function absent(v: unknown): boolean {
  return v === undefined || typeof v === 'function' || typeof v === 'symbol';
}

/** A scalar as JSON writes it: non-finite numbers and undefined (in arrays) are null. */
function scalar(v: unknown): unknown {
  if (typeof v === 'number' && !Number.isFinite(v)) return null;
  if (v === undefined || typeof v === 'function' || typeof v === 'symbol') return null;
  return v;
}
