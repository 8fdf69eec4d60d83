/**
 * The pod-template hash that names a Deployment's ReplicaSets (`<deployment>-<hash>`) and
 * labels their pods (`pod-template-hash`), and template equality, as kube-controller-manager's
 * `controller.ComputeHash` and `deploymentutil.EqualIgnoreHash` do.
 *
 * Kubernetes hashes the Go struct (spew dump) with FNV-1a 32, appends the collision count
 * (little-endian uint32) when there is one, and writes the decimal sum through
 * `rand.SafeEncodeString`. Here the struct is the template's JSON: normalized (no null/undefined,
 * empty objects and arrays dropped — Go's semantic equality treats nil and empty alike),
 * keys sorted.
 */
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';

/** apps.DefaultDeploymentUniqueLabelKey. */
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';

/** k8s.io/apimachinery/pkg/util/rand: no vowels, no confusable characters. */
const SAFE_ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** rand.SafeEncodeString: each character maps to `alphanums[code % 27]`. */
export function safeEncodeString(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += SAFE_ALPHANUMS[s.charCodeAt(i) % SAFE_ALPHANUMS.length];
  return out;
}

const FNV32_OFFSET = 0x811c9dc5;
const FNV32_PRIME = 0x01000193;

/** FNV-1a, 32 bits, continuing from `hash` (so several writes hash as one stream). */
export function fnv1a32(bytes: Uint8Array, hash = FNV32_OFFSET): number {
  let h = hash >>> 0;
  for (const b of bytes) h = Math.imul(h ^ b, FNV32_PRIME) >>> 0;
  return h;
}

/** Drops null/undefined, empty objects and empty arrays, recursively. Returns undefined when nothing is left. */
export function normalize(value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value)) {
    const items = value.map((v) => normalize(v) ?? null);
    return items.length ? items : undefined;
  }
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value as object).sort()) {
      const v = normalize((value as Record<string, unknown>)[key]);
      if (v !== undefined) out[key] = v;
    }
    return Object.keys(out).length ? out : undefined;
  }
  return value;
}

/** JSON with keys sorted at every level, after `normalize`. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(normalize(value) ?? null);
}

/**
 * The hash of a pod template: FNV-1a 32 over its stable JSON, then the collision count as a
 * little-endian uint32 when given (0 counts: Kubernetes hashes a non-nil count), encoded with
 * the SafeEncodeString alphabet (e.g. `5d9f7c4b8`).
 */
export function podTemplateHash(template: PodTemplateSpec | undefined, collisionCount?: number): string {
  let h = fnv1a32(new TextEncoder().encode(stableStringify(template ?? {})));
  if (collisionCount !== undefined && collisionCount !== null) {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv1a32(bytes, h);
  }
  return safeEncodeString(String(h));
}

/** The template without its `pod-template-hash` label. */
export function withoutHashLabel(template: PodTemplateSpec | undefined): PodTemplateSpec {
  const t = template ?? {};
  const labels = t.metadata?.labels;
  if (!labels || !(POD_TEMPLATE_HASH_LABEL in labels)) return t;
  const { [POD_TEMPLATE_HASH_LABEL]: _, ...rest } = labels;
  return { ...t, metadata: { ...t.metadata, labels: rest } };
}

/** EqualIgnoreHash: the same template, ignoring the `pod-template-hash` label (and nil vs empty). */
export function templatesEqual(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  return stableStringify(withoutHashLabel(a)) === stableStringify(withoutHashLabel(b));
}
