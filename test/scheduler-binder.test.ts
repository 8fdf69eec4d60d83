/**
 * The scheduler's binder path on a real nats-server and API server: the BindBatcher sends the
 * binds handed over in one turn as one bindMany request and delivers each reply as one list of
 * results (each bind's own success or error, in order); a request that fails (no API server)
 * is delivered as every bind failed. Then the SchedulerHost over it: pods bound, one Scheduled
 * Event each, nothing left in flight; and the host reading the API server's cache in-process.
 */
import t from 'tap';
import type { BindPodInput, BindResult } from '../actors/scheduler/index.js';
import { BindBatcher } from '../nodes/scheduler/bind-batcher.js';
import { SchedulerHost } from '../nodes/scheduler/host.js';
import { localSources } from '../nodes/controlplane/local-sources.js';
import { silentLogger } from '../nodes/shared/logger.js';
import { ApiError, Reason } from '../protocol/errors.js';
import type { KubeObject } from '../protocol/objects.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';

let api: TestApiServer;
t.before(async () => {
  api = await startTestApiServer();
  await api.client.create({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' } },
    status: { allocatable: { cpu: '8', memory: '16Gi', pods: '110' }, capacity: { cpu: '8', memory: '16Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
  } as KubeObject);
});
t.teardown(() => api?.stop());

async function createPod(name: string): Promise<KubeObject> {
  return api.client.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } as KubeObject);
}

