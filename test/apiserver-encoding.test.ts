/**
 * The API server's per-request shortcuts, as pure functions: one encoding of an object reused in
 * its watch event and in the reply (encodeWithRaw), the resourceVersion spliced into stored bytes
 * (withFieldEntry), and object comparison without JSON strings
 * (jsonEqual) — each must give what the slow way gave.
 */
import t from 'tap';
import { Packr } from 'msgpackr';
import { decode, encode, encodeWithRaw, withFieldEntry } from '../protocol/codec.js';
import { jsonEqual } from '../protocol/json-equal.js';

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
  for (const round of ['first', 'second (envelope keys and values encoded once, reused)']) {
    for (const type of ['ADDED', 'MODIFIED', 'DELETED']) {
      const ev = encodeWithRaw({ type }, 'object', raw);
      t.same(Buffer.from(ev), Buffer.from(encode({ type, object: pod })), `${type} event bytes, ${round} time`);
    }
    t.same(Buffer.from(encodeWithRaw({ ok: true }, 'value', raw)), Buffer.from(encode({ ok: true, value: pod })), `reply bytes, ${round} time`);
  }
  const big = { ...pod, metadata: { ...pod.metadata, annotations: { pad: 'x'.repeat(70_000) } } };
  t.same(decode(encodeWithRaw({ ok: true }, 'value', encode(big))), { ok: true, value: big }, 'an object over 64 KiB');
  const many = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i]));
  t.same(Buffer.from(encodeWithRaw(many, 'v', raw)), Buffer.from(encode({ ...many, v: pod })), 'twenty fields and the raw one');
});

/** The object as the store keeps it (no resourceVersion) and as it is served (resourceVersion last in metadata). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

function storedAndServed(o: Obj, rv: string) {
  const { resourceVersion: _rv, ...metadata } = o.metadata;
  return { stored: { ...o, metadata }, served: { ...o, metadata: { ...metadata, resourceVersion: rv } } };
}

t.test('the resourceVersion spliced into stored bytes gives the bytes of encoding the served object', async (t) => {
  const { metadata: podMeta, ...podRest } = pod;
  const variants: [string, Obj][] = [
    ['a pod', pod],
    ['metadata first', { metadata: podMeta, ...podRest }],
    ['metadata last', { ...podRest, metadata: podMeta }],
    ['an annotation over 64 KiB', { ...pod, metadata: { ...pod.metadata, annotations: { pad: 'x'.repeat(70_000) } } }],
    ['metadata with only a name', { ...pod, metadata: { name: 'x', resourceVersion: '1' } as never }],
    ['unicode and numbers around it', { ...pod, metadata: { ...pod.metadata, labels: { 'é': 'ü'.repeat(300) } }, spec: { ...pod.spec, n: [1.5, -7, 2 ** 40, -(2 ** 33), null, true] } as never }],
  ];
  for (const [name, o] of variants) {
    const { stored, served } = storedAndServed(o, '123456');
    const spliced = withFieldEntry(encode(stored), 'metadata', 'resourceVersion', '123456');
    t.ok(spliced, `${name}: spliced`);
    t.same(Buffer.from(spliced!), Buffer.from(encode(served)), `${name}: the bytes encode() gives`);
    t.strictSame(Object.keys((decode(spliced!) as Obj).metadata), Object.keys(served.metadata), `${name}: resourceVersion is the last metadata key`);
  }
});

t.test('stored bytes from another msgpack encoder (fixmaps, map32) are spliced as well', async (t) => {
  const compact = new Packr({ useRecords: false, mapsAsObjects: true, variableMapSize: true });
  const fifteen = Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`k${i}`, i]));
  for (const [name, metadata] of [['three keys', { name: 'a', namespace: 'b', uid: 'c' }], ['fifteen keys (the header grows)', fifteen]] as const) {
    const bytes = compact.pack({ kind: 'Pod', metadata, spec: { x: 1 } });
    t.equal(bytes[0] & 0xf0, 0x80, `${name}: a fixmap`);
    const spliced = withFieldEntry(bytes, 'metadata', 'resourceVersion', '9');
    t.same(decode(spliced!), { kind: 'Pod', metadata: { ...metadata, resourceVersion: '9' }, spec: { x: 1 } }, name);
  }
  // A map32 holding the metadata map32, written by hand.
  const map32 = (n: number) => [0xdf, 0, 0, 0, n];
  const str = (s: string) => [0xa0 | s.length, ...Buffer.from(s)];
  const bytes = Uint8Array.from([...map32(2), ...str('kind'), ...str('Pod'), ...str('metadata'), ...map32(1), ...str('name'), ...str('p')]);
  t.same(decode(withFieldEntry(bytes, 'metadata', 'resourceVersion', '7')!), { kind: 'Pod', metadata: { name: 'p', resourceVersion: '7' } }, 'map32');
});

t.test('bytes that are not a map with a metadata map without resourceVersion are not spliced, and nothing throws', async (t) => {
  t.equal(withFieldEntry(encode(pod), 'metadata', 'resourceVersion', '1'), undefined, 'metadata already has a resourceVersion');
  t.equal(withFieldEntry(encode({ kind: 'Pod' }), 'metadata', 'resourceVersion', '1'), undefined, 'no metadata');
  t.equal(withFieldEntry(encode({ metadata: 'x' }), 'metadata', 'resourceVersion', '1'), undefined, 'metadata is not a map');
  t.equal(withFieldEntry(encode([1, 2]), 'metadata', 'resourceVersion', '1'), undefined, 'an array');
  // Bytes are one whole msgpack value (the caller encoded or decoded them): only the walk up to the
  // end of metadata is checked, so bytes cut short before that are refused.
  const good = encode(storedAndServed(pod, '1').stored);
  const metadataEnd = Buffer.from(good).indexOf(Buffer.from([0xa4, ...Buffer.from('spec')]));
  t.ok(metadataEnd > 20, 'spec follows metadata');
  let refused = 0;
  for (let cut = 0; cut < metadataEnd; cut++) if (withFieldEntry(good.subarray(0, cut), 'metadata', 'resourceVersion', '1') === undefined) refused++;
  t.equal(refused, metadataEnd, 'every cut before the end of metadata is refused');
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const threw: string[] = [];
  for (let i = 0; i < 5000; i++) {
    const garbage = Uint8Array.from({ length: 12 + Math.floor(rand() * 64) }, () => Math.floor(rand() * 256));
    if (i % 2) garbage[0] = 0x80 | (garbage[0] & 0x0f); // half of them maps, so the walk goes in
    if (i % 4 === 1) garbage.set([0xa8, ...Buffer.from('metadata')], 1); // and a quarter with a metadata key
    try {
      withFieldEntry(garbage, 'metadata', 'resourceVersion', '1');
    } catch (e) {
      threw.push(`${Buffer.from(garbage).toString('hex')}: ${(e as Error).message}`);
    }
  }
  t.same(threw, [], '5000 random byte strings: none throws');
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
