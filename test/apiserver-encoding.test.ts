/**
 * The API server's per-request shortcuts, as pure functions: one encoding of an object reused in
 * its watch event and in the reply (encodeWithRaw), and object comparison without JSON strings
 * (jsonEqual) — each must give what the slow way gave.
 */
import t from 'tap';
import { decode, encode, encodeWithRaw } from '../protocol/codec.js';
import { jsonEqual } from '../nodes/apiserver/json-equal.js';

const pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web-1', namespace: 'default', resourceVersion: '42', labels: { app: 'web' }, uid: 'u-1' },
  spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 80 }] }] },
  status: { phase: 'Running', podIP: '127.128.0.5', conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null }] },
};

t.test('an object encoded once goes into a reply or a watch event byte for byte as encoding the whole would', async (t) => {
  const raw = encode(pod);
  const reply = encodeWithRaw({ ok: true }, 'value', raw);
  t.same(Buffer.from(reply), Buffer.from(encode({ ok: true, value: pod })), 'reply bytes');
  t.same(decode(reply), { ok: true, value: pod });
  for (const type of ['ADDED', 'MODIFIED', 'DELETED']) {
    const ev = encodeWithRaw({ type }, 'object', raw);
    t.same(Buffer.from(ev), Buffer.from(encode({ type, object: pod })), `${type} event bytes`);
  }
  const big = { ...pod, metadata: { ...pod.metadata, annotations: { pad: 'x'.repeat(70_000) } } };
  t.same(decode(encodeWithRaw({ ok: true }, 'value', encode(big))), { ok: true, value: big }, 'an object over 64 KiB');
  const many = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i]));
  t.same(Buffer.from(encodeWithRaw(many, 'v', raw)), Buffer.from(encode({ ...many, v: pod })), 'twenty fields and the raw one');
});

t.test('jsonEqual says what comparing JSON strings said, but key order does not matter', async (t) => {
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const cases: [unknown, unknown][] = [
    [pod, structuredClone(pod)],
    [pod, { ...pod, spec: { ...pod.spec, nodeName: 'n2' } }],
    [pod, { ...pod, status: undefined }],
    [{ a: 1, b: undefined }, { a: 1 }],
    [{ a: 1 }, { a: 1, b: null }],
    [{ a: [1, undefined] }, { a: [1, null] }],
    [{ a: [1, 2] }, { a: [1, 2, 3] }],
    [{ a: [] }, { a: {} }],
    [{ a: '1' }, { a: 1 }],
    [{ a: 0 }, { a: false }],
    [{ a: NaN }, { a: null }],
    [{ a: { b: { c: [{ d: 'x' }] } } }, { a: { b: { c: [{ d: 'y' }] } } }],
    [null, {}],
    [undefined, undefined],
    [{ a: 1 }, { b: 1 }],
  ];
  for (const [a, b] of cases) t.equal(jsonEqual(a, b), same(a, b), `${JSON.stringify(a)?.slice(0, 60)} vs ${JSON.stringify(b)?.slice(0, 60)}`);
  t.equal(jsonEqual({ a: 1, b: { c: 2, d: 3 } }, { b: { d: 3, c: 2 }, a: 1 }), true, 'keys in another order: equal (JSON strings differ)');
});
