/** Resource lists (requests, limits, node capacity), as ValidateResourceRequirements words it. */
import { parseQuantity } from '../quantity.js';
import { isQualifiedName } from './names.js';
import { asObject, child, invalid, key, typeInvalid, type Causes } from './types.js';

const QUANTITY_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/** Resource names a container may request without a domain prefix. */
const CONTAINER_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage']);
/** Resource names a node may report without a domain prefix. */
const NODE_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage', 'pods', 'storage']);

export type ResourceScope = 'container' | 'node';

interface ParsedQuantity {
  /** The quantity as the user wrote it (numbers rendered as text). */
  text: string;
  value: number;
}

const isHugePages = (name: string) => name.startsWith('hugepages-');
/** Native resources live in the default namespace (no '/') or under kubernetes.io. */
const isNative = (name: string) => !name.includes('/') || name.includes('kubernetes.io/');
/** Extended resources (`example.com/gpu`) are counted in whole units. */
const isExtended = (name: string) => !isNative(name) && !name.startsWith('requests.');

function validateResourceName(errs: Causes, name: string, path: string, scope: ResourceScope): boolean {
  const before = errs.length;
  for (const msg of isQualifiedName(name)) errs.push(invalid(path, name, msg));
  if (errs.length !== before) return false;
  if (!name.includes('/')) {
    const standard = scope === 'container' ? CONTAINER_RESOURCES : NODE_RESOURCES;
    if (!standard.has(name) && !isHugePages(name)) {
      errs.push(invalid(path, name, scope === 'container' ? 'must be a standard resource for containers' : 'must be a standard resource type or fully qualified'));
    }
  }
  return errs.length === before;
}

/** A map of resource name → quantity; returns the valid, parsed entries. */
export function validateResourceList(errs: Causes, value: unknown, path: string, scope: ResourceScope): Map<string, ParsedQuantity> {
  const parsed = new Map<string, ParsedQuantity>();
  const list = asObject(errs, value, path);
  if (!list) return parsed;
  for (const [name, raw] of Object.entries(list)) {
    const p = key(path, name);
    const nameOk = validateResourceName(errs, name, p, scope);
    if (typeof raw !== 'string' && typeof raw !== 'number') {
      errs.push(typeInvalid(p, raw, 'string'));
      continue;
    }
    const text = String(raw);
    const q = parseQuantity(raw);
    if (q === undefined) {
      errs.push(invalid(p, text, QUANTITY_ERROR));
      continue;
    }
    if (q < 0) errs.push(invalid(p, text, 'must be greater than or equal to 0'));
    else if (nameOk && isExtended(name) && !Number.isInteger(q)) errs.push(invalid(p, text, 'must be an integer'));
    if (nameOk) parsed.set(name, { text, value: q });
  }
  return parsed;
}

/** A container's `resources`: both lists valid, and no request above its limit. */
export function validateResourceRequirements(errs: Causes, value: unknown, path: string): void {
  const resources = asObject(errs, value, path);
  if (!resources) return;
  const limitsPath = child(path, 'limits');
  const requestsPath = child(path, 'requests');
  const limits = validateResourceList(errs, resources.limits, limitsPath, 'container');
  const requests = validateResourceList(errs, resources.requests, requestsPath, 'container');
  for (const [name, request] of requests) {
    const limit = limits.get(name);
    if (!limit || request.value < 0 || limit.value < 0) continue;
    if (request.value > limit.value * (1 + 1e-12)) {
      errs.push(invalid(requestsPath, request.text, `must be less than or equal to ${name} limit of ${limit.text}`));
    }
  }
}
