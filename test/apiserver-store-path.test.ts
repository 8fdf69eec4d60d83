/**
 * The API server's write path encodes each change once: the store keeps the object it wrote
 * (no decode of its own write coming back through the KV watch) and the watch event and the
 * reply carry the stored bytes with the resourceVersion spliced in. What clients see must be
 * what they saw before: the same object in the reply, the watch event and a get, its
 * resourceVersion the KV revision (last in metadata, as before); and a change written by
 * someone else (another API server on the same store) is decoded as before.
 */
import t from 'tap';
import type { KV, NatsConnection } from 'nats';
import { bucketName, objectKey } from '../nodes/apiserver/store.js';
import { decode, encode } from '../protocol/codec.js';
import type { KubeObject } from '../protocol/objects.js';
import { subjects } from '../protocol/subjects.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';

let api: TestApiServer;
let nc: NatsConnection;
let kv: KV;

t.before(async () => {
  api = await startTestApiServer();
  nc = api.nc;
  kv = await nc.jetstream().views.kv(bucketName('Pod'));
  await api.client.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } } as KubeObject);
});
t.teardown(() => api.stop());

const pod = (name: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', labels: { app: 'web' } },
  spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] },
});

/** The raw watch events of one pod, as every watcher receives them. */
function rawEvents(name: string) {
  const events: { type: string; object: KubeObject }[] = [];
  let wanted = { n: Infinity, done: () => {} };
  const sub = nc.subscribe(subjects.watchOne('pods', 'default', name), {
    callback: (_err, msg) => {
      events.push(decode(msg.data));
      if (events.length >= wanted.n) wanted.done();
    },
  });
  return {
    events,
    /** Resolves once `n` events came; rejects after a generous deadline. */
    count(n: number): Promise<void> {
      if (events.length >= n) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${events.length} of ${n} watch events of ${name}`)), 20_000);
        wanted = { n, done: () => (clearTimeout(timer), resolve()) };
      });
    },
    stop: () => sub.unsubscribe(),
  };
}

/** A request as the client sends it, answered with the reply's decoded value. */
async function call(verb: 'create' | 'updateStatus' | 'bind', body: unknown): Promise<KubeObject> {
  const msg = await nc.request(subjects.api(verb, 'pods'), encode(body), { timeout: 10_000 });
  const reply = decode<{ ok: boolean; value: KubeObject; error?: unknown }>(msg.data);
  if (!reply.ok) throw new Error(`${verb}: ${JSON.stringify(reply.error)}`);
  return reply.value;
}

async function kvRevision(name: string): Promise<string> {
  return String((await kv.get(objectKey('Pod', 'default', name)))!.revision);
}

t.test('create, status update and bind: reply, watch event and get agree, resourceVersion the KV revision and last', async (t) => {
  const watch = rawEvents('agree');
  t.teardown(() => watch.stop());
  const created = await call('create', { object: pod('agree') });
  const running = await call('updateStatus', { object: { ...created, status: { ...created.status, phase: 'Running' } } });
  const bound = await call('bind', { namespace: 'default', name: 'agree', nodeName: 'n1' });
  await watch.count(3);
  t.same(
    watch.events.map((e) => e.type),
    ['ADDED', 'MODIFIED', 'MODIFIED'],
  );
  for (const [i, [verb, reply]] of ([['create', created], ['updateStatus', running], ['bind', bound]] as const).entries()) {
    t.same(watch.events[i].object, reply, `${verb}: the watch event's object is the reply's`);
    const keys = Object.keys(reply.metadata!);
    t.equal(keys[keys.length - 1], 'resourceVersion', `${verb}: resourceVersion is the last metadata field`);
  }
  t.equal(running.status.phase, 'Running');
  t.equal(bound.spec.nodeName, 'n1');
  t.equal(bound.metadata!.resourceVersion, await kvRevision('agree'), 'resourceVersion is the KV revision');
  t.ok(Number(created.metadata!.resourceVersion) < Number(running.metadata!.resourceVersion), 'each write a newer revision');
  t.same(await api.client.get('Pod', 'agree', 'default'), bound, 'a get gives what the last reply gave');
});

t.test('the cache keeps the object the server wrote; a change written by someone else is decoded', async (t) => {
  const store = api.server.stores.get('Pod')!;
  const request = pod('mine');
  const created = await api.server.handlers.create('Pod', { object: request });
  t.equal(store.peek('default', 'mine'), created, 'the cache holds what the create returned');
  t.equal(created.spec, request.spec, 'which is the written object itself (its spec not a decoded copy)');
  t.equal(created.metadata!.resourceVersion, await kvRevision('mine'));

  // Another API server on the same store (or this one before a restart) wrote this version.
  const watch = rawEvents('mine');
  t.teardown(() => watch.stop());
  const { resourceVersion: _rv, ...metadata } = created.metadata!;
  const foreign = { ...created, metadata: { ...metadata, labels: { app: 'other' } } };
  const revision = await kv.update(objectKey('Pod', 'default', 'mine'), encode(foreign), Number(created.metadata!.resourceVersion));
  await watch.count(1);
  t.same(watch.events[0], { type: 'MODIFIED', object: { ...foreign, metadata: { ...foreign.metadata, resourceVersion: String(revision) } } }, 'the watch event has the foreign version');
  const cached = store.peek('default', 'mine')!;
  t.same(cached.metadata!.labels, { app: 'other' }, 'so does the cache');
  t.not(cached.spec, request.spec, 'decoded from the store');
  t.same(await api.client.get('Pod', 'mine', 'default'), watch.events[0].object, 'and a get');
});

t.test('garbage written into the bucket changes nothing and the server keeps answering', async (t) => {
  const created = await api.client.create(pod('garbled'));
  await kv.put(objectKey('Pod', 'default', 'garbled'), Uint8Array.from([0xc1, 0xff, 0x00]));
  await kv.put(objectKey('Pod', 'default', 'garbled2'), Uint8Array.from([0x81, 0xa8, ...Buffer.from('metadata'), 0x05]));
  const other = await api.client.create(pod('after-garbage'));
  t.ok(Number(other.metadata!.resourceVersion) > Number(created.metadata!.resourceVersion), 'the server still writes');
  t.same(await api.client.get('Pod', 'garbled', 'default'), created, 'the garbled object is served as it last was');
});

t.test('an Event (kept packed in the cache): the reply is the written version, as its watch event and a get give it', async (t) => {
  const sub = nc.subscribe(subjects.watch('events', 'default', 'ev-1'), { max: 1 });
  const event = (async () => {
    for await (const m of sub) return decode<{ type: string; object: KubeObject }>(m.data);
  })();
  const created = await api.client.create({ apiVersion: 'v1', kind: 'Event', metadata: { name: 'ev-1', namespace: 'default' }, involvedObject: { kind: 'Pod', name: 'agree', namespace: 'default' }, reason: 'Scheduled', message: 'assigned', type: 'Normal' } as KubeObject);
  t.same(await event, { type: 'ADDED', object: created });
  t.equal(created.metadata!.resourceVersion, String((await (await nc.jetstream().views.kv(bucketName('Event'))).get(objectKey('Event', 'default', 'ev-1')))!.revision));
  t.same(await api.client.get('Event', 'ev-1', 'default'), created);
});
