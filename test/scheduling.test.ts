/**
 * The scheduler end to end, on a real cluster of 2 workers with 1 CPU each: spreading by
 * requests, Unschedulable pods (PodScheduled=False, FailedScheduling Events) placed once a
 * node that fits joins or capacity is freed, nodeSelector, and pods created with a nodeName.
 */
import t from 'tap';
import path from 'node:path';
import { saveContext } from '../nodes/launcher/context.js';
import { launch, WORKER_MAIN } from '../nodes/launcher/up.js';
import { formatCidr, hostAddress, parseCidr, subnet } from '../nodes/shared/cidr.js';
import type { Container, KubeObject } from '../protocol/objects.js';
import { startCluster, waitForObject, type TestCluster } from './helpers/cluster.js';

const NS = 'default';
let cluster: TestCluster;

t.before(async () => {
  // Node lifecycle is not under test here: a kubelet stalled by a loaded machine must not get
  // its node tainted unreachable (the scheduler would then filter it out).
  cluster = await startCluster({ nodes: 2, nodeCpu: '1', controlPlaneArgs: ['--node-monitor-grace-ms', '30000'] });
});

t.teardown(async () => {
  await cluster?.stop(); // also stops the worker started by a test: it is in the saved context
});

// ---------------------------------------------------------------------------------------
// helpers

type Pod = KubeObject;

function podObject(name: string, opts: { cpu?: string; spec?: Record<string, unknown>; labels?: Record<string, string> } = {}): Pod {
  const container: Container = { name: 'main', image: 'busybox:1.36', command: ['sleep', '300'] };
  if (opts.cpu) container.resources = { requests: { cpu: opts.cpu } };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, ...(opts.labels ? { labels: opts.labels } : {}) },
    spec: { containers: [container], terminationGracePeriodSeconds: 1, ...opts.spec },
  };
}

function waitPod(name: string, predicate: (pod: Pod | undefined) => boolean, timeoutMs = 15_000): Promise<Pod | undefined> {
  return waitForObject<Pod>(cluster.client, 'Pod', name, NS, predicate, timeoutMs);
}

const isRunning = (pod: Pod | undefined) => pod?.status?.phase === 'Running' && pod.status.containerStatuses?.[0]?.state?.running !== undefined;
const scheduledCondition = (pod: Pod | undefined) => pod?.status?.conditions?.find((c: { type: string }) => c.type === 'PodScheduled');
const isUnschedulable = (pod: Pod | undefined) => scheduledCondition(pod)?.status === 'False' && scheduledCondition(pod)?.reason === 'Unschedulable';

async function createAndWait(pod: Pod, until: (pod: Pod | undefined) => boolean = isRunning): Promise<Pod> {
  await cluster.client.create(pod);
  return (await waitPod(pod.metadata!.name!, until))!;
}

/** The pod's Events, as stored. */
async function podEvents(pod: Pod): Promise<any[]> {
  const list = await cluster.client.list('Event', { namespace: NS, fieldSelector: `involvedObject.name=${pod.metadata!.name}` });
  return list.items.filter((e: any) => e.involvedObject?.uid === pod.metadata!.uid);
}

