/**
 * Deployments and ReplicaSets end to end, through the CLI as a user types it, against a
 * real 3-node `kubeact up` (nats-server, control plane with the controllers, workers and
 * their containers as OS processes). One cluster for the whole file; each test uses its own
 * deployment. Invariants of a rollout are sampled at every watch event (pods and
 * ReplicaSets), never by polling; every wait is on watch events with a deadline.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import YAML from 'yaml';
import type { Kind } from '../protocol/kinds.js';
import type { KubeObject } from '../protocol/objects.js';
import { startCluster } from './helpers/cluster.js';

const started = Date.now();
const cluster = await startCluster({ nodes: 3 });
t.teardown(cluster.stop);
const { client, kubeact } = cluster;

const tmp = mkdtempSync(path.join(os.tmpdir(), 'kubeact-deployments-e2e-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
t.teardown(() => t.comment(`deployments-e2e: ${((Date.now() - started) / 1000).toFixed(1)} s including cluster start`));

const NS = 'default';
const REVISION = 'deployment.kubernetes.io/revision';
const HASH = 'pod-template-hash';

// ---------------------------------------------------------------------------------------
// manifests

type Manifest = Record<string, any>;

interface DeploymentOptions {
  replicas?: number;
  image?: string;
  strategy?: Manifest;
  progressDeadlineSeconds?: number;
  readinessProbe?: Manifest;
  command?: string[];
  selector?: Manifest;
}

function podTemplate(app: string, opts: { image?: string; readinessProbe?: Manifest; command?: string[] } = {}): Manifest {
  return {
    metadata: { labels: { app } },
    spec: {
      terminationGracePeriodSeconds: 5,
      containers: [{ name: 'main', image: opts.image ?? 'kubeact/sleep:1', command: opts.command ?? ['sleep', '3600'], ...(opts.readinessProbe ? { readinessProbe: opts.readinessProbe } : {}) }],
    },
  };
}

function deployment(name: string, opts: DeploymentOptions = {}): Manifest {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { suite: 'deployments-e2e' } },
    spec: {
      replicas: opts.replicas ?? 2,
      selector: opts.selector ?? { matchLabels: { app: name } },
      ...(opts.strategy ? { strategy: opts.strategy } : {}),
      ...(opts.progressDeadlineSeconds !== undefined ? { progressDeadlineSeconds: opts.progressDeadlineSeconds } : {}),
      template: podTemplate(name, opts),
    },
  };
}

function writeManifest(file: string, ...docs: Manifest[]): string {
  const p = path.join(tmp, file);
  writeFileSync(p, docs.map((d) => YAML.stringify(d, { lineWidth: 0 })).join('---\n'));
  return p;
}

async function ok(args: string[], timeoutMs?: number): Promise<string> {
  const r = await kubeact(args, { timeoutMs });
  if (r.code !== 0) throw new Error(`kubeact ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

/** Splits a kubectl table into rows of cells, by the header's column starts. */
function parseTable(text: string): Record<string, string>[] {
  const lines = text.split('\n').filter((l) => l.trim());
  const cols = [...lines[0].matchAll(/\S+(?: \S+)*/g)].map((m) => ({ name: m[0], start: m.index! }));
  return lines.slice(1).map((line) => {
    const row: Record<string, string> = {};
    cols.forEach((c, i) => (row[c.name] = line.slice(c.start, cols[i + 1]?.start ?? line.length).trim()));
    return row;
  });
}

// ---------------------------------------------------------------------------------------
// object predicates