/** A batcher whose deliveries are recorded; `next()` resolves with the next one. */
function recordingBatcher(maxBatch?: number) {
  const deliveries: BindResult[][] = [];
  const waiters: (() => void)[] = [];
  const batcher = new BindBatcher(
    api.client,
    (results) => {
      deliveries.push(results);
      waiters.shift()?.();
    },
    maxBatch,
  );
  const delivered = (n: number) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${deliveries.length} of ${n} deliveries after 20 s`)), 20_000);
      const check = () => (deliveries.length >= n ? (clearTimeout(timer), resolve()) : waiters.push(check));
      check();
    });
  return { batcher, deliveries, delivered };
}

const reasonOf = (r: BindResult) => (r.error instanceof ApiError ? r.error.reason : r.error === undefined ? 'ok' : 'not an ApiError');

t.test('binds handed over in one turn: one request, one delivery with each result in order', async (t) => {
  const a = await createPod('mixed-a');
  await createPod('mixed-b');
  const { batcher, deliveries, delivered } = recordingBatcher();
  const binds: BindPodInput[] = [
    { namespace: 'default', name: 'mixed-a', uid: a.metadata!.uid, nodeName: 'n1' },
    { namespace: 'default', name: 'mixed-gone', uid: 'uid-x', nodeName: 'n1' },
    { namespace: 'default', name: 'mixed-b', uid: 'uid-of-an-older-pod', nodeName: 'n1' },
  ];
  batcher.add(binds.slice(0, 2));
  batcher.add(binds.slice(2)); // same turn: same request
  await delivered(1);
  t.equal(deliveries.length, 1, 'one delivery for the three binds');
  t.same(deliveries[0].map(reasonOf), ['ok', Reason.NotFound, Reason.Conflict]);
  t.same(
    deliveries[0].map(({ namespace, name, uid, nodeName }) => ({ namespace, name, uid, nodeName })),
    binds,
    'each result names its bind',
  );
  t.equal((await api.client.get('Pod', 'mixed-a', 'default'))?.spec?.nodeName, 'n1');
  t.equal((await api.client.get('Pod', 'mixed-b', 'default'))?.spec?.nodeName, undefined, 'the uid precondition held');
});

t.test('more binds than maxBatch go out as several requests, one delivery each', async (t) => {
  const pods = await Promise.all(['split-0', 'split-1', 'split-2'].map(createPod));
  const { batcher, deliveries, delivered } = recordingBatcher(2);
  batcher.add(pods.map((p) => ({ namespace: 'default', name: p.metadata!.name!, uid: p.metadata!.uid, nodeName: 'n1' })));
  await delivered(2);
  t.same(deliveries.map((d) => d.map((r) => r.name)).sort((x, y) => y.length - x.length), [['split-0', 'split-1'], ['split-2']]);
  t.ok(deliveries.flat().every((r) => r.error === undefined));
});

t.test('a failed request is delivered as every bind failed', async (t) => {
  await api.server.stop();
  t.teardown(() => api.restart());
  const { batcher, deliveries, delivered } = recordingBatcher();
  batcher.add([
    { namespace: 'default', name: 'down-a', uid: 'u1', nodeName: 'n1' },
    { namespace: 'default', name: 'down-b', uid: 'u2', nodeName: 'n1' },
  ]);
  await delivered(1);
  t.same(deliveries[0].map((r) => [r.name, reasonOf(r)]), [
    ['down-a', Reason.ServiceUnavailable],
    ['down-b', Reason.ServiceUnavailable],
  ]);
});

t.test('the scheduler host binds through the binder: every pod bound, one Scheduled Event each', async (t) => {
  const host = new SchedulerHost({ client: api.client, logger: silentLogger() });
  await host.start();
  const names = Array.from({ length: 30 }, (_, i) => `host-${i}`);
  await Promise.all(names.map(createPod));
  const deadline = Date.now() + 30_000;
  let bound = 0;
  while (Date.now() < deadline) {
    const list = await api.client.list('Pod', { namespace: 'default' });
    bound = list.items.filter((p) => names.includes(p.metadata!.name!) && p.spec?.nodeName === 'n1').length;
    if (bound === names.length && host.pendingPods().binding === 0) break;
    await new Promise((r) => setTimeout(r, 50)); // polling the API for the condition, with a deadline
  }
  t.equal(bound, names.length, 'all bound to n1');
  t.same(host.pendingPods(), { active: 0, unschedulable: 0, binding: 0 });
  await host.stop(); // flushes the Events
  const events = (await api.client.list('Event', { namespace: 'default' })).items.filter((e: any) => e.reason === 'Scheduled' && names.includes(e.involvedObject?.name));
  t.equal(events.length, names.length, 'one Scheduled Event per pod');
  t.ok(events.every((e: any) => e.message === `Successfully assigned default/${e.involvedObject.name} to n1`));
});

t.test("the scheduler host on the API server's own cache (the control plane's default): pods listed at start and created later bound, a node added later used", async (t) => {
  const before = Array.from({ length: 10 }, (_, i) => `local-before-${i}`);
  await Promise.all(before.map(createPod));
  const host = new SchedulerHost({ client: api.client, logger: silentLogger(), sources: localSources(api.server) });
  await host.start();
  const after = Array.from({ length: 20 }, (_, i) => `local-after-${i}`);
  await Promise.all(after.map(createPod));
  await api.client.create({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'n2', labels: { 'kubernetes.io/hostname': 'n2', disk: 'ssd' } },
    status: { allocatable: { cpu: '8', memory: '16Gi', pods: '110' }, capacity: { cpu: '8', memory: '16Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
  } as KubeObject);
  await api.client.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'local-ssd', namespace: 'default' }, spec: { nodeSelector: { disk: 'ssd' }, containers: [{ name: 'c', image: 'busybox' }] } } as KubeObject);
  const names = [...before, ...after, 'local-ssd'];
  const deadline = Date.now() + 30_000;
  let placed = new Map<string, string | undefined>();
  while (Date.now() < deadline) {
    const list = await api.client.list('Pod', { namespace: 'default' });
    placed = new Map(list.items.filter((p) => names.includes(p.metadata!.name!)).map((p) => [p.metadata!.name!, p.spec?.nodeName]));
    if ([...placed.values()].filter(Boolean).length === names.length && host.pendingPods().binding === 0) break;
    await new Promise((r) => setTimeout(r, 50)); // polling the API for the condition, with a deadline
  }
  t.equal([...placed.values()].filter(Boolean).length, names.length, 'every pod bound');
  t.equal(placed.get('local-ssd'), 'n2', 'the pod selecting the later node is on it');
  t.same(host.pendingPods(), { active: 0, unschedulable: 0, binding: 0 });
  await host.stop();
});