/** Waits until the pod has an Event matching `predicate` (watch-based, with a deadline). */
async function waitForEvent(pod: Pod, predicate: (e: any) => boolean, timeoutMs = 10_000): Promise<any> {
  let settle!: (e: any) => void;
  const found = new Promise<any>((r) => (settle = r));
  const watch = await cluster.client.watch('Event', { namespace: NS, fieldSelector: `involvedObject.name=${pod.metadata!.name}` }, (ev) => {
    const e = ev.object as any;
    if (ev.type !== 'DELETED' && e.involvedObject?.uid === pod.metadata!.uid && predicate(e)) settle(e);
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      found,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no matching Event for pod ${pod.metadata!.name} within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    watch.stop();
  }
}

async function deletePod(name: string): Promise<void> {
  await cluster.client.delete('Pod', name, { namespace: NS });
  await waitPod(name, (p) => p === undefined);
}

// ---------------------------------------------------------------------------------------
// tests (in order: each one starts from the cluster the previous one left)

const spread = ['spread-1', 'spread-2', 'spread-3', 'spread-4'];

t.test('4 pods of 400m on 2 nodes of 1 CPU: 2 per node, all Running', async (t) => {
  const pods = await Promise.all(spread.map((name) => createAndWait(podObject(name, { cpu: '400m', labels: { app: 'spread' } }))));
  const perNode: Record<string, number> = {};
  for (const p of pods) perNode[p.spec.nodeName] = (perNode[p.spec.nodeName] ?? 0) + 1;
  t.same(perNode, { 'node-1': 2, 'node-2': 2 });
  for (const p of pods) {
    t.match(scheduledCondition(p), { status: 'True' }, `${p.metadata!.name}: PodScheduled True`);
    t.match(
      await waitForEvent(p, (e) => e.reason === 'Scheduled'),
      { type: 'Normal', message: `Successfully assigned default/${p.metadata!.name} to ${p.spec.nodeName}`, source: { component: 'default-scheduler' } },
    );
  }
  const res = await cluster.kubeact(['get', 'pods', '-l', 'app=spread', '-o', 'wide']);
  t.equal(res.code, 0, res.stderr);
  t.equal(res.stdout.split('\n').filter((l) => /\sRunning\s/.test(l)).length, 4, '`kubeact get pods -o wide` lists 4 Running pods');
});

t.test('deleting a pod frees capacity: a Pending pod is placed on the freed node', async (t) => {
  const waiter = await createAndWait(podObject('waiter', { cpu: '400m' }), isUnschedulable);
  t.equal(waiter.status.phase, 'Pending');
  t.notOk(waiter.spec.nodeName, 'not bound');
  t.equal(scheduledCondition(waiter).message, '0/2 nodes are available: 2 Insufficient cpu.');

  const victim = await cluster.client.get('Pod', 'spread-1', NS);
  await deletePod('spread-1');
  const placed = await waitPod('waiter', isRunning);
  t.equal(placed!.spec.nodeName, victim.spec.nodeName, 'placed where the deleted pod freed 400m');
  t.match(scheduledCondition(placed), { status: 'True' });
  t.match(await waitForEvent(placed!, (e) => e.reason === 'FailedScheduling'), { type: 'Warning', message: '0/2 nodes are available: 2 Insufficient cpu.' });
  t.match(await waitForEvent(placed!, (e) => e.reason === 'Scheduled'), { type: 'Normal', message: `Successfully assigned default/waiter to ${victim.spec.nodeName}` });
});

t.test('unschedulable pods (2 CPU; nodeSelector disktype=ssd) run once a fitting node joins', async (t) => {
  const big = await createAndWait(podObject('big', { cpu: '2' }), isUnschedulable);
  t.equal(big.status.phase, 'Pending');
  t.notOk(big.spec.nodeName);
  t.match(scheduledCondition(big), { status: 'False', reason: 'Unschedulable', message: '0/2 nodes are available: 2 Insufficient cpu.' });

  const ssd = await createAndWait(podObject('wants-ssd', { spec: { nodeSelector: { disktype: 'ssd' } } }), isUnschedulable);
  t.equal(ssd.status.phase, 'Pending');
  t.match(scheduledCondition(ssd).message, /^0\/2 nodes are available: 2 node\(s\) didn't match Pod's node affinity\/selector\.$/);

  const failed = await waitForEvent(big, (e) => e.reason === 'FailedScheduling');
  t.match(failed, { type: 'Warning', message: '0/2 nodes are available: 2 Insufficient cpu.', source: { component: 'default-scheduler' } });
  const [describe, get] = await Promise.all([cluster.kubeact(['describe', 'pod', 'big']), cluster.kubeact(['get', 'pods', 'big', 'wants-ssd'])]);
  t.equal(describe.code, 0, describe.stderr);
  t.match(describe.stdout, /^Status:\s+Pending$/m);
  t.match(describe.stdout, /^\s+Warning\s+FailedScheduling\s+.*default-scheduler\s+0\/2 nodes are available: 2 Insufficient cpu\.$/m, 'describe shows the FailedScheduling Event');
  t.match(get.stdout, /^big\s+0\/1\s+Pending\s+0\s/m);
  t.match(get.stdout, /^wants-ssd\s+0\/1\s+Pending\s+0\s/m);

  // A third worker, addressed like `kubeact up` addresses its nodes: host #5 of the node
  // network, the 5th /24 of the pod network.
  const ctx = cluster.ctx;
  const name = 'node-3';
  const dataDir = path.join(ctx.clusterDir, 'nodes', name);
  const args = [
    '--nats', ctx.natsUrl,
    '--name', name,
    '--node-ip', hostAddress(parseCidr(ctx.nodeNetwork), 4),
    '--pod-cidr', formatCidr(subnet(parseCidr(ctx.podNetwork), 24, 4)),
    '--data-dir', dataDir,
    '--cpu', '4',
    '--labels', 'disktype=ssd',
  ];
  const logDir = path.dirname(ctx.processes.find((p) => p.role === 'worker')!.log);
  ctx.processes.push({ ...launch('worker', name, WORKER_MAIN, args, logDir), dataDir });
  saveContext(ctx); // so that `down` (teardown) stops it like the others

  // Nothing else is done: the scheduler notices the node and places both pods.
  const launchedAt = Date.now();
  const [bigRunning, ssdRunning] = await Promise.all([waitPod('big', isRunning, 20_000), waitPod('wants-ssd', isRunning, 20_000)]);
  t.comment(`both pods Running ${Date.now() - launchedAt} ms after the worker was started`);
  t.equal(bigRunning!.spec.nodeName, name);
  t.equal(ssdRunning!.spec.nodeName, name);
  t.match(scheduledCondition(bigRunning), { status: 'True' });
  const node = await cluster.client.get('Node', name);
  t.equal(node.metadata!.labels!.disktype, 'ssd');
  t.equal(node.status.capacity.cpu, '4');
  t.equal(bigRunning!.status.hostIP, hostAddress(parseCidr(ctx.nodeNetwork), 4));
});

t.test('a pod created with spec.nodeName is not touched by the scheduler and runs on that node', async (t) => {
  const pod = await createAndWait(podObject('pinned', { spec: { nodeName: 'node-2' } }));
  t.equal(pod.spec.nodeName, 'node-2');
  t.equal(pod.metadata!.uid, (await cluster.client.get('Pod', 'pinned', NS)).metadata!.uid);
  const started = await waitForEvent(pod, (e) => e.reason === 'Started');
  t.match(started, { source: { component: 'kubelet', host: 'node-2' } }, 'started by node-2\'s kubelet');
  const events = await podEvents(pod);
  t.notOk(events.some((e) => e.source?.component === 'default-scheduler'), 'no scheduler Event (Scheduled / FailedScheduling)');
});