const isReady = (p: KubeObject) => (p.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
const terminating = (p: KubeObject) => Boolean(p.metadata?.deletionTimestamp);
const controllerOf = (o: KubeObject) => (o.metadata?.ownerReferences ?? []).find((r) => r.controller);
const revisionOf = (rs: KubeObject) => rs.metadata?.annotations?.[REVISION];
const imageOf = (o: KubeObject) => o.spec?.template?.spec?.containers?.[0]?.image;

/** Watches a kind in the namespace, keeping the current objects; `onEvent` sees each event after the map is updated. */
async function track(kind: Kind, opts: { labelSelector?: string }, onEvent?: (type: string, obj: KubeObject, all: Map<string, KubeObject>) => void) {
  const all = new Map<string, KubeObject>();
  let armed = false;
  const listeners = new Set<() => void>();
  const w = await client.watch(kind, { namespace: NS, ...opts }, (ev) => {
    const name = ev.object.metadata!.name!;
    if (ev.type === 'DELETED') all.delete(name);
    else all.set(name, ev.object);
    if (armed) onEvent?.(ev.type, ev.object, all);
    for (const l of [...listeners]) l();
  });
  armed = true;
  return {
    all,
    stop: () => w.stop(),
    /** Resolves once `predicate(all)` holds (checked now and at every event); rejects at the deadline. */
    until(predicate: (all: Map<string, KubeObject>) => boolean, what: string, timeoutMs = 20_000): Promise<void> {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate(all)) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`${kind}: ${what} not seen within ${timeoutMs} ms; now: ${[...all.keys()].join(', ') || 'none'}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
  };
}

/** The ReplicaSets a deployment controls (controller ownerReference to its uid). */
async function replicaSetsOf(name: string): Promise<KubeObject[]> {
  const d = await client.get('Deployment', name, NS);
  const list = await client.list('ReplicaSet', { namespace: NS });
  return list.items.filter((rs) => controllerOf(rs)?.uid === d.metadata?.uid).sort((a, b) => Number(revisionOf(a)) - Number(revisionOf(b)));
}

/**
 * The garbage collector acts on deletion events (and sweeps every 5 s). A sentinel pod whose
 * owner never existed is collected by it: once the sentinel is gone, the collector has handled
 * events that came after whatever the test did before, so what it left alone it leaves alone.
 */
async function gcBarrier(name: string): Promise<void> {
  let collected = false;
  const sentinel = await track('Pod', { labelSelector: `app=${name}` }, (type) => (collected ||= type === 'DELETED'));
  try {
    await client.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, labels: { app: name }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'never-was', uid: '00000000-0000-0000-0000-000000000000' }] },
      spec: { ...podTemplate(name).spec, nodeSelector: { 'kubeact.io/nowhere': 'true' } },
    } as KubeObject);
    await sentinel.until(() => collected, `${name} collected`);
  } finally {
    sentinel.stop();
  }
}

async function rolloutStatus(name: string): Promise<void> {
  const out = await ok(['rollout', 'status', `deployment/${name}`, '--timeout', '40s'], 45_000);
  if (!out.trimEnd().endsWith(`deployment "${name}" successfully rolled out`)) throw new Error(`rollout status of ${name} did not end as rolled out:\n${out}`);
}

// ---------------------------------------------------------------------------------------
// tests: independent chains, run side by side (each chain's steps in order)

t.jobs = 6;

t.test('web: RollingUpdate, history, undo, garbage collection', async (t) => {
  let webUid = '';
  await t.test('apply a 4-replica deployment: rolled out, one ReplicaSet, 4 owned pods spread over the nodes', async (t) => {
    const file = writeManifest('web.yaml', deployment('web', { replicas: 4, strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } }));
    t.equal(await ok(['apply', '-f', file]), 'deployment.apps/web created\n');

    const status = await kubeact(['rollout', 'status', 'deployment/web', '--timeout', '40s'], { timeoutMs: 45_000 });
    t.equal(status.code, 0, status.stderr);
    t.equal(status.stdout.trimEnd().split('\n').at(-1), 'deployment "web" successfully rolled out');

    const [deploy, rsTable] = await Promise.all([ok(['get', 'deploy', 'web']), ok(['get', 'rs', '-l', 'app=web'])]);
    t.match(parseTable(deploy)[0], { NAME: 'web', READY: '4/4', 'UP-TO-DATE': '4', AVAILABLE: '4' });

    const d = await client.get('Deployment', 'web', NS);
    webUid = d.metadata!.uid!;
    const sets = await replicaSetsOf('web');
    t.equal(sets.length, 1, 'one ReplicaSet');
    const rs = sets[0];
    const hash = rs.metadata?.labels?.[HASH];
    t.ok(hash, 'the ReplicaSet has the pod-template-hash label');
    t.equal(rs.metadata?.name, `web-${hash}`);
    t.same(rs.spec?.selector?.matchLabels, { app: 'web', [HASH]: hash }, 'selector = the deployment selector + hash');
    t.equal(revisionOf(rs), '1');
    t.match(controllerOf(rs), { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: webUid, controller: true, blockOwnerDeletion: true });
    t.match(parseTable(rsTable), [{ NAME: rs.metadata?.name, DESIRED: '4', CURRENT: '4', READY: '4' }]);

    const pods = (await client.list('Pod', { namespace: NS, labelSelector: 'app=web' })).items;
    t.equal(pods.length, 4, '4 pods');
    for (const p of pods) {
      t.match(controllerOf(p), { kind: 'ReplicaSet', name: rs.metadata?.name, uid: rs.metadata?.uid, controller: true }, `${p.metadata?.name} is owned by the ReplicaSet`);
      t.equal(p.metadata?.labels?.[HASH], hash);
      t.ok(isReady(p), `${p.metadata?.name} is Ready`);
    }
    const nodes = new Set(pods.map((p) => p.spec?.nodeName));
    t.equal(nodes.size, 3, `spread over the 3 nodes: ${pods.map((p) => p.spec?.nodeName).join(', ')}`);
  });
  await t.test('rolling update with maxUnavailable 0, maxSurge 1: the controller never exceeds its bounds', async (t) => {
    const desired = 4;
    const maxSurge = 1;
    const maxUnavailable = 0;
    const [oldRs] = await replicaSetsOf('web');

    // Pods: Ready and not terminating, at every event.
    let minReadyPods = Infinity;
    let maxLivePods = 0;
    let maxPodsIncludingTerminating = 0;
    const podEvents: string[] = [];
    const pods = await track('Pod', { labelSelector: 'app=web' }, (type, obj, all) => {
      const list = [...all.values()];
      const live = list.filter((p) => !terminating(p));
      minReadyPods = Math.min(minReadyPods, live.filter(isReady).length);
      maxLivePods = Math.max(maxLivePods, live.length);
      maxPodsIncludingTerminating = Math.max(maxPodsIncludingTerminating, list.length);
      podEvents.push(`${type} ${obj.metadata?.name} ready=${isReady(obj)} terminating=${terminating(obj)} → ready live ${live.filter(isReady).length}`);
    });
    // ReplicaSets: the deployment controller's own invariant, at every event.
    let maxSpecSum = 0;
    let minAvailableSum = Infinity;
    const rsViolations: string[] = [];
    const sets = await track('ReplicaSet', {}, (type, obj, all) => {
      const owned = [...all.values()].filter((rs) => controllerOf(rs)?.uid === webUid);
      const specSum = owned.reduce((n, rs) => n + (rs.spec?.replicas ?? 0), 0);
      const availableSum = owned.reduce((n, rs) => n + (rs.status?.availableReplicas ?? 0), 0);
      maxSpecSum = Math.max(maxSpecSum, specSum);
      minAvailableSum = Math.min(minAvailableSum, availableSum);
      const where = `${type} ${obj.metadata?.name}: ${owned.map((rs) => `${rs.metadata?.name} spec=${rs.spec?.replicas} available=${rs.status?.availableReplicas ?? 0}`).join(', ')}`;
      if (specSum > desired + maxSurge) rsViolations.push(`Σ spec.replicas ${specSum} > ${desired + maxSurge} at ${where}`);
      if (availableSum < desired - maxUnavailable) rsViolations.push(`Σ availableReplicas ${availableSum} < ${desired - maxUnavailable} at ${where}`);
    });
    t.teardown(() => (pods.stop(), sets.stop()));
    const startReady = [...pods.all.values()].filter((p) => isReady(p) && !terminating(p)).length;
    t.equal(startReady, desired, 'the watch starts from 4 Ready pods');

    t.equal(await ok(['set', 'image', 'deployment/web', 'main=kubeact/sleep:2']), 'deployment.apps/web image updated\n');
    await rolloutStatus('web');
    const newHash = (await replicaSetsOf('web')).at(-1)?.metadata?.labels?.[HASH];
    await pods.until((all) => [...all.values()].every((p) => p.metadata?.labels?.[HASH] === newHash), 'only new pods left');

    t.same(rsViolations, [], 'at every ReplicaSet event: Σ spec.replicas ≤ desired + maxSurge and Σ available ≥ desired − maxUnavailable');
    t.equal(maxSpecSum, desired + maxSurge, `the surge was used: at most ${maxSpecSum} replicas (desired ${desired})`);
    const readyHeld = minReadyPods >= desired - maxUnavailable;
    t.ok(readyHeld, `at every pod event at least ${desired - maxUnavailable} Ready pods not terminating (lowest ${minReadyPods})`);
    if (!readyHeld) t.comment(podEvents.join('\n'));
    t.comment(`largest surge: Σ spec.replicas ${maxSpecSum}; pods not terminating at most ${maxLivePods}, counting terminating ones at most ${maxPodsIncludingTerminating}; lowest Σ available ${minAvailableSum}`);

    const d = await client.get('Deployment', 'web', NS);
    t.equal(d.metadata?.annotations?.[REVISION], '2', 'the deployment is at revision 2');
    const after = await replicaSetsOf('web');
    t.equal(after.length, 2);
    const [old, current] = after;
    t.equal(old.metadata?.uid, oldRs.metadata?.uid, 'the old ReplicaSet is kept');
    t.equal(old.spec?.replicas, 0, 'scaled to 0');
    t.equal(revisionOf(current), '2');
    t.equal(current.spec?.replicas, 4);
    t.equal(imageOf(current), 'kubeact/sleep:2');
    t.equal(current.metadata?.labels?.[HASH], newHash);
  });
  await t.test('rollout history and undo', async (t) => {
    const [history, one, [rev1, rev2]] = await Promise.all([ok(['rollout', 'history', 'deployment/web']), ok(['rollout', 'history', 'deployment/web', '--revision', '1']), replicaSetsOf('web')]);
    t.equal(history, 'deployment.apps/web \nREVISION  CHANGE-CAUSE\n1         <none>\n2         <none>\n');
    t.match(one, /^deployment\.apps\/web with revision #1\nPod Template:\n/);
    t.match(one, /image: kubeact\/sleep:1/);

    t.equal(await ok(['rollout', 'undo', 'deployment/web']), 'deployment.apps/web rolled back\n');
    await rolloutStatus('web');
    const d = await client.get('Deployment', 'web', NS);
    t.equal(imageOf(d), 'kubeact/sleep:1', 'the revision-1 template is back');
    t.equal(d.metadata?.annotations?.[REVISION], '3', 'as revision 3');
    const sets = await replicaSetsOf('web');
    t.equal(sets.length, 2, 'no new ReplicaSet: the old one is reused');
    const reused = sets.find((rs) => rs.metadata?.uid === rev1.metadata?.uid);
    t.ok(reused, 'the revision-1 ReplicaSet is still there');
    t.equal(reused?.metadata?.name, rev1.metadata?.name, 'same name');
    t.equal(revisionOf(reused!), '3', 'its revision annotation is now 3');
    t.equal(reused?.spec?.replicas, 4);
    t.equal(sets.find((rs) => rs.metadata?.uid === rev2.metadata?.uid)?.spec?.replicas, 0, 'revision 2 scaled to 0');
    const [historyAfter, missing] = await Promise.all([ok(['rollout', 'history', 'deployment/web']), kubeact(['rollout', 'undo', 'deployment/web', '--to-revision', '9'])]);
    t.equal(historyAfter, 'deployment.apps/web \nREVISION  CHANGE-CAUSE\n2         <none>\n3         <none>\n', 'revision 1 became 3');
    t.equal(missing.code, 1);
    t.equal(missing.stdout, '');
    t.equal(missing.stderr, 'error: unable to find specified revision 9 in history\n');
  });
  await t.test('deleting a deployment deletes its ReplicaSets and pods', async (t) => {
    const sets = await replicaSetsOf('web');
    t.ok(sets.length >= 2);
    const rsWatch = await track('ReplicaSet', {});
    const podWatch = await track('Pod', { labelSelector: 'app=web' });
    t.teardown(() => (rsWatch.stop(), podWatch.stop()));
    t.equal(podWatch.all.size, 4);

    t.equal(await ok(['delete', 'deployment', 'web']), 'deployment.apps "web" deleted\n');
    const uids = new Set(sets.map((rs) => rs.metadata?.uid));
    await rsWatch.until((all) => ![...all.values()].some((rs) => uids.has(rs.metadata?.uid)), 'the ReplicaSets of web deleted');
    await podWatch.until((all) => all.size === 0, 'the pods of web deleted', 30_000);
    t.equal((await client.list('ReplicaSet', { namespace: NS, labelSelector: 'app=web' })).items.length, 0, 'no ReplicaSet left');
    t.equal((await client.list('Pod', { namespace: NS, labelSelector: 'app=web' })).items.length, 0, 'no pod left');
  });
});

t.test('recreate: Recreate, restart, delete --cascade=orphan', async (t) => {
  await t.test('Recreate: every old pod is gone before the first new pod is created; rollout restart makes a new revision', async (t) => {
    // Containers that take a second to stop on SIGTERM, as a server draining its connections
    // would: the new revision must wait for them to be gone, not merely told to go.
    const file = writeManifest('recreate.yaml', deployment('recreate', { replicas: 2, strategy: { type: 'Recreate' }, command: ['sh', '-c', 'trap "sleep 1; exit 0" TERM; sleep 3600 & wait'] }));
    t.equal(await ok(['apply', '-f', file]), 'deployment.apps/recreate created\n');
    await rolloutStatus('recreate');
    const [rev1] = await replicaSetsOf('recreate');
    const oldHash = rev1.metadata?.labels?.[HASH];

    // Kubernetes' guarantee (oldPodsRunning): when a new pod is created, every old pod is gone
    // or has stopped (Succeeded/Failed, about to be removed by its kubelet).
    const order: string[] = [];
    const violations: string[] = [];
    let oldLeftStopped = 0;
    const pods = await track('Pod', { labelSelector: 'app=recreate' }, (type, obj, all) => {
      order.push(`${type} ${obj.metadata?.name} ${obj.status?.phase}${terminating(obj) ? ' (terminating)' : ''}`);
      if (type === 'ADDED' && obj.metadata?.labels?.[HASH] !== oldHash) {
        const old = [...all.values()].filter((p) => p.metadata?.labels?.[HASH] === oldHash);
        const running = old.filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
        if (running.length) violations.push(`${obj.metadata?.name} created while ${running.map((p) => `${p.metadata?.name} (${p.status?.phase})`).join(', ')} still ran`);
        oldLeftStopped = Math.max(oldLeftStopped, old.length);
      }
    });
    t.teardown(() => pods.stop());
    t.equal(pods.all.size, 2);

    t.equal(await ok(['set', 'image', 'deployment/recreate', 'main=kubeact/sleep:2']), 'deployment.apps/recreate image updated\n');
    await rolloutStatus('recreate');
    await pods.until((all) => all.size === 2 && [...all.values()].every((p) => p.metadata?.labels?.[HASH] !== oldHash && isReady(p)), '2 new Ready pods');
    t.same(violations, [], 'old pods all gone (or stopped) before a new one was created');
    if (violations.length) t.comment(order.join('\n'));
    t.comment(`old pods still listed (stopped) when a new pod was created: at most ${oldLeftStopped}`);
    const sets = await replicaSetsOf('recreate');
    t.same(sets.map((rs) => [revisionOf(rs), rs.spec?.replicas]), [['1', 0], ['2', 2]]);

    t.equal(await ok(['rollout', 'restart', 'deployment/recreate']), 'deployment.apps/recreate restarted\n');
    await rolloutStatus('recreate');
    const restarted = await replicaSetsOf('recreate');
    t.equal(restarted.length, 3, 'a new ReplicaSet');
    const newest = restarted.at(-1)!;
    t.equal(revisionOf(newest), '3', 'revision 3');
    t.equal(imageOf(newest), 'kubeact/sleep:2', 'the same image');
    t.ok(newest.spec?.template?.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'], 'restartedAt in the template');
    t.equal(newest.spec?.replicas, 2);
  });
  await t.test('delete --cascade=orphan leaves the ReplicaSet and pods, without the ownerReference', async (t) => {
    const [rs] = (await replicaSetsOf('recreate')).filter((r) => (r.spec?.replicas ?? 0) > 0);
    const podsBefore = (await client.list('Pod', { namespace: NS, labelSelector: 'app=recreate' })).items;
    t.equal(podsBefore.length, 2);

    t.equal(await ok(['delete', 'deployment', 'recreate', '--cascade=orphan']), 'deployment.apps "recreate" deleted\n');
    t.notOk(await client.find('Deployment', 'recreate', NS), 'the deployment is gone');
    const sets = (await client.list('ReplicaSet', { namespace: NS, labelSelector: 'app=recreate' })).items;
    t.equal(sets.length, 3, 'all three ReplicaSets are left');
    for (const r of sets) t.same(r.metadata?.ownerReferences, undefined, `${r.metadata?.name} has no ownerReference`);

    await gcBarrier('gc-sentinel-recreate');

    const kept = await client.get('ReplicaSet', rs.metadata!.name!, NS);
    t.equal(kept.metadata?.uid, rs.metadata?.uid, 'the same ReplicaSet');
    t.same(kept.metadata?.ownerReferences, undefined, 'still without an ownerReference');
    const podsAfter = (await client.list('Pod', { namespace: NS, labelSelector: 'app=recreate' })).items;
    t.same(podsAfter.map((p) => p.metadata?.uid).sort(), podsBefore.map((p) => p.metadata?.uid).sort(), 'the same pods');
    t.same(podsAfter.filter(terminating).map((p) => p.metadata?.name), [], 'none terminating');
    for (const p of podsAfter) t.match(controllerOf(p), { kind: 'ReplicaSet', uid: rs.metadata?.uid }, 'pods still owned by the ReplicaSet');
  });
});

t.test('pause: a template change makes no ReplicaSet, scaling still works; resume rolls out', async (t) => {
  const file = writeManifest('paused.yaml', deployment('paused', { replicas: 4 }));
  t.equal(await ok(['apply', '-f', file]), 'deployment.apps/paused created\n');
  await rolloutStatus('paused');
  t.equal(await ok(['rollout', 'pause', 'deployment/paused']), 'deployment.apps/paused paused\n');
  const before = (await replicaSetsOf('paused')).map((rs) => rs.metadata?.uid).sort();

  // While paused, undo and restart are refused.
  const [undo, restart] = await Promise.all([kubeact(['rollout', 'undo', 'deployment/paused']), kubeact(['rollout', 'restart', 'deployment/paused'])]);
  t.equal(undo.code, 1);
  t.match(undo.stderr, /^error: you cannot rollback a paused deployment; resume it first/);
  t.equal(restart.code, 1);
  t.equal(restart.stderr, "error: can't restart paused deployment (run rollout resume first)\n");

  t.equal(await ok(['set', 'image', 'deployment/paused', 'main=kubeact/sleep:2']), 'deployment.apps/paused image updated\n');
  const changed = await client.get('Deployment', 'paused', NS);
  // The controller has seen the change once the status reports its generation.
  await client.waitFor('Deployment', 'paused', NS, (d) => (d?.status?.observedGeneration ?? 0) >= changed.metadata!.generation!, 20_000);
  t.same((await replicaSetsOf('paused')).map((rs) => rs.metadata?.uid).sort(), before, 'no new ReplicaSet while paused');
  const paused = await client.get('Deployment', 'paused', NS);
  t.match(paused.status?.conditions?.find((c: { type: string }) => c.type === 'Progressing'), { status: 'Unknown', reason: 'DeploymentPaused' });

  t.equal(await ok(['scale', 'deployment/paused', '--replicas', '6']), 'deployment.apps/paused scaled\n');
  await client.waitFor('Deployment', 'paused', NS, (d) => d?.status?.readyReplicas === 6 && d.status.observedGeneration === d.metadata?.generation, 30_000);
  const scaled = await replicaSetsOf('paused');
  t.same(scaled.map((rs) => rs.metadata?.uid).sort(), before, 'still no new ReplicaSet');
  t.equal(scaled.find((rs) => revisionOf(rs) === '1')?.spec?.replicas, 6, 'the current ReplicaSet scaled to 6');

  t.equal(await ok(['rollout', 'resume', 'deployment/paused']), 'deployment.apps/paused resumed\n');
  await rolloutStatus('paused');
  const after = await replicaSetsOf('paused');
  t.equal(after.length, 2, 'a new ReplicaSet once resumed');
  const newest = after.at(-1)!;
  t.equal(revisionOf(newest), '2');
  t.equal(imageOf(newest), 'kubeact/sleep:2');
  t.equal(newest.spec?.replicas, 6);
  t.match(parseTable(await ok(['get', 'deploy', 'paused']))[0], { READY: '6/6', 'UP-TO-DATE': '6', AVAILABLE: '6' });
});

t.test('progress deadline: a pod that never becomes ready fails the rollout', async (t) => {
  const file = writeManifest(
    'stuck.yaml',
    deployment('stuck', { replicas: 1, progressDeadlineSeconds: 2, readinessProbe: { exec: { command: ['false'] }, periodSeconds: 1 } }),
  );
  t.equal(await ok(['apply', '-f', file]), 'deployment.apps/stuck created\n');
  const r = await kubeact(['rollout', 'status', 'deployment/stuck', '--timeout', '30s'], { timeoutMs: 35_000 });
  t.equal(r.code, 1, 'non-zero exit');
  t.equal(r.stderr, 'error: deployment "stuck" exceeded its progress deadline\n');
  const d = await client.get('Deployment', 'stuck', NS);
  const progressing = d.status?.conditions?.find((c: { type: string }) => c.type === 'Progressing');
  t.match(progressing, { status: 'False', reason: 'ProgressDeadlineExceeded' });
  t.match(progressing.message, /^ReplicaSet "stuck-\w+" has timed out progressing\.$/);
  t.match(parseTable(await ok(['get', 'deploy', 'stuck']))[0], { READY: '0/1', AVAILABLE: '0' });
});

t.test('a ReplicaSet on its own keeps its pods: replaces a deleted one, adopts an orphan and removes the extra', async (t) => {
  const manifest = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'solo' },
    spec: { replicas: 3, selector: { matchLabels: { app: 'solo' } }, template: podTemplate('solo') },
  };
  const pods = await track('Pod', { labelSelector: 'app=solo' });
  t.teardown(() => pods.stop());
  const live = (all: Map<string, KubeObject>) => [...all.values()].filter((p) => !terminating(p));
  t.equal(await ok(['apply', '-f', writeManifest('solo.yaml', manifest)]), 'replicaset.apps/solo created\n');
  await pods.until((all) => live(all).length === 3 && live(all).every(isReady), '3 Ready pods');
  const rs = await client.get('ReplicaSet', 'solo', NS);
  for (const p of pods.all.values()) t.match(controllerOf(p), { kind: 'ReplicaSet', name: 'solo', uid: rs.metadata?.uid });

  const victim = [...pods.all.keys()].sort()[0];
  t.equal(await ok(['delete', 'pod', victim]), `pod "${victim}" deleted\n`);
  await pods.until((all) => !all.has(victim) && live(all).length === 3 && live(all).every(isReady), 'a replacement for the deleted pod');
  t.notOk(pods.all.has(victim));

  let adopted: KubeObject | undefined;
  const strayWatch = await track('Pod', { labelSelector: 'app=solo' }, (type, obj) => {
    if (obj.metadata?.name === 'stray' && controllerOf(obj)) adopted ??= obj;
  });
  t.teardown(() => strayWatch.stop());
  const stray = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stray', labels: { app: 'solo' } }, spec: podTemplate('solo').spec };
  t.equal(await ok(['apply', '-f', writeManifest('stray.yaml', stray)]), 'pod/stray created\n');
  await strayWatch.until(() => adopted !== undefined, 'the orphan adopted');
  t.match(controllerOf(adopted!), { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'solo', uid: rs.metadata?.uid, controller: true }, 'the orphan got an ownerReference to the ReplicaSet');
  await pods.until((all) => live(all).length === 3 && [...all.values()].length === 3, 'back at 3 pods', 30_000);
  const final = await client.waitFor('ReplicaSet', 'solo', NS, (r) => r?.status?.replicas === 3 && r.status.readyReplicas === 3, 20_000);
  t.equal(final?.spec?.replicas, 3);
  for (const p of pods.all.values()) t.match(controllerOf(p), { uid: rs.metadata?.uid }, `${p.metadata?.name} is owned`);

  // --cascade=orphan on the ReplicaSet: its pods stay, and nothing adopts them back.
  const before = [...pods.all.values()].map((p) => p.metadata?.uid).sort();
  t.equal(await ok(['delete', 'rs', 'solo', '--cascade=orphan']), 'replicaset.apps "solo" deleted\n');
  await gcBarrier('gc-sentinel-solo');
  const left = (await client.list('Pod', { namespace: NS, labelSelector: 'app=solo' })).items;
  t.same(left.map((p) => p.metadata?.uid).sort(), before, 'the same 3 pods are left');
  t.same(left.filter(terminating).map((p) => p.metadata?.name), [], 'none terminating');
  t.same(left.map((p) => p.metadata?.ownerReferences), [undefined, undefined, undefined], 'without ownerReferences');
});

t.test('invalid deployments are rejected with every field error, nothing stored', async (t) => {
  const cases: [string, Manifest, string][] = [
    [
      'bad-selector',
      deployment('bad-selector', { selector: { matchLabels: { app: 'other' } } }),
      'The Deployment "bad-selector" is invalid: spec.template.metadata.labels: Invalid value: {"app":"bad-selector"}: `selector` does not match template `labels`\n',
    ],
    ['bad-replicas', deployment('bad-replicas', { replicas: -1 }), 'The Deployment "bad-replicas" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0\n'],
    [
      'bad-unavailable',
      deployment('bad-unavailable', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '150%' } } }),
      'The Deployment "bad-unavailable" is invalid: spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "150%": must not be greater than 100%\n',
    ],
    [
      'bad-surge',
      deployment('bad-surge', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 'abc' } } }),
      `The Deployment "bad-surge" is invalid: spec.strategy.rollingUpdate.maxSurge: Invalid value: "abc": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')\n`,
    ],
    [
      'bad-zero',
      deployment('bad-zero', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } }),
      'The Deployment "bad-zero" is invalid: spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0\n',
    ],
    [
      'bad-many',
      deployment('bad-many', { replicas: -2, selector: { matchLabels: { app: 'x' } }, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 'abc', maxUnavailable: '101%' } } }),
      [
        'The Deployment "bad-many" is invalid: ',
        '* spec.replicas: Invalid value: -2: must be greater than or equal to 0',
        '* spec.template.metadata.labels: Invalid value: {"app":"bad-many"}: `selector` does not match template `labels`',
        `* spec.strategy.rollingUpdate.maxSurge: Invalid value: "abc": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')`,
        '* spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "101%": must not be greater than 100%',
        '',
      ].join('\n'),
    ],
  ];
  // One multi-document file: apply reports every rejected object and goes on with the next.
  const r = await kubeact(['apply', '-f', writeManifest('invalid.yaml', ...cases.map(([, m]) => m))]);
  t.equal(r.code, 1, 'exit 1');
  t.equal(r.stdout, '', 'nothing reported as created');
  const errors = r.stderr.split(/(?=^The Deployment ")/m);
  t.equal(errors.length, cases.length, `one error per object:\n${r.stderr}`);
  cases.forEach(([name, , expected], i) => t.equal(errors[i], expected, `${name}: the field errors`));
  const stored = await client.list('Deployment', { namespace: NS });
  t.same(
    stored.items.map((d) => d.metadata?.name).filter((n) => n?.startsWith('bad-')),
    [],
    'nothing stored',
  );
  const sets = await client.list('ReplicaSet', { namespace: NS });
  t.same(sets.items.filter((rs) => rs.metadata?.name?.startsWith('bad-')).map((rs) => rs.metadata?.name), [], 'no ReplicaSet either');
});
