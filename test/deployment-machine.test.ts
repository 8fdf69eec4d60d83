/**
 * The Deployment actor (actors/deployment/machine.ts): pure XState with a SimulatedClock.
 * The effects are recording fromPromise actors writing to an in-memory "cluster", whose
 * watch events the test delivers when it chooses (so a slow watch can be simulated), and a
 * tiny ReplicaSet-controller stand-in sets each ReplicaSet's status from its spec, pods
 * becoming available one at a time. No NATS, no sleeps.
 */
import t from 'tap';
import { createActor, fromPromise, SimulatedClock, waitFor, type Actor, type Snapshot } from 'xstate';
import type { Deployment, DeploymentStatus, ReplicaSet, ReplicaSetStatus } from 'kubernetes-types/apps/v1.js';
import type { Meta } from '../protocol/objects.js';
import { nowTimestamp } from '../protocol/objects.js';
import {
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  deploymentMachine,
  maxSurge,
  maxUnavailable,
  type AnnotateDeploymentInput,
  type CreateReplicaSetInput,
  type DeleteReplicaSetInput,
  type DeploymentEvent,
  type DeploymentInput,
  type UpdateReplicaSetInput,
} from '../actors/deployment/index.js';

const T0 = Date.parse('2025-01-01T00:00:00Z');

type DeploymentSpec = NonNullable<Deployment['spec']>;

function makeDeployment(opts: { replicas?: number; image?: string; strategy?: DeploymentSpec['strategy']; revisionHistoryLimit?: number; progressDeadlineSeconds?: number } = {}): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', uid: 'dep-uid', generation: 1, creationTimestamp: nowTimestamp(T0) },
    spec: {
      replicas: opts.replicas ?? 3,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: opts.image ?? 'nginx:1' }] } },
      strategy: opts.strategy ?? { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      revisionHistoryLimit: opts.revisionHistoryLimit ?? 10,
      progressDeadlineSeconds: opts.progressDeadlineSeconds ?? 600,
    },
  };
}

type Call =
  | { type: 'create'; input: CreateReplicaSetInput }
  | { type: 'update'; input: UpdateReplicaSetInput }
  | { type: 'delete'; input: DeleteReplicaSetInput }
  | { type: 'annotate'; input: AnnotateDeploymentInput };

/** An in-memory API: the effects write here; its watch events queue up until delivered. */
class Cluster {
  deployment: Deployment;
  readonly rss = new Map<string, ReplicaSet>();
  readonly calls: Call[] = [];
  readonly statuses: DeploymentStatus[] = [];
  queue: DeploymentEvent[] = [];
  /** Effects of these types fail (that many times). */
  readonly failures: Partial<Record<Call['type'], number>> = {};
  /** Effects write at once but resolve only when released (an effect in flight). */
  hold = false;
  readonly held: Array<() => void> = [];
  /** Worst values seen while rolling (checked after every write and every status change). */
  maxTotal = 0;
  minAvailable = Infinity;
  checking = false;
  /** Old pods still running when a ReplicaSet was created (Recreate). */
  readonly oldPodsAtCreate: number[] = [];
  private seq = 0;

  constructor(
    readonly clock: SimulatedClock,
    deployment: Deployment,
  ) {
    this.deployment = structuredClone(deployment);
  }

  get now(): number {
    return this.clock.now();
  }

  private emitRS(rs: ReplicaSet): void {
    this.queue.push({ type: 'RS_UPSERT', rs: structuredClone(rs), now: this.now });
  }

  private emitDeployment(): void {
    this.queue.push({ type: 'DEPLOYMENT_UPDATED', deployment: structuredClone(this.deployment), now: this.now });
  }

  /** The user edits the deployment (spec changes bump the generation, as the API server does). */
  edit(fn: (d: Deployment) => void): void {
    const next = structuredClone(this.deployment);
    fn(next);
    if (JSON.stringify(next.spec) !== JSON.stringify(this.deployment.spec)) (next.metadata as Meta).generation = (next.metadata!.generation ?? 1) + 1;
    this.deployment = next;
    this.emitDeployment();
  }

  list(): ReplicaSet[] {
    return [...this.rss.values()];
  }

  check(): void {
    if (!this.checking) return;
    const rss = this.list();
    const total = Math.max(
      rss.reduce((n, rs) => n + (rs.spec?.replicas ?? 0), 0),
      rss.reduce((n, rs) => n + (rs.status?.replicas ?? 0), 0),
    );
    const available = rss.reduce((n, rs) => n + (rs.status?.availableReplicas ?? 0), 0);
    this.maxTotal = Math.max(this.maxTotal, total);
    this.minAvailable = Math.min(this.minAvailable, available);
  }

