/**
 * Resource quantities (`500m`, `1.5`, `128Mi`, `1e3`, `2G`) as Kubernetes parses them.
 * CPU is compared in millicores, everything else in bytes (or plain units).
 */
const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([numkMGTPE]?)|[eE]([+-]?\d+))$/;

/** Parses a quantity to a number of base units; undefined when the text is not a quantity. */
export function parseQuantity(text: unknown): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) ? text : undefined;
  if (typeof text !== 'string') return undefined;
  const m = text.trim().match(QUANTITY);
  if (!m || text.trim() !== text) return undefined;
  const [, sign, digits, bin, dec, exp] = m;
  let value = Number(digits);
  if (bin) value *= BINARY[bin];
  else if (exp !== undefined) value *= 10 ** Number(exp);
  else value *= DECIMAL[dec ?? ''];
  return sign === '-' ? -value : value;
}

/** CPU in millicores (`500m` → 500, `2` → 2000); 0 when absent or invalid. */
export function cpuMillis(text: unknown): number {
  const v = parseQuantity(text);
  return v === undefined ? 0 : Math.ceil(v * 1000 - 1e-9);
}

/** Memory (or any non-CPU resource) in base units; 0 when absent or invalid. */
export function quantityValue(text: unknown): number {
  const v = parseQuantity(text);
  return v === undefined ? 0 : Math.ceil(v - 1e-9);
}

/** Formats millicores as Kubernetes prints them (`1500m`, `2`). */
export function formatCpu(millis: number): string {
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
}

/** Formats bytes with the largest binary suffix that divides them (`128Mi`), else plain. */
export function formatBytes(bytes: number): string {
  for (const s of ['Ei', 'Pi', 'Ti', 'Gi', 'Mi', 'Ki']) if (bytes >= BINARY[s] && bytes % BINARY[s] === 0) return `${bytes / BINARY[s]}${s}`;
  return String(bytes);
}
