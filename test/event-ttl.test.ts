/**
 * Event expiry (kube-apiserver's --event-ttl, nodes/apiserver/event-ttl.ts): the pure parts
 * (expiry heap, durations, an Event's last occurrence), then a real API server on a real
 * nats-server with a 2 s TTL: an Event shown by `kubeact get events` disappears from it once
 * its last occurrence is older than the TTL, and never before; a repeat keeps it longer.
 */
import t from 'tap';
import type { NatsConnection } from 'nats';
import { ApiServer } from '../nodes/apiserver/server.js';
import { ExpiryHeap } from '../nodes/apiserver/expiry-heap.js';
import { lastOccurrence } from '../nodes/apiserver/event-ttl.js';
import { run } from '../nodes/cli/main.js';
import { parseDuration } from '../nodes/shared/duration.js';
import { EventRecorder } from '../nodes/shared/events.js';
import { silentLogger } from '../nodes/shared/logger.js';
import { ApiClient, type Watch } from '../protocol/client.js';
import type { KubeObject } from '../protocol/objects.js';
import { startTestNats, type TestNats } from './helpers/nats.js';

t.test('the expiry heap pops in time order, only what is due', async (t) => {
  const heap = new ExpiryHeap();
  const ats = [50, 10, 40, 10, 30, 20, 60, 5];
  ats.forEach((at, i) => heap.push({ at, key: `k${i}`, revision: i }));
  t.equal(heap.popDue(4), undefined, 'nothing due before the earliest');
  const popped: number[] = [];
  for (let e = heap.popDue(40); e; e = heap.popDue(40)) popped.push(e.at);
  t.same(popped, [5, 10, 10, 20, 30, 40], 'due entries, earliest first');
  t.equal(heap.size, 2, 'the later ones stay');
});

t.test('durations as kube-apiserver flags take them', async (t) => {
  t.equal(parseDuration('1h', '--event-ttl'), 3_600_000);
  t.equal(parseDuration('1h30m', '--event-ttl'), 5_400_000);
  t.equal(parseDuration('90s', '--event-ttl'), 90_000);
  t.equal(parseDuration('500ms', '--event-ttl'), 500);
  t.equal(parseDuration('2', '--event-ttl'), 2000, 'a bare number is seconds');
  t.throws(() => parseDuration('soon', '--event-ttl'), /--event-ttl: invalid duration "soon"/);
  t.throws(() => parseDuration('1d', '--event-ttl'), /invalid duration/);
  let err = '';
  const code = await run(['up', '--event-ttl', 'soon'], { out: () => {}, err: (s) => (err += s) });
  t.equal(code, 1, 'kubeact up refuses a bad --event-ttl before starting anything');
  t.match(err, /^error: --event-ttl: invalid duration "soon"/, 'saying why');
});

t.test("an Event's last occurrence is its latest time field", async (t) => {
  const ev = { metadata: { creationTimestamp: '2026-01-01T00:00:00Z' }, firstTimestamp: '2026-01-01T00:00:00Z', lastTimestamp: '2026-01-01T00:05:00Z', eventTime: '2026-01-01T00:00:00.123456Z' } as unknown as KubeObject;
  t.equal(lastOccurrence(ev), Date.parse('2026-01-01T00:05:00Z'));
  t.equal(lastOccurrence({ metadata: {}, series: { lastObservedTime: '2026-01-02T00:00:00.000000Z' } } as unknown as KubeObject), Date.parse('2026-01-02T00:00:00Z'), 'series.lastObservedTime counts');
  t.equal(lastOccurrence({ metadata: {}, lastTimestamp: 'garbage' } as unknown as KubeObject), 0, 'no readable time: expires at the next sweep');
});

t.test('a real API server with --event-ttl 2s', async (t) => {
  const TTL = 2000;
  const nats: TestNats = await startTestNats();
  const nc: NatsConnection = await nats.connect();
  const server = new ApiServer({ nc, logger: silentLogger(), serviceCidr: '127.100.14.0/24', eventTtlMs: TTL });
  await server.start();
  const client = new ApiClient(nc);
  const deleted = new Map<string, number>();
  const versions = new Map<string, KubeObject>();
  const watch: Watch = await client.watch('Event', { namespace: 'default' }, (ev) => {
    const name = ev.object.metadata!.name!;
    if (ev.type === 'DELETED') deleted.set(name, Date.now());
    else versions.set(name, ev.object);
  });
  t.teardown(async () => {
    watch.stop();
    await server.stop();
    await nats.stop();
  });

  const getEvents = async () => {
    let out = '';
    let err = '';
    const code = await run(['get', 'events', '--server', nats.url], { out: (s) => (out += s + '\n'), err: (s) => (err += s + '\n') });
    return { code, out, err };
  };
  const until = async (what: string, check: () => boolean | Promise<boolean>, ms = 20_000) => {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const pod = await client.create<KubeObject>({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'ttl-pod', namespace: 'default' }, spec: { containers: [{ name: 'main', image: 'busybox' }] } } as KubeObject);
  const recorder = new EventRecorder(client, { component: 'default-scheduler' });
  recorder.record(pod, 'Normal', 'Scheduled', 'Successfully assigned default/ttl-pod to node-1');
  recorder.record(pod, 'Warning', 'BackOff', 'Back-off restarting failed container main in pod ttl-pod_default');
  await recorder.flush();

  const shown = await getEvents();
  t.equal(shown.code, 0, 'get events answers');
  t.match(shown.out, /Normal\s+Scheduled\s+pod\/ttl-pod\s+Successfully assigned default\/ttl-pod to node-1/, 'the Event is listed');
  t.match(shown.out, /Warning\s+BackOff\s+pod\/ttl-pod/, 'and the Warning');

  // The Warning happens again before it expires: it is bumped (count 2) and lives a TTL from then.
  const backOff = [...versions.values()].find((e) => (e as any).reason === 'BackOff')!;
  await until('half the TTL', () => Date.now() >= lastOccurrence(backOff) + TTL / 2);
  recorder.record(pod, 'Warning', 'BackOff', 'Back-off restarting failed container main in pod ttl-pod_default');
  await recorder.flush();

  await until('every Event to expire', async () => deleted.size === 2);
  const after = await getEvents();
  t.equal(after.out, '', 'get events lists nothing once they expired');
  t.match(after.err, /No resources found in default namespace/, 'in kubectl words');

  for (const [name, at] of deleted) {
    const last = versions.get(name)!;
    t.ok(at >= lastOccurrence(last) + TTL, `${(last as any).reason} (count ${(last as any).count}) deleted ${at - lastOccurrence(last)} ms after its last occurrence, not before the TTL`);
  }
  const bumped = versions.get(backOff.metadata!.name!)!;
  t.equal((bumped as any).count, 2, 'the repeat bumped the count of the same Event');
  t.equal(server.eventTtl.expired, 2, 'the sweeper counted both');
  t.equal((await client.get<KubeObject>('Pod', 'ttl-pod', 'default')).metadata?.name, 'ttl-pod', 'the pod itself is untouched');
});