  // ---- effects -------------------------------------------------------------------------

  private effect<I>(type: Call['type'], apply: (input: I) => void) {
    return fromPromise<void, I>(async ({ input }) => {
      this.calls.push({ type, input: structuredClone(input) } as Call);
      if (this.failures[type]) {
        this.failures[type]!--;
        throw new Error(`${type} refused`);
      }
      apply(input);
      if (this.hold) await new Promise<void>((resolve) => this.held.push(resolve));
    });
  }

  machine() {
    return deploymentMachine.provide({
      actors: {
        createReplicaSet: this.effect<CreateReplicaSetInput>('create', ({ replicaSet }) => this.create(replicaSet)),
        updateReplicaSet: this.effect<UpdateReplicaSetInput>('update', (u) => this.update(u)),
        deleteReplicaSet: this.effect<DeleteReplicaSetInput>('delete', (r) => this.remove(r)),
        annotateDeployment: this.effect<AnnotateDeploymentInput>('annotate', (a) => this.annotate(a)),
      },
      actions: {
        publishStatus: (_, status) => {
          this.statuses.push(structuredClone(status));
          this.deployment = { ...this.deployment, status: structuredClone(status) };
          this.emitDeployment();
        },
      },
    });
  }

  private create(rs: ReplicaSet): void {
    const name = rs.metadata!.name!;
    if (this.rss.has(name)) return; // AlreadyExists: fine
    const oldPods = this.list().reduce((n, r) => n + (r.status?.replicas ?? 0), 0);
    this.oldPodsAtCreate.push(oldPods);
    const stored: ReplicaSet = structuredClone(rs);
    stored.metadata = { ...stored.metadata, uid: `rs-uid-${++this.seq}`, creationTimestamp: nowTimestamp(this.now), generation: 1 };
    (stored as { status?: unknown }).status = { replicas: 0, observedGeneration: 0 };
    this.rss.set(name, stored);
    this.check();
    this.emitRS(stored);
  }

  private update(u: UpdateReplicaSetInput): void {
    const rs = this.rss.get(u.name);
    if (!rs || (u.uid && rs.metadata?.uid !== u.uid)) throw Object.assign(new Error('not found'), { reason: 'NotFound' });
    const next = structuredClone(rs);
    if (u.replicas !== undefined && u.replicas !== next.spec?.replicas) {
      next.spec = { ...next.spec!, replicas: u.replicas };
      (next.metadata as Meta).generation = (next.metadata!.generation ?? 1) + 1;
    }
    next.metadata!.annotations = { ...(next.metadata!.annotations ?? {}), ...(u.annotations ?? {}) };
    if (JSON.stringify(next) === JSON.stringify(rs)) return;
    this.rss.set(u.name, next);
    this.check();
    this.emitRS(next);
  }

  private remove(r: DeleteReplicaSetInput): void {
    const rs = this.rss.get(r.name);
    if (!rs || rs.metadata?.uid !== r.uid) return; // NotFound: done
    this.rss.delete(r.name);
    this.queue.push({ type: 'RS_DELETE', namespace: r.namespace, name: r.name, uid: r.uid, now: this.now });
  }

  private annotate(a: AnnotateDeploymentInput): void {
    const next = structuredClone(this.deployment);
    next.metadata!.annotations = { ...(next.metadata!.annotations ?? {}), ...a.annotations };
    this.deployment = next;
    this.emitDeployment();
  }

  // ---- the ReplicaSet controller, simulated ----------------------------------------------

  /** Pods follow spec.replicas: new ones start unavailable; removed ones go unavailable-first. */
  syncStatuses(): boolean {
    let changed = false;
    for (const [name, rs] of this.rss) {
      const st: ReplicaSetStatus = rs.status ?? { replicas: 0 };
      const spec = rs.spec?.replicas ?? 0;
      const replicas = spec;
      const available = Math.min(st.availableReplicas ?? 0, spec);
      const ready = Math.min(st.readyReplicas ?? 0, spec);
      const observedGeneration = rs.metadata?.generation ?? 1;
      if (st.replicas === replicas && (st.availableReplicas ?? 0) === available && st.observedGeneration === observedGeneration) continue;
      const next = { ...rs, status: { ...st, replicas, availableReplicas: available, readyReplicas: ready, observedGeneration } } as ReplicaSet;
      this.rss.set(name, next);
      this.emitRS(next);
      changed = true;
    }
    if (changed) this.check();
    return changed;
  }

