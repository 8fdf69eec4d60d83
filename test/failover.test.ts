/**
 * Failover end to end, on a real cluster of 3 workers with the default node-monitor settings
 * (3 s grace, 1 s eviction toleration): a worker SIGKILLed under a Deployment (its node goes
 * NotReady/unreachable, its pods are evicted and replaced elsewhere), the lost worker coming
 * back (the evicted pods still bound to it are removed, no duplicates ever), and the control
 * plane SIGKILLed in the middle of a rollout (restored actors finish it without exceeding
 * maxSurge, and the restart disturbs no node: nothing is tainted, nothing evicted). Real
 * processes, real signals; synchronised on watch events with deadlines.
 */
import t from 'tap';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { saveContext, type ProcessRecord } from '../nodes/launcher/context.js';
import { launch } from '../nodes/launcher/up.js';
import { ApiClient, type Watch } from '../protocol/client.js';
import type { Container, KubeObject } from '../protocol/objects.js';
import { startCluster, waitForObject, type TestCluster } from './helpers/cluster.js';
import { processesMarked, running } from './helpers/procs.js';

const NS = 'default';
const REPLICAS = 6;
const UNREACHABLE = 'node.kubernetes.io/unreachable';
const FAILOVER_DEADLINE_MS = 10_000;

let cluster: TestCluster;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeact-failover-test-'));

t.before(async () => {
  // `[]`: the control plane's defaults (node-monitor grace 3000 ms, eviction toleration 1000 ms).
  cluster = await startCluster({ nodes: 3, controlPlaneArgs: [] });
});

t.teardown(async () => {
  await cluster?.stop(); // stops the relaunched processes too: they are in the saved context
  fs.rmSync(work, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------
// helpers

type Pod = KubeObject;

function deploymentObject(name: string, container: Container, spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS },
    spec: {
      replicas: REPLICAS,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [container], terminationGracePeriodSeconds: 1 } },
      ...spec,
    },
  };
}

const isTerminating = (p: Pod) => Boolean(p.metadata?.deletionTimestamp);
const isFinished = (p: Pod) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
/** Counts toward the deployment's replicas (Kubernetes' "active" pods). */
const isActive = (p: Pod) => !isTerminating(p) && !isFinished(p);
const isRunning = (p: Pod) =>
  p.status?.phase === 'Running' && (p.status.containerStatuses ?? []).length > 0 && p.status.containerStatuses.every((s: any) => s.state?.running);
const isReady = (p: Pod) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');
const readyCondition = (n: KubeObject | undefined) => n?.status?.conditions?.find((c: any) => c.type === 'Ready');
const hasUnreachableTaint = (n: KubeObject | undefined) => (n?.spec?.taints ?? []).some((x: any) => x.key === UNREACHABLE);

/**
 * The objects of one kind labelled `app=<app>`, kept current by a watch. Every event samples
 * `measure` of the set (max kept in `max`); `until` waits for a condition on the set, with a
 * deadline.
 */
class WatchedSet {
  readonly objects = new Map<string, KubeObject>();
  readonly deleted = new Set<string>();
  max = 0;
  private watch?: Watch;
  private waiters = new Set<() => void>();

  constructor(
    private readonly client: ApiClient,
    readonly kind: 'Pod' | 'ReplicaSet',
    readonly app: string,
    private readonly measure: (objs: KubeObject[]) => number = (objs) => objs.filter(isActive).length,
  ) {}

  async start(): Promise<this> {
    this.watch = await this.client.watch(this.kind, { namespace: NS, labelSelector: `app=${this.app}` }, (ev) => {
      const name = ev.object.metadata!.name!;
      if (ev.type === 'DELETED') {
        this.objects.delete(name);
        this.deleted.add(name);
      } else this.objects.set(name, ev.object);
      this.max = Math.max(this.max, this.measure(this.all()));
      for (const w of this.waiters) w();
    });
    return this;
  }

  stop(): void {
    this.watch?.stop();
  }

  all(): Pod[] {
    return [...this.objects.values()];
  }

  /** Starts a new sampling window: `max` from now on. */
  resetMax(): void {
    this.max = this.measure(this.all());
  }

