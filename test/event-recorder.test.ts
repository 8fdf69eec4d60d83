/**
 * Event series and spam control (client-go's EventCorrelator): the pure correlator on a
 * simulated clock, then the EventRecorder against a real API server on a real nats-server —
 * repeats bump one Event's count and lastTimestamp (describe shows `x5 over …`), repeats
 * while a write is pending become one write, spam is dropped, similar messages are combined.
 */
import t from 'tap';
import { ApiServer } from '../nodes/apiserver/server.js';
import { describe } from '../nodes/cli/describe.js';
import { COMBINED_PREFIX, EventCorrelator } from '../nodes/shared/event-correlator.js';
import { EventRecorder } from '../nodes/shared/events.js';
import { silentLogger } from '../nodes/shared/logger.js';
import { ApiClient } from '../protocol/client.js';
import type { Event, KubeObject } from '../protocol/objects.js';
import { subjects } from '../protocol/subjects.js';
import { startTestNats } from './helpers/nats.js';

const base = { source: 'kubelet|node-1', object: 'Pod|default|web|u1', type: 'Warning', reason: 'BackOff', message: 'Back-off restarting failed container' };

t.test('correlator: the same Event keeps one key; 25 at once, then one per 5 minutes', async (t) => {
  const c = new EventCorrelator();
  const keys = new Set<string>();
  let dropped = 0;
  for (let i = 0; i < 40; i++) {
    const r = c.correlate(base, 1000 + i);
    if (r.drop) dropped++;
    else keys.add(r.key);
  }
  t.equal(keys.size, 1, 'every repeat under one key');
  t.equal(dropped, 15, 'the burst is 25');
  t.ok(c.correlate(base, 1000 + 299_000).drop, 'still dropped before a token is back');
  t.notOk(c.correlate(base, 1040 + 300_000).drop, 'one token after 5 minutes');
  t.notOk(c.correlate({ ...base, object: 'Pod|default|other|u2' }, 1050 + 300_000).drop, 'another object has its own bucket');
  t.notOk(c.correlate({ ...base, reason: 'Unhealthy' }, 1050 + 300_000).drop, 'another reason too');
});

t.test('correlator: the 10th different message within 10 minutes and later ones are combined', async (t) => {
  const c = new EventCorrelator();
  const msgs: string[] = [];
  const keys = new Set<string>();
  for (let i = 0; i < 12; i++) {
    const r = c.correlate({ ...base, reason: 'FailedScheduling', message: `0/${i} nodes are available` }, 1000 + i);
    if (r.drop) throw new Error('not spam');
    msgs.push(r.message);
    keys.add(r.key);
  }
  t.same(msgs.slice(0, 9), Array.from({ length: 9 }, (_, i) => `0/${i} nodes are available`), 'the first nine stand alone');
  t.same(msgs.slice(9), [`${COMBINED_PREFIX}0/9 nodes are available`, `${COMBINED_PREFIX}0/10 nodes are available`, `${COMBINED_PREFIX}0/11 nodes are available`], 'then combined');
  t.equal(keys.size, 10, 'the combined ones share one key: one Event');
  const later = c.correlate({ ...base, reason: 'FailedScheduling', message: '0/99 nodes are available' }, 1011 + 600_001);
  t.same(later.drop ? undefined : later.message, '0/99 nodes are available', 'after 10 quiet minutes messages stand alone again');
});