  /** One pod becomes ready and available. */
  makeReady(): boolean {
    for (const [name, rs] of [...this.rss].reverse()) {
      const st: ReplicaSetStatus = rs.status ?? { replicas: 0 };
      if ((st.availableReplicas ?? 0) >= (st.replicas ?? 0)) continue;
      const next = { ...rs, status: { ...st, availableReplicas: (st.availableReplicas ?? 0) + 1, readyReplicas: (st.readyReplicas ?? 0) + 1 } } as ReplicaSet;
      this.rss.set(name, next);
      this.emitRS(next);
      this.check();
      return true;
    }
    return false;
  }

  calls_(type: Call['type']): Call[] {
    return this.calls.filter((c) => c.type === type);
  }
}

type DeploymentActor = Actor<ReturnType<Cluster['machine']>>;

interface Harness {
  clock: SimulatedClock;
  cluster: Cluster;
  actor: DeploymentActor;
  deliver(filter?: (e: DeploymentEvent) => boolean): void;
  idle(): Promise<void>;
  run(opts?: { ready?: boolean; maxSteps?: number }): Promise<void>;
  state(): string;
  restart(snapshot: unknown): void;
}

function harness(deployment: Deployment, opts: { expectationTimeoutMs?: number; retryDelayMs?: number; failures?: Cluster['failures'] } = {}): Harness {
  const clock = new SimulatedClock();
  clock.set(T0);
  const cluster = new Cluster(clock, deployment);
  Object.assign(cluster.failures, opts.failures ?? {});
  const input = (): DeploymentInput => ({ deployment: structuredClone(cluster.deployment), now: clock.now(), expectationTimeoutMs: opts.expectationTimeoutMs ?? 30_000, retryDelayMs: opts.retryDelayMs ?? 1000 });
  const h: Harness = {
    clock,
    cluster,
    actor: createActor(cluster.machine(), { clock, input: input() }).start(),
    deliver(filter = () => true) {
      const now = [...cluster.queue];
      cluster.queue = now.filter((e) => !filter(e));
      for (const e of now.filter(filter)) h.actor.send({ ...e, now: clock.now() });
    },
    async idle() {
      await waitFor(h.actor, (s) => !s.matches('Applying'), { timeout: 2000 });
    },
    async run({ ready = true, maxSteps = 2000 } = {}) {
      for (let i = 0; i < maxSteps; i++) {
        await h.idle();
        if (cluster.queue.length) {
          h.deliver();
          continue;
        }
        clock.increment(1000); // time passes between changes in the cluster
        if (cluster.syncStatuses()) continue;
        if (ready && cluster.makeReady()) continue;
        if (h.actor.getSnapshot().matches('Steady')) return;
      }
      throw new Error(`no steady state; in ${h.state()}`);
    },
    state() {
      return JSON.stringify(h.actor.getSnapshot().value);
    },
    restart(snapshot: unknown) {
      h.actor.stop();
      h.actor = createActor(cluster.machine(), { clock, input: input(), snapshot: snapshot as Snapshot<unknown> as never }).start();
    },
  };
  // The host feeds the namespace's ReplicaSets, then says the caches are complete.
  h.actor.send({ type: 'RESYNC', now: clock.now(), replicaSets: cluster.list() });
  return h;
}

/** Rolls out: starts the check of invariants and edits the template. */
function rollTo(h: Harness, image: string): void {
  h.cluster.checking = true;
  h.cluster.maxTotal = 0;
  h.cluster.minAvailable = Infinity;
  h.cluster.edit((d) => {
    d.spec!.template.spec!.containers[0].image = image;
  });
}

const names = (h: Harness) => h.cluster.list().map((rs) => `${rs.metadata!.name}:${rs.spec!.replicas}@${rs.metadata!.annotations![REVISION_ANNOTATION]}`);
const progressing = (s: DeploymentStatus | undefined) => s?.conditions?.find((c) => c.type === 'Progressing');
const available = (s: DeploymentStatus | undefined) => s?.conditions?.find((c) => c.type === 'Available');

// ---------------------------------------------------------------------------------------

