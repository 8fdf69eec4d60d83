/** ConfigMaps and Secrets: ValidateConfigMap / ValidateSecret, the parts kubeact uses. */
import { CauseType } from '../errors.js';
import {
  absent,
  asBoolean,
  asObject,
  asString,
  forbidden,
  invalid,
  key,
  required,
  typeInvalid,
  deepEqual,
  type Causes,
  type JsonObject,
} from './types.js';

/** The most bytes of data a ConfigMap or Secret may hold (corev1.MaxSecretSize). */
export const MAX_CONFIG_DATA_BYTES = 1024 * 1024;
const CONFIG_KEY_MAX = 253;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const CONFIG_KEY_ERROR =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The keys a Secret of a built-in type must carry. */
const SECRET_TYPE_KEYS: Record<string, string[]> = {
  'kubernetes.io/tls': ['tls.crt', 'tls.key'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
  'kubernetes.io/dockercfg': ['.dockercfg'],
  'kubernetes.io/ssh-auth': ['ssh-privatekey'],
};

/** IsConfigMapKey: the messages kube-apiserver gives for a bad key. */
export function isConfigKey(value: string): string[] {
  const out: string[] = [];
  if (value.length > CONFIG_KEY_MAX) out.push(`must be no more than ${CONFIG_KEY_MAX} characters`);
  if (!CONFIG_KEY.test(value)) out.push(CONFIG_KEY_ERROR);
  if (value === '.') out.push("must not be '.'");
  else if (value === '..') out.push("must not be '..'");
  else if (value.startsWith('..')) out.push("must not start with '..'");
  return out;
}

export function isBase64(value: string): boolean {
  return BASE64.test(value);
}

/** Reads a map of key → string, checking each key; returns the valid entries. */
function dataMap(errs: Causes, value: unknown, path: string): Map<string, string> {
  const out = new Map<string, string>();
  const obj = asObject(errs, value, path);
  if (!obj) return out;
  for (const [k, v] of Object.entries(obj)) {
    const p = key(path, k);
    for (const msg of isConfigKey(k)) errs.push(invalid(p, k, msg));
    if (typeof v !== 'string') errs.push(typeInvalid(p, v, 'string'));
    else out.set(k, v);
  }
  return out;
}

function checkTotalSize(errs: Causes, bytes: number, path: string): void {
  if (bytes > MAX_CONFIG_DATA_BYTES) errs.push({ reason: CauseType.TooLong, field: path, message: `Too long: must have at most ${MAX_CONFIG_DATA_BYTES} bytes` });
}

export function validateConfigMap(errs: Causes, obj: JsonObject): void {
  const data = dataMap(errs, obj.data, 'data');
  const binary = dataMap(errs, obj.binaryData, 'binaryData');
  let bytes = 0;
  for (const [k, v] of data) bytes += Buffer.byteLength(k) + Buffer.byteLength(v);
  for (const [k, v] of binary) {
    if (data.has(k)) errs.push(invalid(key('binaryData', k), k, 'duplicate of key present in data'));
    if (!isBase64(v)) errs.push(invalid(key('binaryData', k), '<binary>', 'must be base64-encoded'));
    bytes += Buffer.byteLength(k) + Math.floor((v.length * 3) / 4);
  }
  checkTotalSize(errs, bytes, '');
  asBoolean(errs, obj.immutable, 'immutable');
}

export function validateSecret(errs: Causes, obj: JsonObject): void {
  const type = asString(errs, obj.type, 'type');
  if (absent(obj.type) || type === '') errs.push(required('type'));
  const data = dataMap(errs, obj.data, 'data');
  let bytes = 0;
  for (const [k, v] of data) {
    // Values are base64 on the wire, as in the Kubernetes API; the value is never echoed back.
    if (!isBase64(v)) errs.push(invalid(key('data', k), '<secret contents redacted>', 'illegal base64 data'));
    bytes += Buffer.byteLength(k) + Math.floor((v.length * 3) / 4);
  }
  // stringData is folded into data by the API server before validation; left here only when it was not.
  for (const k of dataMap(errs, obj.stringData, 'stringData').keys()) bytes += k.length;
  checkTotalSize(errs, bytes, 'data');
  for (const needed of (type && SECRET_TYPE_KEYS[type]) || []) if (!data.has(needed)) errs.push(required(key('data', needed)));
  if (type === 'kubernetes.io/basic-auth' && !data.has('username') && !data.has('password')) {
    errs.push(required(key('data', 'username'), 'either username or password is required'));
  }
  asBoolean(errs, obj.immutable, 'immutable');
}

/** An `immutable: true` ConfigMap or Secret keeps its data and stays immutable; a Secret keeps its type. */
export function validateConfigUpdate(errs: Causes, obj: JsonObject, old: JsonObject): void {
  if (old.kind === 'Secret' && !deepEqual(obj.type, old.type)) errs.push(invalid('type', obj.type ?? '', 'field is immutable'));
  if (old.immutable !== true) return;
  if (obj.immutable !== true) errs.push(forbidden('immutable', 'field is immutable when `immutable` is set'));
  if (!deepEqual(obj.data ?? {}, old.data ?? {})) errs.push(forbidden('data', 'field is immutable when `immutable` is set'));
  if (!deepEqual(obj.binaryData ?? {}, old.binaryData ?? {})) errs.push(forbidden('binaryData', 'field is immutable when `immutable` is set'));
}