  until(what: string, predicate: (pods: Pod[]) => boolean, timeoutMs: number): Promise<Pod[]> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate(this.all())) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(this.all());
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        const seen = this.all().map((p) => `${p.metadata!.name}@${p.spec?.nodeName ?? '-'}:${p.status?.phase}${isTerminating(p) ? '(terminating)' : ''}`);
        reject(new Error(`${this.kind}s of ${this.app}: not within ${timeoutMs} ms: ${what}; pods: ${seen.join(', ')}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }
}

/**
 * Waits until `predicate` holds for the marked processes. Nothing notifies the test of other
 * processes' births and deaths, so this looks at /proc at a short interval, with a deadline.
 */
async function waitForProcesses(mark: string, predicate: (procs: { pid: number; pod: string }[]) => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const procs = processesMarked(mark);
    if (predicate(procs) || Date.now() > deadline) return procs;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** SIGKILL, then wait (with a deadline) until the process is gone. */
async function sigkill(pid: number): Promise<void> {
  process.kill(pid, 'SIGKILL');
  const deadline = Date.now() + 5000;
  while (running(pid)) {
    if (Date.now() > deadline) throw new Error(`process ${pid} still alive 5 s after SIGKILL`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Starts a killed process again with its recorded argv; the context follows, so `down` stops it. */
function relaunch(record: ProcessRecord): void {
  const again = launch(record.role, record.name, record.argv![1], record.argv!.slice(2), path.dirname(record.log));
  record.pid = again.pid;
  saveContext(cluster.ctx);
}

/**
 * Resolves once the API server answers again (a restarted control plane): a request with no
 * responder fails at once (503) and is retried after a short back-off; one that times out is
 * retried at once (a request sent just before the old process died gets no answer). Returns how
 * long it took.
 */
async function untilApiAnswers(timeoutMs = 20_000): Promise<number> {
  const t0 = Date.now();
  const client = new ApiClient(cluster.nc, { timeoutMs: 1000 });
  for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
    try {
      await client.get('Namespace', 'default');
      return Date.now() - t0;
    } catch (e) {
      const reason = (e as { reason?: string }).reason;
      if ((reason !== 'ServiceUnavailable' && reason !== 'Timeout') || Date.now() - t0 > timeoutMs) throw e;
      if (reason === 'ServiceUnavailable') await new Promise((r) => setTimeout(r, delay));
    }
  }
}

const perNode = (pods: Pod[]) => {
  const counts: Record<string, number> = {};
  for (const p of pods) counts[p.spec?.nodeName ?? '-'] = (counts[p.spec?.nodeName ?? '-'] ?? 0) + 1;
  return counts;
};

// ---------------------------------------------------------------------------------------
// tests (in order: the second one brings back the worker the first one killed)

const MARK = randomUUID();
let failover: WatchedSet;
let victim: ProcessRecord;
let evicted: string[] = [];

t.test('SIGKILL of a worker: NotReady + unreachable taint, pods evicted and replaced elsewhere', async (t) => {
  failover = await new WatchedSet(cluster.client, 'Pod', 'failover').start();
  await cluster.client.create(
    deploymentObject('failover', { name: 'main', image: 'busybox:1.36', command: ['sleep', '3600'], env: [{ name: 'KUBEACT_TEST_MARK', value: MARK }] }),
  );
  const steady = await failover.until(`${REPLICAS} Running pods`, (pods) => pods.filter((p) => isActive(p) && isRunning(p)).length === REPLICAS, 30_000);
  const counts = perNode(steady);
  t.comment(`pods per node: ${JSON.stringify(counts)}`);
  const node = Object.keys(counts).sort((a, b) => counts[b] - counts[a])[0];
  victim = cluster.ctx.processes.find((p) => p.name === node)!;
  t.ok(victim?.argv, `${node} runs ${counts[node]} of the pods and its process record keeps its argv`);
  const onVictim = steady.filter((p) => p.spec?.nodeName === node).map((p) => p.metadata!.name!);
  t.equal((await waitForProcesses(MARK, (ps) => ps.length === REPLICAS)).length, REPLICAS, `${REPLICAS} container processes before the kill`);

  const nodeDown = waitForObject(
    cluster.client,
    'Node',
    node,
    undefined,
    (n) => readyCondition(n)?.status === 'Unknown' && readyCondition(n)?.reason === 'NodeStatusUnknown' && hasUnreachableTaint(n),
    FAILOVER_DEADLINE_MS + 5000,
  ).then((n) => ({ n, at: Date.now() }));
  const replaced = failover
    .until(
      `the pods of ${node} marked for deletion and ${REPLICAS} Running pods on the other nodes`,
      (pods) =>
        onVictim.every((name) => !failover.objects.has(name) || isTerminating(failover.objects.get(name)!)) &&
        pods.filter((p) => isActive(p) && isRunning(p) && p.spec?.nodeName !== node).length === REPLICAS,
      FAILOVER_DEADLINE_MS + 5000,
    )
    .then((pods) => ({ pods, at: Date.now() }));
  const killedAt = Date.now();
  await sigkill(victim.pid);

  const [down, up] = await Promise.all([nodeDown, replaced]);
  const notReadyMs = down.at - killedAt;
  const replacedMs = up.at - killedAt;
  t.comment(`SIGKILL → node NotReady with the unreachable taint: ${notReadyMs} ms`);
  t.comment(`SIGKILL → all ${onVictim.length} replacements Running on the other nodes: ${replacedMs} ms`);
  t.ok(notReadyMs <= FAILOVER_DEADLINE_MS, `node NotReady within ${FAILOVER_DEADLINE_MS} ms (${notReadyMs} ms)`);
  t.ok(replacedMs <= FAILOVER_DEADLINE_MS, `replacements Running within ${FAILOVER_DEADLINE_MS} ms (${replacedMs} ms)`);
  t.match(readyCondition(down.n), { status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' });
  t.match(down.n!.spec.taints.find((x: any) => x.key === UNREACHABLE), { effect: 'NoExecute' });
  for (const name of onVictim) {
    const p = failover.objects.get(name);
    t.ok(p && isTerminating(p) && p.spec.nodeName === node, `${name}: marked for deletion, still bound to ${node}`);
  }
  evicted = onVictim;
  const others = up.pods.filter((p) => isActive(p) && isRunning(p));
  t.equal(others.length, REPLICAS);
  t.notOk(others.some((p) => p.spec.nodeName === node), `no active pod on ${node}`);

  // PR_SET_PDEATHSIG: the killed kubelet's containers died with it; 6 processes run.
  const procs = await waitForProcesses(MARK, (ps) => ps.length === REPLICAS && ps.every((x) => others.some((p) => p.metadata!.name === x.pod)));
  t.same(procs.map((x) => x.pod).sort(), others.map((p) => p.metadata!.name).sort(), 'exactly the Running pods have a container process');
});

t.test('the lost worker comes back: evicted pods removed, node Ready, never more than 6 replicas', async (t) => {
  t.ok(victim && evicted.length > 0, 'the previous test killed a worker running pods');
  const node = victim.name;
  failover.resetMax();
  const returnedAt = Date.now();
  relaunch(victim);

  await failover.until(`the evicted pods ${evicted.join(', ')} removed`, () => evicted.every((name) => failover.deleted.has(name) && !failover.objects.has(name)), 20_000);
  t.comment(`worker restarted → evicted pods removed: ${Date.now() - returnedAt} ms`);
  const back = await waitForObject(cluster.client, 'Node', node, undefined, (n) => readyCondition(n)?.status === 'True' && !hasUnreachableTaint(n), 20_000);
  t.comment(`worker restarted → node Ready without the taint: ${Date.now() - returnedAt} ms`);
  t.match(readyCondition(back), { status: 'True', reason: 'KubeletReady' });
  t.notOk(hasUnreachableTaint(back), 'the unreachable taint is gone');

  const final = await failover.until(`exactly ${REPLICAS} pods, all Running`, (pods) => pods.length === REPLICAS && pods.every((p) => isActive(p) && isRunning(p)), 15_000);
  t.ok(failover.max <= REPLICAS, `never more than ${REPLICAS} active pods after the worker returned (max ${failover.max})`);
  t.equal(final.length, REPLICAS, `${REPLICAS} pods`);
  const names = final.map((p) => p.metadata!.name!).sort();
  const procs = await waitForProcesses(MARK, (ps) => ps.length === REPLICAS && new Set(ps.map((x) => x.pod)).size === REPLICAS);
  t.equal(procs.length, REPLICAS, `${REPLICAS} container processes of the deployment run`);
  t.same(procs.map((x) => x.pod).sort(), names, 'one process per Running pod: no duplicates, nothing left of the evicted pods');
  const rs = (await cluster.client.list('ReplicaSet', { namespace: NS, labelSelector: 'app=failover' })).items;
  t.equal(rs.length, 1, 'one ReplicaSet');
  t.match(rs[0].status, { replicas: REPLICAS, readyReplicas: REPLICAS });
  failover.stop();
});

t.test('SIGKILL of the control plane mid-rollout: restored actors complete the rollout', async (t) => {
  const readyDir = path.join(work, 'ready');
  fs.mkdirSync(readyDir);
  // Ready ~1 s after start: the container creates its marker after `sleep 1`; the probe tests it.
  const container: Container = {
    name: 'main',
    image: 'busybox:1.36',
    command: ['sh', '-c', 'sleep 1; touch "$READY_DIR/$POD_NAME"; exec sleep 3600'],
    env: [{ name: 'READY_DIR', value: readyDir }],
    readinessProbe: { exec: { command: ['sh', '-c', 'test -f "$READY_DIR/$POD_NAME"'] }, periodSeconds: 1 },
  };
  const pods = await new WatchedSet(cluster.client, 'Pod', 'rollout').start();
  t.teardown(() => pods.stop());
  const specSum = (sets: KubeObject[]) => sets.reduce((n, rs) => n + (rs.spec?.replicas ?? 0), 0);
  const rsSet = await new WatchedSet(cluster.client, 'ReplicaSet', 'rollout', specSum).start();
  t.teardown(() => rsSet.stop());

  await cluster.client.create(deploymentObject('rollout', container, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } }));
  await waitForObject(cluster.client, 'Deployment', 'rollout', NS, (d) => d?.status?.availableReplicas === REPLICAS && d.status.updatedReplicas === REPLICAS, 30_000);
  t.equal(rsSet.all().length, 1, 'revision 1: one ReplicaSet');
  const [oldRS] = rsSet.all();

  pods.resetMax();
  rsSet.resetMax();
  const set = await cluster.kubeact(['set', 'image', 'deployment/rollout', 'main=busybox:1.37']);
  t.equal(set.code, 0, set.stderr);
  const newRSOf = () => rsSet.all().find((rs) => rs.metadata!.uid !== oldRS.metadata!.uid);
  // A third of the way through: the new ReplicaSet has 2 replicas.
  await rsSet.until('a new ReplicaSet with 2 replicas', () => (newRSOf()?.spec?.replicas ?? 0) >= 2, 30_000);
  const midway = newRSOf();
  t.ok(midway && midway.spec.replicas >= 2 && midway.spec.replicas <= 3, `new ReplicaSet at ${midway?.spec?.replicas} replicas when the control plane is killed`);

  // The restart must not disturb the nodes: every kubelet kept running, so no node may be
  // marked NotReady or tainted, and no pod of the other deployment may be evicted.
  const disturbed: string[] = [];
  const nodeWatch = await cluster.client.watch('Node', {}, (ev) => {
    const n = ev.object;
    if (readyCondition(n)?.status !== 'True' || hasUnreachableTaint(n)) disturbed.push(`${n.metadata!.name}: Ready=${readyCondition(n)?.status}${hasUnreachableTaint(n) ? ', tainted unreachable' : ''}`);
  });
  t.teardown(() => nodeWatch.stop());
  const bystanders = await new WatchedSet(cluster.client, 'Pod', 'failover').start();
  t.teardown(() => bystanders.stop());
  const bystanderNames = bystanders.all().map((p) => p.metadata!.name!).sort();
  t.equal(bystanderNames.length, REPLICAS, `${REPLICAS} pods of the other deployment before the restart`);

  const cp = cluster.ctx.processes.find((p) => p.role === 'control-plane')!;
  const logOffset = fs.statSync(cp.log).size;
  const killedAt = Date.now();
  await sigkill(cp.pid);
  relaunch(cp);
  t.comment(`control plane restarted: API answers after ${await untilApiAnswers()} ms`);

  const done = await waitForObject(
    cluster.client,
    'Deployment',
    'rollout',
    NS,
    (d) =>
      d?.metadata?.annotations?.['deployment.kubernetes.io/revision'] === '2' &&
      d.status?.observedGeneration === d.metadata.generation &&
      d.status.updatedReplicas === REPLICAS &&
      d.status.replicas === REPLICAS &&
      d.status.availableReplicas === REPLICAS,
    45_000,
  );
  t.comment(`control plane SIGKILL → rollout complete: ${Date.now() - killedAt} ms`);
  const status = await cluster.kubeact(['rollout', 'status', 'deployment/rollout', '--timeout=10s']);
  t.equal(status.code, 0, status.stderr);
  t.match(status.stdout, /deployment "rollout" successfully rolled out/);

  const hash = newRSOf()!.metadata!.labels?.['pod-template-hash'];
  const final = await pods.until(
    `exactly ${REPLICAS} pods of the new template, Running and Ready`,
    (all) => all.length === REPLICAS && all.every((p) => isActive(p) && isRunning(p) && isReady(p) && p.metadata?.labels?.['pod-template-hash'] === hash),
    20_000,
  );
  t.equal(final.length, REPLICAS);
  t.ok(final.every((p) => p.spec.containers[0].image === 'busybox:1.37'), 'every pod runs the new image');
  t.ok(pods.max <= REPLICAS + 1, `never more than replicas + maxSurge active pods (max ${pods.max})`);
  t.ok(rsSet.max <= REPLICAS + 1, `ReplicaSet replicas never summed to more than replicas + maxSurge (max ${rsSet.max})`);

  const sets = (await cluster.client.list('ReplicaSet', { namespace: NS, labelSelector: 'app=rollout' })).items;
  t.equal(sets.length, 2, 'two ReplicaSets: no extra one was made');
  const oldNow = sets.find((rs) => rs.metadata!.uid === oldRS.metadata!.uid);
  const newNow = sets.find((rs) => rs.metadata!.uid !== oldRS.metadata!.uid);
  t.match(oldNow, { spec: { replicas: 0 }, metadata: { annotations: { 'deployment.kubernetes.io/revision': '1' } } }, 'old ReplicaSet at 0 replicas');
  t.match(newNow, { spec: { replicas: REPLICAS }, metadata: { annotations: { 'deployment.kubernetes.io/revision': '2' } } }, 'new ReplicaSet at 6 replicas, revision 2');
  t.equal(done!.metadata!.annotations?.['deployment.kubernetes.io/revision'], '2', 'deployment at revision 2');

  t.same(disturbed, [], 'no node was marked NotReady or tainted across the control-plane restart');
  t.same(bystanders.all().map((p) => p.metadata!.name!).sort(), bystanderNames, 'the other deployment kept its pods');
  t.notOk(bystanders.all().some(isTerminating), 'none of them was evicted');

  const log = fs.readFileSync(cp.log).subarray(logOffset).toString('utf8').split('\n').filter(Boolean).map((l) => {
    try {
      return JSON.parse(l);
    } catch {
      return {};
    }
  });
  const restored = log.filter((r) => typeof r.msg === 'string' && r.msg.endsWith('actor restored from its snapshot'));
  t.comment(`restored: ${restored.map((r) => `${r.msg.split(' ')[0]} ${r.key} (${JSON.stringify(r.state)})`).join('; ')}`);
  t.ok(restored.some((r) => r.msg === 'Deployment actor restored from its snapshot' && r.key === 'default/rollout'), 'the Deployment actor was restored from its snapshot');
  t.ok(restored.some((r) => r.msg === 'ReplicaSet actor restored from its snapshot' && r.key === `default/${oldRS.metadata!.name}`), 'the old ReplicaSet actor was restored');
  t.ok(restored.some((r) => r.msg === 'ReplicaSet actor restored from its snapshot' && r.key === `default/${midway!.metadata!.name}`), 'the new ReplicaSet actor was restored');
});
