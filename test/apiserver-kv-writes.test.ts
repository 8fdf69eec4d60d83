/**
 * The API server's compare-and-set KV puts (nodes/apiserver/kv-writes.ts) against a real
 * nats-server: what nats.js' kv.create/kv.update did, with one reply subscription for all.
 */
import t from 'tap';
import type { KV, NatsConnection } from 'nats';
import { KvWriteError, KvWrites, WRONG_LAST_SEQUENCE } from '../nodes/apiserver/kv-writes.js';
import type { KubeObject } from '../protocol/objects.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';
import { rejects } from './helpers/errors.js';

let api: TestApiServer;
let nc: NatsConnection;
let kv: KV;
let writes: KvWrites;

t.before(async () => {
  api = await startTestApiServer();
  nc = api.nc;
  kv = await nc.jetstream().views.kv('kubeact_test_writes', { history: 1 });
  writes = new KvWrites(nc, 'kubeact_test_writes');
});
t.teardown(async () => {
  writes.close();
  await api.stop();
});

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : undefined);

t.test('a put is compare-and-set on the key\'s last revision (0: no entry yet)', async (t) => {
  const first = await writes.put('a.one', bytes('v1'), 0);
  const entry = await kv.get('a.one');
  t.equal(first, entry!.revision, 'resolves with the KV revision');
  t.equal(text(entry!.value), 'v1');
  const taken = await rejects(writes.put('a.one', bytes('v1b'), 0), KvWriteError);
  t.equal(taken.errCode, WRONG_LAST_SEQUENCE, 'the key exists: wrong last sequence');
  const second = await writes.put('a.one', bytes('v2'), first);
  t.ok(second > first);
  const stale = await rejects(writes.put('a.one', bytes('v3'), first), KvWriteError);
  t.equal(stale.errCode, WRONG_LAST_SEQUENCE, 'a stale revision: wrong last sequence');
  t.match(stale.message, /wrong last sequence/);
  t.equal(text((await kv.get('a.one'))!.value), 'v2', 'refused puts changed nothing');
});

t.test('many puts in flight at once each get their own answer', async (t) => {
  const n = 400;
  const revisions = await Promise.all(Array.from({ length: n }, (_, i) => writes.put(`many.k${i}`, bytes(`value ${i}`), 0)));
  t.equal(new Set(revisions).size, n, 'distinct revisions');
  const again = await Promise.all(Array.from({ length: n }, (_, i) => writes.put(`many.k${i}`, bytes(`again ${i}`), i % 2 ? revisions[i] : revisions[i] - 1).then(() => 'ok', (e: KvWriteError) => String(e.errCode))));
  t.same(
    again,
    Array.from({ length: n }, (_, i) => (i % 2 ? 'ok' : String(WRONG_LAST_SEQUENCE))),
    'each compare-and-set decided on its own key',
  );
  t.equal(text((await kv.get('many.k7'))!.value), 'again 7');
  t.equal(text((await kv.get('many.k8'))!.value), 'value 8');
});

t.test('a bucket that does not exist: a clear error, not a hang', async (t) => {
  const nowhere = new KvWrites(nc, 'kubeact_no_such_bucket');
  t.teardown(() => nowhere.close());
  const e = await rejects(nowhere.put('x', bytes('v'), 0), KvWriteError);
  t.match(e.message, /kubeact_no_such_bucket/);
});

t.test('through the API: a name created, deleted and created again (the key holds a delete marker)', async (t) => {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'again', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } as KubeObject;
  const first = await api.client.create(pod);
  await api.client.delete('Pod', 'again', { namespace: 'default', gracePeriodSeconds: 0 });
  const second = await api.client.create(pod);
  t.not(second.metadata!.uid, first.metadata!.uid, 'a new pod');
  t.ok(Number(second.metadata!.resourceVersion) > Number(first.metadata!.resourceVersion));
  t.same(await api.client.get('Pod', 'again', 'default'), second);
});
