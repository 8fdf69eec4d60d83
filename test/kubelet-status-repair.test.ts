/**
 * The kubelet writes a pod's status again when someone else changed it: the node-lifecycle
 * controller marks the pods of a node that renewed its Lease late not Ready (MarkPodsNotReady);
 * once the node posts again its kubelet must say Ready again, as kubelet's status manager does,
 * or a Deployment never becomes available (seen in the failover test at load 19). A real
 * nats-server and API server, a kubelet in this process on the simulated runtime; waits are on
 * watch events with deadlines.
 */
import t from 'tap';
import type { Kubelet } from '../nodes/worker/kubelet.js';
import type { KubeObject } from '../protocol/objects.js';
import { isOlderVersion, statusDiverged } from '../nodes/worker/pod-worker.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';
import { allocateBlock } from './helpers/blocks.js';
import { startSimulatedKubelet } from './helpers/sim-kubelet.js';

const block = allocateBlock();
let api: TestApiServer;
let kubelet: Kubelet;
t.before(async () => {
  api = await startTestApiServer({ serviceCidr: block.serviceNetwork });
  kubelet = await startSimulatedKubelet(api, block, 'repair-node');
});
t.teardown(async () => {
  await kubelet?.stop();
  await api?.stop();
  block.release();
});

const ready = (p: KubeObject | undefined) => p?.status?.conditions?.find((c: any) => c.type === 'Ready')?.status;

t.test('statusDiverged: phase or a condition of the kubelet changed by someone else', async (t) => {
  const mine = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }, { type: 'PodScheduled', status: 'True' }] };
  t.notOk(statusDiverged(structuredClone(mine), mine), 'its own write echoed');
  t.notOk(statusDiverged({ ...structuredClone(mine), conditions: [...mine.conditions, { type: 'DisruptionTarget', status: 'True' }] }, mine), 'a condition it does not own is not its business');
  t.ok(statusDiverged({ ...mine, conditions: [{ type: 'Ready', status: 'False' }, { type: 'PodScheduled', status: 'True' }] }, mine), 'Ready made False');
  t.ok(statusDiverged({ ...mine, phase: 'Pending' }, mine), 'another phase');
  t.ok(statusDiverged(undefined, mine), 'no status');
});

t.test('a pod marked not Ready by another writer is Ready again', async (t) => {
  await api.client.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'repaired', namespace: 'default' },
    spec: { nodeName: 'repair-node', containers: [{ name: 'main', image: 'busybox:1.36' }] },
  } as KubeObject);
  await api.client.waitFor('Pod', 'repaired', 'default', (p) => ready(p) === 'True', 20_000);

  // As the node-lifecycle controller's MarkPodsNotReady writes it.
  const marked = await api.client.modify<KubeObject>('Pod', 'repaired', 'default', (p) => {
    p.status.conditions = p.status.conditions.map((c: any) => (c.type === 'Ready' || c.type === 'ContainersReady' ? { ...c, status: 'False', reason: 'NodeNotReady' } : c));
    p.status.containerStatuses = p.status.containerStatuses.map((c: any) => ({ ...c, ready: false }));
  }, { status: true });
  t.equal(ready(marked), 'False', 'marked not Ready');

  const again = await api.client.waitFor('Pod', 'repaired', 'default', (p) => Number(p?.metadata?.resourceVersion) > Number(marked!.metadata!.resourceVersion) && ready(p) === 'True', 20_000);
  t.equal(ready(again), 'True', 'the kubelet wrote Ready again');
  t.ok(again!.status.containerStatuses.every((c: any) => c.ready), 'its containers ready too');
});

t.test('isOlderVersion: a pod version older than the held one is ignored, not taken for a change', async (t) => {
  const pod = (uid: string, rv: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid, resourceVersion: rv } }) as any;
  // The worker's own status write answered rv 12; the bind event (rv 11) was still queued on the host.
  t.ok(isOlderVersion(pod('a', '11'), pod('a', '12')), 'the late bind event is older');
  t.notOk(isOlderVersion(pod('a', '12'), pod('a', '12')), 'the same version (a relist) is handled');
  t.notOk(isOlderVersion(pod('a', '13'), pod('a', '12')), 'a newer version is handled');
  t.notOk(isOlderVersion(pod('b', '5'), pod('a', '12')), 'another uid (a namesake) is never called older');
  t.notOk(isOlderVersion(pod('a', 'x'), pod('a', '12')), 'an unreadable version is handled, not dropped');
});
