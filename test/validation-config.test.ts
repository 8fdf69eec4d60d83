/** ConfigMap and Secret validation (protocol/validation/config.ts), worded as kube-apiserver words it. */
import t from 'tap';
import type { FieldCause } from '../protocol/errors.js';
import { validateObject } from '../protocol/validation/index.js';

const cm = (extra: Record<string, unknown> = {}): any => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'default' }, data: { 'app.conf': 'x=1' }, ...extra });
const secret = (extra: Record<string, unknown> = {}): any => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 's', namespace: 'default' },
  type: 'Opaque',
  data: { password: Buffer.from('hunter2').toString('base64') },
  ...extra,
});
const lines = (causes: FieldCause[]) => causes.map((c) => `${c.reason} ${c.field}: ${c.message}`);

t.test('valid ConfigMaps and Secrets', async (t) => {
  t.same(validateObject(cm()), []);
  t.same(validateObject(cm({ data: { KEY_1: 'a', 'key-2.txt': 'b' }, binaryData: { 'logo.png': 'iVBORw0KGgo=' } })), []);
  t.same(validateObject(secret()), []);
  t.same(validateObject(secret({ type: 'kubernetes.io/tls', data: { 'tls.crt': 'Y3J0', 'tls.key': 'a2V5' } })), []);
});

t.test('bad keys: every one reported, with IsConfigMapKey wording', async (t) => {
  const causes = validateObject(cm({ data: { 'a b': '1', '..x': '2', '.': '3', ok: '4' } }));
  t.same(lines(causes), [
    `FieldValueInvalid data[a b]: Invalid value: "a b": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
    `FieldValueInvalid data[..x]: Invalid value: "..x": must not start with '..'`,
    `FieldValueInvalid data[.]: Invalid value: ".": must not be '.'`,
  ]);
  const s = validateObject(secret({ data: { 'a/b': 'eA==' } }));
  t.equal(s.length, 1);
  t.equal(s[0].field, 'data[a/b]');
});

t.test('values: strings only; Secret data and binaryData must be base64 (never echoed)', async (t) => {
  t.same(lines(validateObject(cm({ data: { n: 5 } }))), ['FieldValueTypeInvalid data[n]: Invalid value: "integer": data[n] in body must be of type string: 5']);
  t.same(lines(validateObject(secret({ data: { password: 'not base64!' } }))), ['FieldValueInvalid data[password]: Invalid value: "<secret contents redacted>": illegal base64 data']);
  t.same(validateObject(cm({ binaryData: { b: '%%%' } })).map((c) => c.field), ['binaryData[b]']);
  t.same(validateObject(cm({ data: { k: 'a' }, binaryData: { k: 'YQ==' } })).map((c) => c.message), ['Invalid value: "k": duplicate of key present in data']);
});

t.test('size: more than 1 MiB of data is rejected', async (t) => {
  const big = 'x'.repeat(600 * 1024);
  t.same(lines(validateObject(cm({ data: { a: big, b: big } }))), ['FieldValueTooLong : Too long: must have at most 1048576 bytes']);
  t.same(validateObject(cm({ data: { a: big } })), [], 'just under the limit is fine');
  const bigSecret = Buffer.alloc(1100 * 1024).toString('base64');
  t.same(lines(validateObject(secret({ data: { a: bigSecret } }))), ['FieldValueTooLong data: Too long: must have at most 1048576 bytes']);
});

t.test('Secret types: required type, keys a built-in type needs', async (t) => {
  t.same(lines(validateObject(secret({ type: '' }))), ['FieldValueRequired type: Required value']);
  t.same(validateObject(secret({ type: 'kubernetes.io/tls', data: { 'tls.crt': 'Y3J0' } })).map((c) => `${c.reason} ${c.field}`), ['FieldValueRequired data[tls.key]']);
  t.same(validateObject(secret({ type: 'kubernetes.io/dockerconfigjson', data: {} })).map((c) => c.field), ['data[.dockerconfigjson]']);
});

t.test('updates: a Secret keeps its type; immutable data cannot change', async (t) => {
  const old = { ...secret(), metadata: { name: 's', namespace: 'default', uid: 'u', resourceVersion: '1' } };
  t.same(lines(validateObject({ ...old, type: 'kubernetes.io/basic-auth', data: { username: 'dQ==' } }, old)), ['FieldValueInvalid type: Invalid value: "kubernetes.io/basic-auth": field is immutable']);
  const frozen = { ...cm({ immutable: true }), metadata: { name: 'cfg', namespace: 'default', uid: 'u', resourceVersion: '1' } };
  t.same(lines(validateObject({ ...frozen, data: { 'app.conf': 'x=2' } }, frozen)), ['FieldValueForbidden data: Forbidden: field is immutable when `immutable` is set']);
  t.same(lines(validateObject({ ...frozen, immutable: false }, frozen)), ['FieldValueForbidden immutable: Forbidden: field is immutable when `immutable` is set']);
  t.same(validateObject({ ...frozen, metadata: { ...frozen.metadata, labels: { a: 'b' } } }, frozen), [], 'metadata may still change');
});
