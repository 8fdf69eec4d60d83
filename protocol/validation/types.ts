/**
 * Field errors worded as k8s.io/apimachinery's field.Error prints them (`ErrorBody`), field
 * paths built as field.Path does (`spec.containers[0].resources.requests[cpu]`), and the
 * JSON type checks that stand in for the OpenAPI schema kube-apiserver decodes against.
 */
import { CauseType, type FieldCause } from '../errors.js';

export type Causes = FieldCause[];
export type JsonObject = Record<string, unknown>;
export type JsonType = 'null' | 'array' | 'object' | 'string' | 'integer' | 'number' | 'boolean';

/** `spec` + `containers` → `spec.containers`; '' is the root. */
export function child(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

/** `spec.containers` + 0 → `spec.containers[0]`. */
export function index(path: string, i: number): string {
  return `${path}[${i}]`;
}

/** `spec.nodeSelector` + `disk` → `spec.nodeSelector[disk]` (map keys, as field.Path.Key). */
export function key(path: string, k: string): string {
  return `${path}[${k}]`;
}

/** Renders a bad value as Go's `%q` / `%v` would in field.Error. */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return '"null"';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return truncate(safeJson(value));
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function truncate(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max)}...` : text;
}

export function jsonType(value: unknown): JsonType {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'boolean';
  return 'object';
}

export function required(field: string, detail = ''): FieldCause {
  return { reason: CauseType.Required, field, message: detail ? `Required value: ${detail}` : 'Required value' };
}

export function invalid(field: string, value: unknown, detail: string): FieldCause {
  return { reason: CauseType.Invalid, field, message: `Invalid value: ${formatValue(value)}${detail ? `: ${detail}` : ''}` };
}

export function notSupported(field: string, value: unknown, supported: readonly string[]): FieldCause {
  const list = supported.map((s) => JSON.stringify(s)).join(', ');
  return { reason: CauseType.NotSupported, field, message: `Unsupported value: ${formatValue(value)}${list ? `: supported values: ${list}` : ''}` };
}

export function duplicate(field: string, value: unknown): FieldCause {
  return { reason: CauseType.Duplicate, field, message: `Duplicate value: ${formatValue(value)}` };
}

export function forbidden(field: string, detail: string): FieldCause {
  return { reason: CauseType.Forbidden, field, message: `Forbidden: ${detail}` };
}

export function tooLong(field: string, max: number): FieldCause {
  return { reason: CauseType.TooLong, field, message: `Too long: may not be more than ${max} bytes` };
}

/** kube-openapi's wording: `Invalid value: "string": spec.containers in body must be of type array: "nginx"`. */
export function typeInvalid(field: string, value: unknown, expected: string): FieldCause {
  const actual = jsonType(value);
  const where = field || 'body';
  const shown = typeof value === 'string' ? JSON.stringify(truncate(value)) : truncate(safeJson(value));
  return {
    reason: CauseType.TypeInvalid,
    field: where,
    message: `Invalid value: ${JSON.stringify(actual)}: ${field ? `${field} in body` : 'body'} must be of type ${expected}: ${shown}`,
  };
}

/** Absent: undefined or JSON null (kube-apiserver treats an explicit null like an omitted field). */
export function absent(value: unknown): value is null | undefined {
  return value === undefined || value === null;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/*
 * The `as*` readers: return the value when it has the right JSON type, undefined when it is
 * absent (nothing reported) or of the wrong type (a TypeInvalid cause is pushed).
 */

export function asObject(errs: Causes, value: unknown, path: string): JsonObject | undefined {
  if (absent(value)) return undefined;
  if (isObject(value)) return value;
  errs.push(typeInvalid(path, value, 'object'));
  return undefined;
}

export function asArray(errs: Causes, value: unknown, path: string): unknown[] | undefined {
  if (absent(value)) return undefined;
  if (Array.isArray(value)) return value;
  errs.push(typeInvalid(path, value, 'array'));
  return undefined;
}

export function asString(errs: Causes, value: unknown, path: string): string | undefined {
  if (absent(value)) return undefined;
  if (typeof value === 'string') return value;
  errs.push(typeInvalid(path, value, 'string'));
  return undefined;
}

export function asInteger(errs: Causes, value: unknown, path: string): number | undefined {
  if (absent(value)) return undefined;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  errs.push(typeInvalid(path, value, 'integer'));
  return undefined;
}

export function asBoolean(errs: Causes, value: unknown, path: string): boolean | undefined {
  if (absent(value)) return undefined;
  if (typeof value === 'boolean') return value;
  errs.push(typeInvalid(path, value, 'boolean'));
  return undefined;
}

/** An array whose items are all strings; wrong items are reported at `path[i]`. */
export function asStringArray(errs: Causes, value: unknown, path: string): string[] | undefined {
  const arr = asArray(errs, value, path);
  if (!arr) return undefined;
  const out: string[] = [];
  arr.forEach((item, i) => {
    if (typeof item === 'string') out.push(item);
    else errs.push(typeInvalid(index(path, i), item, 'string'));
  });
  return out;
}

/** A map of string → string; wrong values are reported at `path[key]`. */
export function asStringMap(errs: Causes, value: unknown, path: string): Record<string, string> | undefined {
  const obj = asObject(errs, value, path);
  if (!obj) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v === 'string') out[k] = v;
    else errs.push(typeInvalid(key(path, k), v, 'string'));
  }
  return out;
}

/** An array of objects: yields [item, path] for the items that are objects, reports the rest. */
export function objectItems(errs: Causes, value: unknown, path: string): Array<[JsonObject, string]> {
  const arr = asArray(errs, value, path);
  if (!arr) return [];
  const out: Array<[JsonObject, string]> = [];
  arr.forEach((item, i) => {
    const p = index(path, i);
    if (isObject(item)) out.push([item, p]);
    else errs.push(typeInvalid(p, item, 'object'));
  });
  return out;
}

/** Integer field ≥ min, when present; message as ValidateNonnegativeField (min 0) words it. */
export function validateMinInteger(errs: Causes, value: unknown, path: string, min: number): number | undefined {
  const n = asInteger(errs, value, path);
  if (n !== undefined && n < min) errs.push(invalid(path, n, `must be greater than or equal to ${min}`));
  return n;
}

/** A string from a fixed set, when present. */
export function validateEnum(errs: Causes, value: unknown, path: string, supported: readonly string[]): string | undefined {
  const s = asString(errs, value, path);
  if (s !== undefined && !supported.includes(s)) errs.push(notSupported(path, s, supported));
  return s;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (absent(a) && absent(b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ao = a as JsonObject;
  const bo = b as JsonObject;
  // Keys whose value is absent count as missing, so `{a: null}` equals `{}`.
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const k of keys) if (!deepEqual(ao[k], bo[k])) return false;
  return true;
}
