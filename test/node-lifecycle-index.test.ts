/**
 * node-lifecycle's index of pods by node (nodes/controllers/node-lifecycle-host.ts), which an
 * eviction pass reads instead of scanning every pod: after creates, binds, deletes and a pod
 * recreated under the same name on another node, it equals a full scan of the pod informer.
 * Real nats-server and API server; the informers read the API server's cache in-process, so a
 * write has reached them when the API call returns.
 */
import t from 'tap';
import { Informer } from '../nodes/controllers/informer.js';
import { NodeLifecycleHost } from '../nodes/controllers/node-lifecycle-host.js';
import { localSources } from '../nodes/controlplane/local-sources.js';
import { EventRecorder } from '../nodes/shared/events.js';
import { silentLogger } from '../nodes/shared/logger.js';
import type { KubeObject, Pod } from '../protocol/objects.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';
import { until } from './helpers/wait.js';

let api: TestApiServer;
t.before(async () => {
  api = await startTestApiServer();
});
t.teardown(() => api.stop());

const pod = (name: string, nodeName?: string): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: 'main', image: 'busybox' }] } }) as KubeObject;

t.test('the pods-by-node index equals a full scan through creates, binds, deletes and a recreate', async (t) => {
  const sources = localSources(api.server);
  const inf = (kind: 'Pod' | 'Node' | 'Lease') => new Informer<KubeObject>(api.client, kind, { resyncMs: 60_000, source: sources(kind) });
  const pods = inf('Pod');
  const nodes = inf('Node');
  const leases = inf('Lease');
  for (const name of ['node-1', 'node-2', 'node-3']) await api.client.create({ apiVersion: 'v1', kind: 'Node', metadata: { name } } as KubeObject);
  // Pods that exist before the host starts are indexed too.
  await api.client.create(pod('early', 'node-1'));
  await Promise.all([pods.start(), nodes.start(), leases.start()]);
  const events = new EventRecorder(api.client, { component: 'node-controller' }, silentLogger());
  const host = new NodeLifecycleHost({ client: api.client, nodes, leases, pods, events, logger: silentLogger(), gracePeriodMs: 40_000, evictionTolerationMs: 300_000 });
  host.start();
  t.teardown(() => {
    host.stop();
    for (const i of [pods, nodes, leases]) i.stop();
  });
  const names = (list: KubeObject[]) => list.map((p) => p.metadata!.name!).sort();
  const scan = (node: string) => names(pods.list((p) => (p as Pod).spec?.nodeName === node));
  const same = (what: string) => {
    for (const node of ['node-1', 'node-2', 'node-3']) t.same(names(host.podsOn(node)), scan(node), `${what}: ${node}`);
  };

  same('a pod created before the host started');
  t.same(names(host.podsOn('node-1')), ['early'], 'it is on node-1');
  for (let i = 0; i < 6; i++) await api.client.create(pod(`p${i}`, `node-${(i % 3) + 1}`));
  await api.client.create(pod('pending'));
  same('after creates');
  t.equal(host.podsOn('node-2').length, 2, 'node-2 has p1 and p4');
  const [bindError] = await api.client.bindMany([{ namespace: 'default', name: 'pending', nodeName: 'node-3' }]);
  t.equal(bindError ? String(bindError.reason) + ': ' + bindError.message : 'ok', 'ok', 'the bind succeeded');
  same('after a bind');
  t.ok(names(host.podsOn('node-3')).includes('pending'), 'the bound pod is on node-3');
  await api.client.delete('Pod', 'p0', { namespace: 'default', gracePeriodSeconds: 0 });
  same('after a delete');
  await api.client.delete('Pod', 'p1', { namespace: 'default', gracePeriodSeconds: 0 });
  await api.client.create(pod('p1', 'node-3'));
  same('after p1 was recreated on another node');
  t.notOk(names(host.podsOn('node-2')).includes('p1'), 'p1 left node-2');
  t.ok(names(host.podsOn('node-3')).includes('p1'), 'p1 is on node-3');
  t.same(host.podsOn('node-9'), [], 'a node without pods has none');
});

t.test('a healthy node renewing often: its actor hears a renewal only near its deadline, and health is timed as before', async (t) => {
  const sources = localSources(api.server);
  const inf = (kind: 'Pod' | 'Node' | 'Lease') => new Informer<KubeObject>(api.client, kind, { resyncMs: 60_000, source: sources(kind) });
  const pods = inf('Pod');
  const nodes = inf('Node');
  const leases = inf('Lease');
  await api.client.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'renewing' } } as KubeObject);
  await Promise.all([pods.start(), nodes.start(), leases.start()]);
  const events = new EventRecorder(api.client, { component: 'node-controller' }, silentLogger());
  // Grace 2 s, ticks of 100 ms: a renewal is handed over once 1.5 s have passed since the last one.
  const host = new NodeLifecycleHost({ client: api.client, nodes, leases, pods, events, logger: silentLogger(), gracePeriodMs: 2000, evictionTolerationMs: 300_000, tickMs: 100 });
  host.start();
  t.teardown(() => {
    host.stop();
    for (const i of [pods, nodes, leases]) i.stop();
  });
  const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'renewing', namespace: 'kube-node-lease' }, spec: { holderIdentity: 'renewing', leaseDurationSeconds: 1, renewTime: new Date().toISOString() } } as KubeObject;
  let current = await api.client.create(lease);
  const renewals = 40; // every 100 ms for 4 s: twice the grace period
  for (let i = 0; i < renewals; i++) {
    await new Promise((r) => setTimeout(r, 100)); // the kubelet's renewal interval, not a synchronisation
    current = await api.client.update({ ...current, spec: { ...current.spec, renewTime: new Date().toISOString() } } as KubeObject);
    t.equal(host.states().renewing, 'Healthy', `healthy after renewal ${i + 1}`);
  }
  t.ok(host.renewalsForwarded <= 6, `${renewals} renewals, ${host.renewalsForwarded} handed to the actor`);
  // The renewals stop: unreachable about grace after the last one was observed (not grace after it was handed over).
  const stoppedAt = Date.now();
  await until('the node to be unreachable', () => host.states().renewing === 'Unreachable', 5000);
  const after = Date.now() - stoppedAt;
  t.ok(after >= 1900 && after < 3000, `unreachable ${after} ms after the last renewal (grace 2000 ms; the exact timing is the machine test's)`);
});