t.test('recorder against a real API server', async (t) => {
  const nats = await startTestNats();
  const nc = await nats.connect();
  const server = new ApiServer({ nc, logger: silentLogger(), serviceCidr: '127.100.15.0/24' });
  await server.start();
  const client = new ApiClient(nc);
  t.teardown(async () => {
    await server.stop();
    await nats.stop();
  });
  const pod = await client.create<KubeObject>({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' }, spec: { containers: [{ name: 'main', image: 'busybox' }] } } as KubeObject);
  const events = async () => (await client.list<Event & KubeObject>('Event', { namespace: 'default' })).items;

  const writes: string[] = [];
  const subs = (['create', 'createMany', 'update'] as const).map((verb) => nc.subscribe(subjects.api(verb, 'events'), { callback: () => void writes.push(verb) }));
  await nc.flush();
  let clock = Date.parse('2026-11-27T10:00:00Z');
  const rec = new EventRecorder(client, { component: 'kubelet', host: 'node-1' }, silentLogger(), { now: () => clock });
  rec.record(pod, 'Normal', 'Pulled', 'Container image "busybox" already present on machine');
  for (let i = 0; i < 5; i++) {
    rec.record(pod, 'Warning', 'BackOff', 'Back-off restarting failed container main in pod web_default');
    clock += 30_000;
  }
  await rec.flush();
  let list = await events();
  t.equal(list.length, 2, 'two Events: Pulled and one BackOff');
  const backOff = list.find((e) => e.reason === 'BackOff')!;
  t.equal(backOff.count, 5, 'the five repeats are counted on one Event');
  t.equal(backOff.firstTimestamp, '2026-11-27T10:00:00Z', 'first seen when recorded first');
  t.equal(backOff.lastTimestamp, '2026-11-27T10:02:00Z', 'last seen at the fifth');
  t.same(writes, ['createMany'], 'recorded in the same turn: both created in one request, the repeats folded into it');

  clock += 60_000;
  rec.record(pod, 'Warning', 'BackOff', 'Back-off restarting failed container main in pod web_default');
  await rec.flush();
  list = await events();
  t.equal(list.find((e) => e.reason === 'BackOff')!.count, 6, 'a later repeat bumps the count');
  t.equal(list.find((e) => e.reason === 'BackOff')!.lastTimestamp, '2026-11-27T10:03:30Z', 'and lastTimestamp');
  t.equal(list.length, 2, 'no new object');

  const text = describe('Pod', pod, list, clock);
  t.match(text, /Warning\s+BackOff\s+\S+ \(x6 over \S+\)\s+kubelet\s+Back-off restarting failed container main in pod web_default/, 'describe shows the series');

  // Spam: 40 more at once; the bucket held 25 and 6 are used (the 90 s of the clock refilled no whole token).
  for (let i = 0; i < 40; i++) rec.record(pod, 'Warning', 'BackOff', 'Back-off restarting failed container main in pod web_default');
  await rec.flush();
  list = await events();
  t.equal(list.find((e) => e.reason === 'BackOff')!.count, 25, 'the spam filter let 25 in all through, then dropped');
  for (const s of subs) s.unsubscribe();

  // The API server keeps Events packed (store.ts PackedCached): reads decode, selectors still hold.
  const other = await client.create<KubeObject>({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-2', namespace: 'default' }, spec: { containers: [{ name: 'main', image: 'busybox' }] } } as KubeObject);
  rec.record(other, 'Normal', 'Pulled', 'Container image "busybox" already present on machine');
  await rec.flush();
  const mine = await client.list<Event & KubeObject>('Event', { namespace: 'default', fieldSelector: 'involvedObject.name=web' });
  t.same(mine.items.map((e) => e.reason).sort(), ['BackOff', 'Pulled'], "a field selector on the name finds only that pod's Events, not web-2's");
  t.same((await client.list<Event & KubeObject>('Event', { fieldSelector: 'involvedObject.name=web-2,type=Normal' })).items.map((e) => e.involvedObject?.name), ['web-2'], 'and the other way round');
  t.equal((await client.list('Event', { fieldSelector: 'type!=Normal' })).items.length, 1, 'a negated selector');
  t.equal((await client.list('Event', { fieldSelector: 'count=25' })).items.length, 1, 'a number field');
  const one = mine.items.find((e) => e.reason === 'BackOff')!;
  const got = await client.get<Event & KubeObject>('Event', one.metadata!.name!, 'default');
  t.equal(got.metadata?.resourceVersion, one.metadata?.resourceVersion, 'get answers with the resourceVersion');
  t.equal(got.count, 25, 'and the stored fields');
});

t.test('recorders sharing a client: their Event creates of a turn go in a few createMany requests, every Event stored', async (t) => {
  const nats = await startTestNats();
  const nc = await nats.connect();
  const server = new ApiServer({ nc, logger: silentLogger(), serviceCidr: '127.100.16.0/24' });
  await server.start();
  const client = new ApiClient(nc);
  t.teardown(async () => {
    await server.stop();
    await nats.stop();
  });
  const requests: Record<string, number> = { create: 0, createMany: 0 };
  const subs = (['create', 'createMany'] as const).map((verb) => nc.subscribe(subjects.api(verb, 'events'), { callback: () => void requests[verb]++ }));
  await nc.flush();
  // 50 kubelets of one simulated-nodes host (one client), each starting a pod: four Events each.
  const recorders = Array.from({ length: 50 }, (_, i) => new EventRecorder(client, { component: 'kubelet', host: `node-${i}` }, silentLogger()));
  recorders.forEach((rec, i) => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: `p-${i}`, namespace: 'default', uid: `u-${i}` } } as KubeObject;
    rec.record(pod, 'Normal', 'Scheduled', `Successfully assigned default/p-${i} to node-${i}`);
    rec.record(pod, 'Normal', 'Pulled', 'Container image "busybox" already present on machine');
    rec.record(pod, 'Normal', 'Created', 'Created container main');
    rec.record(pod, 'Normal', 'Started', 'Started container main');
  });
  await Promise.all(recorders.map((r) => r.flush()));
  await nc.flush();
  for (const s of subs) s.unsubscribe();
  const list = (await client.list<Event & KubeObject>('Event', { namespace: 'default' })).items;
  t.equal(list.length, 200, 'every Event is stored');
  t.same(
    list.filter((e) => e.involvedObject?.name === 'p-7').map((e) => [e.reason, e.source?.host, e.count]).sort(),
    [['Created', 'node-7', 1], ['Pulled', 'node-7', 1], ['Scheduled', 'node-7', 1], ['Started', 'node-7', 1]],
    'as each recorder recorded them',
  );
  t.equal(requests.create, 0, 'no Event created on its own');
  t.ok(requests.createMany >= 4 && requests.createMany <= 8, `200 Events in ${requests.createMany} requests (at most 64 each)`);
});