t.test('a new deployment creates its ReplicaSet: revision 1, all replicas, then reports it available', async (t) => {
  const h = harness(makeDeployment({ replicas: 3 }));
  await h.run();
  const [create] = h.cluster.calls_('create') as Array<{ input: CreateReplicaSetInput }>;
  const rs = create.input.replicaSet;
  t.match(rs.metadata, { name: /^web-[bcdfghjklmnpqrstvwxz2456789]+$/, annotations: { [REVISION_ANNOTATION]: '1' } });
  t.equal(rs.spec!.replicas, 3);
  t.same(h.cluster.calls.map((c) => c.type), ['create', 'annotate'], 'one create, the revision on the deployment, nothing else');
  t.same(h.cluster.calls_('annotate')[0].input, { namespace: 'default', name: 'web', uid: 'dep-uid', annotations: { [REVISION_ANNOTATION]: '1' } });
  t.equal(h.cluster.deployment.metadata!.annotations![REVISION_ANNOTATION], '1');

  const status = h.cluster.deployment.status!;
  t.match(status, { observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 });
  t.notOk('unavailableReplicas' in status);
  t.match(available(status), { status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' });
  t.match(progressing(status), { status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${rs.metadata!.name}" has successfully progressed.` });
  t.equal(h.state(), '{"Steady":"Idle"}');

  // publishStatus only on change: every published status differs from the one before.
  for (let i = 1; i < h.cluster.statuses.length; i++) t.not(JSON.stringify(h.cluster.statuses[i]), JSON.stringify(h.cluster.statuses[i - 1]));
  const published = h.cluster.statuses.length;
  h.actor.send({ type: 'RESYNC', now: h.clock.now() });
  h.actor.send({ type: 'DEPLOYMENT_UPDATED', deployment: h.cluster.deployment, now: h.clock.now() });
  await h.run();
  t.equal(h.cluster.statuses.length, published, 'resyncs change nothing');
  t.equal(h.cluster.calls.length, 2);
  h.actor.stop();
});

t.test('a template change rolls to a new ReplicaSet (revision 2) within maxSurge / maxUnavailable', async (t) => {
  for (const strategy of [
    { replicas: 4, maxSurge: 1, maxUnavailable: 0 },
    { replicas: 10, maxSurge: '25%', maxUnavailable: '25%' },
    { replicas: 5, maxSurge: 0, maxUnavailable: 2 },
    { replicas: 3, maxSurge: 2, maxUnavailable: 1 },
  ]) {
    const d = makeDeployment({ replicas: strategy.replicas, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: strategy.maxSurge, maxUnavailable: strategy.maxUnavailable } } });
    const h = harness(d);
    await h.run();
    const creates = h.cluster.calls_('create').length;
    rollTo(h, 'nginx:2');
    await h.run();
    const label = `${strategy.replicas} replicas, maxSurge ${strategy.maxSurge}, maxUnavailable ${strategy.maxUnavailable}`;
    const surge = maxSurge(d);
    const unavailable = maxUnavailable(d);
    t.ok(h.cluster.maxTotal <= strategy.replicas + surge, `${label}: at most ${strategy.replicas + surge} pods (saw ${h.cluster.maxTotal})`);
    t.ok(h.cluster.minAvailable >= strategy.replicas - unavailable, `${label}: at least ${strategy.replicas - unavailable} available (saw ${h.cluster.minAvailable})`);
    if (strategy.maxUnavailable === 0) t.equal(h.cluster.minAvailable, strategy.replicas, `${label}: never below desired`);
    t.equal(h.cluster.calls_('create').length, creates + 1, `${label}: one new ReplicaSet`);
    const [v1, v2] = h.cluster.list();
    t.equal(v1.spec!.replicas, 0, `${label}: old scaled to 0`);
    t.equal(v2.spec!.replicas, strategy.replicas, `${label}: new at full size`);
    t.equal(v2.metadata!.annotations![REVISION_ANNOTATION], '2');
    t.equal(h.cluster.deployment.metadata!.annotations![REVISION_ANNOTATION], '2');
    t.match(h.cluster.deployment.status, { observedGeneration: 2, replicas: strategy.replicas, updatedReplicas: strategy.replicas, availableReplicas: strategy.replicas });
    t.match(progressing(h.cluster.deployment.status), { reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${v2.metadata!.name}" has successfully progressed.` });
    h.actor.stop();
  }
});

t.test('the rollout moves step by step: surge, wait for availability, scale old down', async (t) => {
  const h = harness(makeDeployment({ replicas: 2, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } }));
  await h.run();
  rollTo(h, 'nginx:2');
  await h.run();
  const [v1, v2] = h.cluster.list().map((rs) => rs.metadata!.name);
  const scaling = h.cluster.calls.filter((c) => c.type !== 'annotate').map((c) => (c.type === 'create' ? `create ${c.input.replicaSet.metadata!.name}=${c.input.replicaSet.spec!.replicas}` : c.type === 'update' ? `${c.input.name}=${c.input.replicas}` : c.type));
  t.same(scaling, [`create ${v1}=2`, `create ${v2}=1`, `${v1}=1`, `${v2}=2`, `${v1}=0`]);
  h.actor.stop();
});

t.test('Recreate scales the old ReplicaSet to 0, waits for its pods to go, then creates the new one', async (t) => {
  const h = harness(makeDeployment({ replicas: 3, strategy: { type: 'Recreate' } }));
  await h.run();
  rollTo(h, 'nginx:2');
  await h.run();
  const [v1, v2] = h.cluster.list();
  const steps = h.cluster.calls.filter((c) => c.type === 'create' || c.type === 'update').map((c) => (c.type === 'create' ? `create=${c.input.replicaSet.spec!.replicas}` : `${c.input.name === v1.metadata!.name ? 'old' : 'new'}=${c.input.replicas}`));
  t.same(steps, ['create=3', 'old=0', 'create=3']);
  t.same(h.cluster.oldPodsAtCreate, [0, 0], 'the new ReplicaSet was created when no old pod was left');
  t.equal(v1.spec!.replicas, 0);
  t.equal(v2.spec!.replicas, 3);
  t.equal(v2.metadata!.annotations![REVISION_ANNOTATION], '2');
  t.equal(h.cluster.minAvailable, 0, 'Recreate has downtime, by design');
  h.actor.stop();
});

t.test('undo: a template equal to revision 1 reuses that ReplicaSet and gives it revision 3', async (t) => {
  const h = harness(makeDeployment({ replicas: 3 }));
  await h.run();
  rollTo(h, 'nginx:2');
  await h.run();
  const [v1, v2] = h.cluster.list().map((rs) => rs.metadata!.name!);
  const creates = h.cluster.calls_('create').length;
  // kubectl rollout undo copies revision 1's template (without pod-template-hash) into the deployment.
  rollTo(h, 'nginx:1');
  await h.run();
  t.equal(h.cluster.calls_('create').length, creates, 'no new ReplicaSet');
  const back = h.cluster.rss.get(v1)!;
  t.equal(back.spec!.replicas, 3);
  t.equal(back.metadata!.annotations![REVISION_ANNOTATION], '3');
  t.equal(back.metadata!.annotations![REVISION_HISTORY_ANNOTATION], '1');
  t.equal(h.cluster.rss.get(v2)!.spec!.replicas, 0);
  t.equal(h.cluster.deployment.metadata!.annotations![REVISION_ANNOTATION], '3');
  t.match(progressing(h.cluster.deployment.status), { reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${v1}" has successfully progressed.` });
  t.ok(h.cluster.minAvailable >= 3 - maxUnavailable(h.cluster.deployment));
  h.actor.stop();
});

t.test('a paused deployment does not roll but scales; resumed, it rolls', async (t) => {
  const h = harness(makeDeployment({ replicas: 3 }));
  await h.run();
  const creates = h.cluster.calls_('create').length;
  h.cluster.edit((d) => {
    d.spec!.paused = true;
  });
  await h.run();
  t.match(progressing(h.cluster.deployment.status), { status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' });
  h.cluster.edit((d) => {
    d.spec!.template.spec!.containers[0].image = 'nginx:2';
    d.spec!.replicas = 5;
  });
  await h.run();
  t.equal(h.cluster.calls_('create').length, creates, 'no rollout while paused');
  const [v1] = h.cluster.list();
  t.equal(v1.spec!.replicas, 5, 'but the scale applies');
  t.match(v1.metadata!.annotations, { 'deployment.kubernetes.io/desired-replicas': '5', 'deployment.kubernetes.io/max-replicas': '7' });
  t.match(h.cluster.deployment.status, { replicas: 5, availableReplicas: 5 });
  t.notOk('updatedReplicas' in h.cluster.deployment.status!, 'no new ReplicaSet: 0 updated (omitted)');
  t.match(progressing(h.cluster.deployment.status), { reason: 'DeploymentPaused' });

  // Paused long past the deadline, then resumed: the deadline counts from the resume.
  h.clock.increment(3_600_000);
  const resumedAt = h.clock.now();
  const published = h.cluster.statuses.length;
  rollTo(h, 'nginx:2');
  h.cluster.edit((d) => {
    d.spec!.paused = false;
  });
  await h.run();
  t.equal(h.cluster.calls_('create').length, creates + 1);
  const first = progressing(h.cluster.statuses[published])!;
  t.match(first, { status: 'True', reason: 'NewReplicaSetCreated' }, 'resumed: Progressing restarts');
  t.equal(first.lastUpdateTime, nowTimestamp(resumedAt), 'from the time of the resume');
  t.notOk(h.cluster.statuses.some((s) => progressing(s)?.reason === 'ProgressDeadlineExceeded'), 'time paused does not count');
  t.match(progressing(h.cluster.deployment.status), { reason: 'NewReplicaSetAvailable' });
  t.same(names(h).map((n) => n.replace(/^web-\w+/, 'rs')), ['rs:0@1', 'rs:5@2']);
  h.actor.stop();
});

t.test('progress deadline: no progress for progressDeadlineSeconds → ProgressDeadlineExceeded', async (t) => {
  const h = harness(makeDeployment({ replicas: 2, progressDeadlineSeconds: 600 }));
  await h.run({ ready: false }); // pods never become available
  const rsName = h.cluster.list()[0].metadata!.name!;
  t.match(h.cluster.statuses[0].conditions, [{ type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated' }, { type: 'Available', status: 'False' }]);
  t.match(progressing(h.cluster.deployment.status), { status: 'True', reason: 'ReplicaSetUpdated' }, 'pods created (not available) count as progress');
  t.match(available(h.cluster.deployment.status), { status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' });
  t.equal(h.state(), '{"Steady":"ProgressCheck"}', 'a timer for the deadline');

  // Some progress before the deadline moves it.
  h.clock.increment(300_000);
  h.cluster.makeReady();
  await h.run({ ready: false });
  const moved = progressing(h.cluster.deployment.status)!;
  t.match(moved, { status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${rsName}" is progressing.` });
  const progressAt = Date.parse(moved.lastUpdateTime!);

  h.clock.increment(500_000);
  t.equal(progressing(h.cluster.deployment.status)!.reason, 'ReplicaSetUpdated', 'not yet');
  h.clock.increment(110_000); // past lastUpdateTime + 600 s (+1 s): the machine's own timer fires
  await h.idle();
  const timedOut = progressing(h.cluster.statuses.at(-1))!;
  t.match(timedOut, { status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${rsName}" has timed out progressing.` });
  t.ok(Date.parse(timedOut.lastUpdateTime!) >= progressAt + 600_000);
  h.deliver();
  await h.idle();
  t.equal(h.state(), '{"Steady":"Idle"}', 'nothing more to time');
  h.actor.stop();
});

t.test('revisionHistoryLimit: the oldest ReplicaSets scaled to zero are deleted', async (t) => {
  const h = harness(makeDeployment({ replicas: 2, revisionHistoryLimit: 2 }));
  await h.run();
  for (const image of ['nginx:2', 'nginx:3', 'nginx:4', 'nginx:5']) {
    rollTo(h, image);
    await h.run();
  }
  t.same(
    h.cluster.list().map((rs) => `${rs.metadata!.annotations![REVISION_ANNOTATION]}:${rs.spec!.replicas}`),
    ['3:0', '4:0', '5:2'],
    'revisions 1 and 2 are gone; 2 old ones are kept',
  );
  t.same(
    h.cluster.calls_('delete').map((c) => (c.input as DeleteReplicaSetInput).name),
    [...new Set(h.cluster.calls_('delete').map((c) => (c.input as DeleteReplicaSetInput).name))],
    'each deleted once',
  );
  t.equal(h.cluster.calls_('delete').length, 2);
  h.actor.stop();
});

t.test('a slow watch never causes double scaling', async (t) => {
  const h = harness(makeDeployment({ replicas: 4, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } }), { expectationTimeoutMs: 30_000 });
  await h.run();
  rollTo(h, 'nginx:2');
  // Deliver the deployment edit and let the new ReplicaSet come up and become available.
  for (let i = 0; i < 20 && h.cluster.calls_('update').length === 0; i++) {
    await h.idle();
    h.deliver();
    h.cluster.syncStatuses();
    h.cluster.makeReady();
  }
  await h.idle();
  const updates = h.cluster.calls_('update');
  t.equal(updates.length, 1, 'the old ReplicaSet scaled down once');
  t.equal(h.state(), '"Awaiting"');
  const oldName = (updates[0].input as UpdateReplicaSetInput).name;

  // Its echo is late; everything else arrives (status changes, resyncs): no second scale-down.
  for (let i = 0; i < 5; i++) {
    h.cluster.syncStatuses();
    h.deliver((e) => !(e.type === 'RS_UPSERT' && e.rs.metadata!.name === oldName && e.rs.spec!.replicas === 3));
    h.actor.send({ type: 'RESYNC', now: h.clock.now() });
    h.clock.increment(1000);
    await h.idle();
  }
  t.equal(h.cluster.calls_('update').length, 1, 'still one');
  t.equal(h.state(), '"Awaiting"');

  // The echo arrives: the rollout continues and completes within its bounds.
  await h.run();
  t.ok(h.cluster.maxTotal <= 5);
  t.equal(h.cluster.minAvailable, 4);
  const sizes = h.cluster.calls_('update').filter((c) => (c.input as UpdateReplicaSetInput).name === oldName).map((c) => (c.input as UpdateReplicaSetInput).replicas);
  t.same(sizes, [3, 2, 1, 0], 'one step at a time');
  h.actor.stop();
});

t.test('a lost watch event: the expectation times out and planning resumes (idempotent absolute sizes)', async (t) => {
  const h = harness(makeDeployment({ replicas: 2, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } }), { expectationTimeoutMs: 10_000 });
  await h.run();
  rollTo(h, 'nginx:2');
  h.deliver();
  await h.idle();
  t.equal(h.state(), '"Awaiting"');
  const before = h.cluster.calls.length;
  h.cluster.queue = h.cluster.queue.filter((e) => e.type !== 'RS_UPSERT'); // the create's echo is lost
  h.clock.increment(10_000);
  await h.idle();
  t.ok(h.cluster.calls.length > before, 'planned again after the timeout');
  t.equal(h.cluster.calls[before].type, 'create', 'the same create again (AlreadyExists is fine)');
  t.equal(h.cluster.calls_('create').length, 3, 'v1, v2 and v2 again');
  // The host's periodic full resync repairs the cache.
  h.actor.send({ type: 'RESYNC', now: h.clock.now(), replicaSets: h.cluster.list() });
  await h.run();
  t.match(progressing(h.cluster.deployment.status), { reason: 'NewReplicaSetAvailable' });
  t.equal(h.cluster.list().length, 2);
  h.actor.stop();
});

t.test('a failed write backs off and is retried; a failed create is reported', async (t) => {
  const h = harness(makeDeployment({ replicas: 2 }), { retryDelayMs: 1000, failures: { create: 2 } });
  await h.idle();
  t.equal(h.state(), '"BackingOff"');
  t.match(progressing(h.cluster.statuses.at(-1)), { status: 'False', reason: 'ReplicaSetCreateError', message: /^Failed to create new replica set "web-\w+": create refused$/ });
  t.equal(h.actor.getSnapshot().context.lastError, 'create refused');
  h.clock.increment(999);
  await h.idle();
  t.equal(h.cluster.calls_('create').length, 1, 'not before the delay');
  h.clock.increment(1);
  await h.idle();
  t.equal(h.cluster.calls_('create').length, 2);
  t.equal(h.state(), '"BackingOff"');
  h.clock.increment(1999);
  await h.idle();
  t.equal(h.cluster.calls_('create').length, 2, 'the delay doubles');
  h.clock.increment(1);
  await h.run();
  t.equal(h.cluster.calls_('create').length, 3);
  t.match(progressing(h.cluster.deployment.status), { status: 'True', reason: 'NewReplicaSetAvailable' });
  t.equal(h.actor.getSnapshot().context.failures, 0);
  h.actor.stop();
});

t.test('a deployment being deleted does nothing', async (t) => {
  const d = makeDeployment();
  (d.metadata as Meta).deletionTimestamp = nowTimestamp(T0);
  const h = harness(d);
  await h.run();
  h.actor.send({ type: 'RESYNC', now: h.clock.now() });
  await h.run();
  t.same(h.cluster.calls, []);
  t.same(h.cluster.statuses, []);
  h.actor.stop();
});

t.test('persisted through JSON and restored mid-rollout, the rollout finishes without duplicate effects', async (t) => {
  const make = () => makeDeployment({ replicas: 6, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 2, maxUnavailable: 1 } } });
  const describe = (c: Call) => JSON.stringify(c);

  // Reference: the same script, uninterrupted.
  const ref = harness(make());
  await ref.run();
  rollTo(ref, 'nginx:2');
  await ref.run();
  ref.actor.stop();

  // Awaiting the watch (writes made, echoes queued) when the control plane dies.
  const h = harness(make());
  await h.run();
  rollTo(h, 'nginx:2');
  for (let i = 0; i < 200 && h.cluster.calls_('update').length < 2; i++) {
    await h.idle();
    if (h.cluster.queue.length) h.deliver();
    else {
      h.clock.increment(1000);
      if (!h.cluster.syncStatuses()) h.cluster.makeReady();
    }
  }
  await h.idle();
  t.equal(h.state(), '"Awaiting"', 'stopped while waiting for the watch');
  const persisted = JSON.parse(JSON.stringify(h.actor.getPersistedSnapshot()));
  h.restart(persisted);
  t.equal(h.state(), '"Awaiting"', 'restored where it was');
  h.actor.send({ type: 'RESYNC', now: h.clock.now() }); // the host after a restore
  await h.run();
  t.same(h.cluster.calls.map(describe), ref.cluster.calls.map(describe), 'exactly the effects of the uninterrupted rollout');
  t.same(names(h), names(ref));
  t.match(progressing(h.cluster.deployment.status), { reason: 'NewReplicaSetAvailable' });
  t.ok(h.cluster.maxTotal <= 8 && h.cluster.minAvailable >= 5);

  // An effect in flight when the control plane dies is made again (idempotent) by the restored actor.
  const g = harness(make());
  await g.run();
  rollTo(g, 'nginx:2');
  g.cluster.hold = true;
  for (let i = 0; i < 200 && g.cluster.calls_('update').length < 2; i++) {
    if (g.cluster.held.length) g.cluster.held.splice(0).forEach((resolve) => resolve());
    await new Promise((r) => setImmediate(r));
    if (g.actor.getSnapshot().matches('Applying')) continue;
    if (g.cluster.queue.length) g.deliver();
    else {
      g.clock.increment(1000);
      if (!g.cluster.syncStatuses()) g.cluster.makeReady();
    }
  }
  t.ok(g.actor.getSnapshot().matches({ Applying: 'Updating' }), 'stopped in the middle of a write');
  const inFlight = g.cluster.calls.at(-1)!;
  const snapshot = JSON.parse(JSON.stringify(g.actor.getPersistedSnapshot()));
  g.cluster.hold = false;
  g.restart(snapshot);
  g.actor.send({ type: 'RESYNC', now: g.clock.now() });
  await g.run();
  const calls = g.cluster.calls.map(describe);
  const at = calls.indexOf(describe(inFlight));
  t.equal(calls[at + 1], describe(inFlight), 'the write in flight is made once more');
  t.same([...calls.slice(0, at), ...calls.slice(at + 1)], ref.cluster.calls.map(describe), 'otherwise the same effects');
  t.match(progressing(g.cluster.deployment.status), { reason: 'NewReplicaSetAvailable' });
  g.actor.stop();
});

t.test('status counts and conditions along a rollout', async (t) => {
  const h = harness(makeDeployment({ replicas: 3, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } }));
  await h.run();
  rollTo(h, 'nginx:2');
  await h.run();
  const seen = h.cluster.statuses.filter((s) => s.observedGeneration === 2);
  t.ok(seen.length > 3);
  for (const s of seen) {
    t.ok((s.replicas ?? 0) <= 4, 'replicas never above 3 + 1');
    t.ok((s.availableReplicas ?? 0) >= 3, 'available never below 3');
    t.ok((s.updatedReplicas ?? 0) <= (s.replicas ?? 0));
    t.equal(available(s)!.status, 'True');
  }
  t.same(seen.map((s) => progressing(s)!.reason).filter((r, i, a) => r !== a[i - 1]), ['NewReplicaSetCreated', 'ReplicaSetUpdated', 'NewReplicaSetAvailable']);
  const last = h.cluster.deployment.status!;
  t.same(Object.keys(last).sort(), ['availableReplicas', 'conditions', 'observedGeneration', 'readyReplicas', 'replicas', 'updatedReplicas']);
  t.same(last.conditions!.map((c) => c.type), ['Available', 'Progressing']);
  const p = progressing(last)!;
  t.ok(Date.parse(p.lastTransitionTime!) < Date.parse(p.lastUpdateTime!), 'lastTransitionTime stays while Progressing stays True');
  h.actor.stop();
});
