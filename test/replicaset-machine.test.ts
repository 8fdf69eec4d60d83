import t from 'tap';
import { createActor, fromPromise, SimulatedClock, type Snapshot } from 'xstate';
import type { ReplicaSet, ReplicaSetStatus } from 'kubernetes-types/apps/v1.js';
import type { Pod } from '../protocol/objects.js';
import {
  comparePodsForDeletion,
  podFromTemplate,
  rankPodsForDeletion,
  reconcileReplicaSet,
  replicaSetMachine,
  type CreatePodsInput,
  type CreatePodsOutput,
  type PodsEffectInput,
  type ReplicaSetEvent,
} from '../actors/replicaset/index.js';

const T0 = Date.parse('2024-01-01T00:00:00Z');
const RS_UID = 'rs-uid';
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

function rs(opts: { replicas?: number; minReadySeconds?: number; generation?: number; deleting?: boolean; status?: ReplicaSetStatus } = {}): ReplicaSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: 'web',
      namespace: 'default',
      uid: RS_UID,
      generation: opts.generation ?? 1,
      ...(opts.deleting ? { deletionTimestamp: iso(T0) } : {}),
    },
    spec: {
      replicas: opts.replicas ?? 3,
      minReadySeconds: opts.minReadySeconds,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web', tier: 'front' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
    },
    ...(opts.status ? { status: opts.status } : {}),
  };
}

interface PodOpts {
  owner?: string | null; // uid of the controller; null = orphan
  labels?: Record<string, string>;
  node?: string;
  phase?: string;
  ready?: boolean;
  readySince?: number;
  restarts?: number;
  created?: number;
  deleting?: boolean;
  uid?: string;
}

function pod(name: string, o: PodOpts = {}): Pod {
  const owner = o.owner === undefined ? RS_UID : o.owner;
  const ready = o.ready ?? (o.phase ?? 'Running') === 'Running';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      uid: o.uid ?? `uid-${name}`,
      labels: o.labels ?? { app: 'web', tier: 'front' },
      creationTimestamp: iso(o.created ?? T0 - 60_000),
      ...(owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: owner, controller: true }] } : {}),
      ...(o.deleting ? { deletionTimestamp: iso(T0) } : {}),
    },
    spec: { containers: [{ name: 'c', image: 'nginx' }], ...(o.node !== undefined ? { nodeName: o.node } : { nodeName: 'n1' }) },
    status: {
      phase: o.phase ?? 'Running',
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: iso(o.readySince ?? T0 - 60_000) }],
      containerStatuses: [{ name: 'c', image: 'nginx', imageID: '', ready, restartCount: o.restarts ?? 0 }],
    },
  };
}

const names = (refs: { name: string }[]) => refs.map((r) => r.name);
/** Lets settled promises deliver their results (the effect actors are async). */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

type Impl<I, O> = (input: I, call: number) => Promise<O> | O;

function harness(
  opts: {
    rs?: ReplicaSet;
    create?: Impl<CreatePodsInput, CreatePodsOutput>;
    del?: Impl<PodsEffectInput, void>;
    adopt?: Impl<PodsEffectInput, void>;
    release?: Impl<PodsEffectInput, void>;
    snapshot?: Snapshot<unknown>;
    input?: { expectationTimeoutMs?: number; retryDelayMs?: number; burstReplicas?: number };
    now?: number;
  } = {},
) {
  const clock = new SimulatedClock();
  const calls = { create: [] as CreatePodsInput[], delete: [] as PodsEffectInput[], adopt: [] as PodsEffectInput[], release: [] as PodsEffectInput[] };
  const statuses: ReplicaSetStatus[] = [];
  /** Effects in the order they started. */
  const log: string[] = [];
  const machine = replicaSetMachine.provide({
    actors: {
      createPods: fromPromise<CreatePodsOutput, CreatePodsInput>(async ({ input }) => {
        calls.create.push(input);
        log.push('create');
        return opts.create ? opts.create(input, calls.create.length) : { created: input.count };
      }),
      deletePods: fromPromise<void, PodsEffectInput>(async ({ input }) => {
        calls.delete.push(input);
        log.push('delete');
        return opts.del?.(input, calls.delete.length);
      }),
      adoptPods: fromPromise<void, PodsEffectInput>(async ({ input }) => {
        calls.adopt.push(input);
        log.push('adopt');
        return opts.adopt?.(input, calls.adopt.length);
      }),
      releasePods: fromPromise<void, PodsEffectInput>(async ({ input }) => {
        calls.release.push(input);
        log.push('release');
        return opts.release?.(input, calls.release.length);
      }),
    },
    actions: { publishStatus: (_, status) => void statuses.push(status) },
  });
  const input = { rs: opts.rs ?? rs(), now: opts.now ?? T0, ...opts.input };
  const actor = createActor(machine, { clock, input, ...(opts.snapshot ? { snapshot: opts.snapshot as never } : {}) }).start();
  let now = opts.now ?? T0;
  return {
    clock,
    actor,
    calls,
    log,
    statuses,
    get now() {
      return now;
    },
    /** Moves host time and the simulated clock together. */
    async advance(ms: number) {
      now += ms;
      clock.increment(ms);
      await flush();
    },
    async send(...events: (ReplicaSetEvent extends infer E ? (E extends { now: number } ? Omit<E, 'now'> : never) : never)[]) {
      for (const e of events) actor.send({ ...e, now } as ReplicaSetEvent);
      await flush();
    },
    upsert: (...pods: Pod[]) => pods.map((p) => ({ type: 'POD_UPSERT' as const, pod: p })),
    state: () => actor.getSnapshot().value,
    lastStatus: () => statuses[statuses.length - 1],
  };
}

// ---------------------------------------------------------------------------------------
// Ranking and the pure decision

t.test('deletion ranking follows kube ActivePods', async (t) => {
  const unassigned = pod('unassigned', { node: '', phase: 'Pending', ready: false });
  const pending = pod('pending', { phase: 'Pending', ready: false });
  const unknown = pod('unknown', { phase: 'Unknown', ready: false });
  const notReady = pod('not-ready', { ready: false });
  const readyNoTime = pod('ready-unknown-time');
  readyNoTime.status!.conditions = [{ type: 'Ready', status: 'True' }];
  const readyRecent = pod('ready-recent', { readySince: T0 - 1_000 });
  const readyOld = pod('ready-old', { readySince: T0 - 100_000 });
  const restarts = pod('ready-old-restarts', { readySince: T0 - 100_000, restarts: 3 });
  const newer = pod('ready-old-newer', { readySince: T0 - 100_000, created: T0 - 1_000 });
  const older = pod('ready-old-older', { readySince: T0 - 100_000, created: T0 - 500_000 });
  const ranked = rankPodsForDeletion([older, readyOld, newer, restarts, readyRecent, readyNoTime, notReady, unknown, pending, unassigned]);
  t.same(
    ranked.map((p) => p.metadata!.name),
    ['unassigned', 'pending', 'unknown', 'not-ready', 'ready-unknown-time', 'ready-recent', 'ready-old-restarts', 'ready-old-newer', 'ready-old', 'ready-old-older'],
  );
  t.equal(comparePodsForDeletion(readyOld, readyOld), 0);
  t.ok(comparePodsForDeletion(pod('a'), pod('b')) < 0, 'ties broken by name');
});

t.test('reconcileReplicaSet: claim, scale and status', async (t) => {
  t.test('scale up from nothing', async (t) => {
    const plan = reconcileReplicaSet(rs({ replicas: 3 }), [], T0);
    t.same(plan, { adopt: [], release: [], create: 3, delete: [], status: { replicas: 0, fullyLabeledReplicas: 0, readyReplicas: 0, availableReplicas: 0, observedGeneration: 1 } });
  });

  t.test('adopts orphans, releases mismatches, ignores others, terminal and deleting pods', async (t) => {
    const pods = [
      pod('owned'),
      pod('orphan', { owner: null }),
      pod('orphan-other-labels', { owner: null, labels: { app: 'db' } }),
      pod('relabelled', { labels: { app: 'other' } }),
      pod('foreign', { owner: 'someone-else' }),
      pod('failed', { phase: 'Failed', ready: false }),
      pod('orphan-failed', { owner: null, phase: 'Failed', ready: false }),
      pod('deleting', { deleting: true }),
      pod('orphan-deleting', { owner: null, deleting: true }),
      { ...pod('elsewhere', { owner: null }), metadata: { ...pod('elsewhere', { owner: null }).metadata, namespace: 'other' } },
    ];
    const plan = reconcileReplicaSet(rs({ replicas: 3 }), pods, T0);
    t.same(names(plan.adopt), ['orphan']);
    t.same(names(plan.release), ['relabelled']);
    t.equal(plan.create, 1, 'owned + orphan active: one more');
    t.same(plan.delete, []);
    t.equal(plan.status.replicas, 2);
  });

  t.test('nothing is claimed or scaled while the ReplicaSet is being deleted', async (t) => {
    const plan = reconcileReplicaSet(rs({ replicas: 5, deleting: true }), [pod('owned'), pod('orphan', { owner: null }), pod('relabelled', { labels: { x: 'y' } })], T0);
    t.same([plan.adopt, plan.release, plan.create, plan.delete], [[], [], 0, []]);
    t.equal(plan.status.replicas, 1);
  });

  t.test('scale down picks the lowest-ranked, capped by burstReplicas', async (t) => {
    const pods = [pod('a', { readySince: T0 - 50_000 }), pod('b', { node: '', phase: 'Pending', ready: false }), pod('c', { ready: false }), pod('d', { readySince: T0 - 10_000 })];
    t.same(names(reconcileReplicaSet(rs({ replicas: 1 }), pods, T0).delete), ['b', 'c', 'd']);
    t.same(names(reconcileReplicaSet(rs({ replicas: 1 }), pods, T0, { burstReplicas: 2 }).delete), ['b', 'c']);
    t.equal(reconcileReplicaSet(rs({ replicas: 10 }), pods, T0, { burstReplicas: 2 }).create, 2);
    t.equal(reconcileReplicaSet(rs({ replicas: 0 }), pods, T0).delete.length, 4);
  });

  t.test('status: fully labelled, ready, available with minReadySeconds', async (t) => {
    const pods = [
      pod('old', { readySince: T0 - 20_000 }),
      pod('fresh', { readySince: T0 - 5_000 }),
      pod('fresher', { readySince: T0 - 2_000 }),
      pod('not-ready', { ready: false }),
      pod('partial-labels', { labels: { app: 'web' }, ready: false }),
    ];
    const plan = reconcileReplicaSet(rs({ replicas: 5, minReadySeconds: 10, generation: 7 }), pods, T0);
    t.same(plan.status, { replicas: 5, fullyLabeledReplicas: 4, readyReplicas: 3, availableReplicas: 1, observedGeneration: 7 });
    t.equal(plan.nextAvailableCheckMs, 5_000);
    const later = reconcileReplicaSet(rs({ replicas: 5, minReadySeconds: 10 }), pods, T0 + 5_000);
    t.equal(later.status.availableReplicas, 2, 'available at exactly minReadySeconds');
    t.equal(later.nextAvailableCheckMs, 3_000);
    t.notOk('nextAvailableCheckMs' in reconcileReplicaSet(rs({ replicas: 5 }), pods, T0), 'no minReadySeconds: nothing to wait for');
  });

  t.test('replicas defaults to 1; podFromTemplate carries labels and the controller reference', async (t) => {
    const r = rs();
    delete r.spec!.replicas;
    t.equal(reconcileReplicaSet(r, [], T0).create, 1);
    const p = podFromTemplate(r);
    t.equal(p.metadata!.generateName, 'web-');
    t.same(p.metadata!.labels, { app: 'web', tier: 'front' });
    t.same(p.metadata!.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: RS_UID, controller: true, blockOwnerDeletion: true }]);
    t.equal(p.spec!.containers[0].image, 'nginx');
  });
});

// ---------------------------------------------------------------------------------------
// The machine

t.test('waits for the caches before acting', async (t) => {
  const h = harness();
  await h.send({ type: 'RS_UPDATED', rs: rs() });
  t.equal(h.calls.create.length, 0, 'no decision before the first RESYNC');
  t.equal(h.state(), 'WaitingForCaches');
  await h.send({ type: 'RESYNC' });
  t.equal(h.calls.create.length, 1);
});

t.test('scale up 0 → 3: one create of 3, not repeated before the pods are seen', async (t) => {
  const h = harness({ rs: rs({ replicas: 0 }) });
  await h.send({ type: 'RESYNC' });
  t.same(h.state(), { Watching: 'InSync' });
  t.equal(h.calls.create.length, 0);
  await h.send({ type: 'RS_UPDATED', rs: rs({ replicas: 3, generation: 2 }) });
  t.equal(h.calls.create.length, 1);
  t.equal(h.calls.create[0].count, 3);
  t.equal(h.calls.create[0].rs.spec!.replicas, 3);
  t.same(h.state(), { Watching: 'WaitingForPods' });
  await h.send({ type: 'RS_UPDATED', rs: rs({ replicas: 3, generation: 2 }) }, { type: 'RESYNC' }, { type: 'RS_UPDATED', rs: rs({ replicas: 3, generation: 2 }) });
  t.equal(h.calls.create.length, 1, 'expectations hold further creates');
  await h.send(...h.upsert(pod('web-a'), pod('web-b')));
  t.equal(h.calls.create.length, 1, 'still one missing, but expected');
  await h.send(...h.upsert(pod('web-c')));
  t.same(h.state(), { Watching: 'InSync' });
  await h.send({ type: 'RESYNC' }, ...h.upsert(pod('web-a')));
  t.equal(h.calls.create.length, 1, 'pods seen: nothing more to create');
  t.same(h.lastStatus(), { replicas: 3, fullyLabeledReplicas: 3, readyReplicas: 3, availableReplicas: 3, observedGeneration: 2 });
});

t.test('a pod seen before createPods resolves counts for the expectations', async (t) => {
  let resolve!: (v: CreatePodsOutput) => void;
  const h = harness({ rs: rs({ replicas: 1 }), create: () => new Promise((r) => (resolve = r)) });
  await h.send({ type: 'RESYNC' });
  t.equal(h.state(), 'Creating');
  await h.send(...h.upsert(pod('web-a')));
  resolve({ created: 1 });
  await flush();
  t.same(h.state(), { Watching: 'InSync' });
  t.equal(h.calls.create.length, 1);
});

t.test('scale down 3 → 1 deletes the unscheduled and the not-ready pod', async (t) => {
  const h = harness({ rs: rs({ replicas: 3 }) });
  const ready = pod('ready', { readySince: T0 - 30_000 });
  const unscheduled = pod('unscheduled', { node: '', phase: 'Pending', ready: false });
  const notReady = pod('not-ready', { ready: false });
  await h.send(...h.upsert(ready, unscheduled, notReady), { type: 'RESYNC' });
  t.same(h.state(), { Watching: 'InSync' });
  await h.send({ type: 'RS_UPDATED', rs: rs({ replicas: 1 }) });
  t.equal(h.calls.delete.length, 1);
  t.same(h.calls.delete[0].pods, [{ name: 'unscheduled', uid: 'uid-unscheduled' }, { name: 'not-ready', uid: 'uid-not-ready' }]);
  t.same(h.state(), { Watching: 'WaitingForPods' });
  await h.send({ type: 'RS_UPDATED', rs: rs({ replicas: 1 }) });
  t.equal(h.calls.delete.length, 1, 'not repeated while the deletes are expected');
  await h.send(...h.upsert(pod('not-ready', { ready: false, deleting: true })), { type: 'POD_DELETE', namespace: 'default', name: 'unscheduled', uid: 'uid-unscheduled' });
  t.same(h.state(), { Watching: 'InSync' });
  t.equal(h.calls.delete.length, 1);
  t.equal(h.calls.create.length, 0);
  t.equal(h.lastStatus().replicas, 1);
});

t.test('a pod deleted behind our back is replaced once', async (t) => {
  const h = harness({ rs: rs({ replicas: 3 }) });
  await h.send(...h.upsert(pod('a'), pod('b'), pod('c')), { type: 'RESYNC' });
  t.equal(h.calls.create.length, 0);
  await h.send({ type: 'POD_DELETE', namespace: 'default', name: 'b', uid: 'uid-b' });
  t.equal(h.calls.create.length, 1);
  t.equal(h.calls.create[0].count, 1);
  await h.send({ type: 'POD_DELETE', namespace: 'default', name: 'b', uid: 'uid-b' }, { type: 'RESYNC' });
  t.equal(h.calls.create.length, 1, 'a repeated DELETE changes nothing');
  await h.send(...h.upsert(pod('d')));
  t.same(h.state(), { Watching: 'InSync' });
  t.equal(h.calls.create.length, 1);
});

t.test('orphans that match are adopted instead of creating new pods', async (t) => {
  const h = harness({ rs: rs({ replicas: 2 }) });
  await h.send(...h.upsert(pod('orphan-1', { owner: null }), pod('orphan-2', { owner: null }), pod('not-ours', { owner: null, labels: { app: 'db' } })), { type: 'RESYNC' });
  t.equal(h.calls.adopt.length, 1);
  t.same(names(h.calls.adopt[0].pods), ['orphan-1', 'orphan-2']);
  t.equal(h.calls.create.length, 0);
  t.same(h.state(), { Watching: 'InSync' });
  await h.send({ type: 'RESYNC' }, ...h.upsert(pod('orphan-1', { owner: null })));
  t.equal(h.calls.adopt.length, 2, 'a stale orphan version: adopted again (idempotent)');
  await h.send(...h.upsert(pod('orphan-1'), pod('orphan-2')), { type: 'RESYNC' });
  t.equal(h.calls.adopt.length, 2);
  t.equal(h.calls.create.length, 0);
  t.equal(h.lastStatus().replicas, 2);
});

t.test('owned pods whose labels changed are released and replaced', async (t) => {
  const h = harness({ rs: rs({ replicas: 2 }) });
  await h.send(...h.upsert(pod('a'), pod('b')), { type: 'RESYNC' });
  await h.send(...h.upsert(pod('b', { labels: { app: 'debug' } })));
  t.equal(h.calls.release.length, 1);
  t.same(h.calls.release[0].pods, [{ name: 'b', uid: 'uid-b' }]);
  t.equal(h.calls.create.length, 1, 'then one replacement');
  t.equal(h.calls.create[0].count, 1);
  t.same(h.log, ['release', 'create'], 'released first');
  await h.send(...h.upsert(pod('b', { owner: null, labels: { app: 'debug' } }), pod('c')));
  t.same(h.state(), { Watching: 'InSync' });
  t.equal(h.calls.release.length, 1);
  t.equal(h.calls.create.length, 1);
});

t.test('terminal pods are not counted', async (t) => {
  const h = harness({ rs: rs({ replicas: 3 }) });
  await h.send(...h.upsert(pod('a'), pod('b'), pod('c', { phase: 'Failed', ready: false })), { type: 'RESYNC' });
  t.equal(h.calls.create.length, 1);
  t.equal(h.calls.create[0].count, 1);
  t.equal(h.lastStatus().replicas, 2);
});

t.test('expectations expire after 5 min (kube ExpectationsTimeout) and the controller recovers lost creates', async (t) => {
  const h = harness({ rs: rs({ replicas: 3 }) });
  await h.send({ type: 'RESYNC' });
  t.equal(h.calls.create.length, 1);
  await h.advance(299_999);
  await h.send({ type: 'RS_UPDATED', rs: rs({ replicas: 3 }) }, { type: 'RESYNC' }, { type: 'RESYNC' });
  t.equal(h.calls.create.length, 1, 'still expecting: syncs meanwhile create nothing');
  await h.advance(1);
  t.equal(h.calls.create.length, 2, 'expired: try again');
  t.equal(h.calls.create[1].count, 3);
  t.equal(h.actor.getSnapshot().context.lastNow, T0 + 300_000, 'the timer advanced lastNow to its deadline');
});

t.test('creates that timed out stay expected: a burst of syncs before the watch shows them creates nothing more', async (t) => {
  const h = harness({ rs: rs({ replicas: 4 }), create: (input) => ({ created: 1, unknown: input.count - 1 }) });
  await h.send({ type: 'RESYNC' });
  t.equal(h.calls.create.length, 1);
  t.same(h.state(), { Watching: 'WaitingForPods' }, 'no back-off: nothing is known to have failed');
  t.equal(h.actor.getSnapshot().context.expectations?.adds, 4);
  for (let i = 0; i < 5; i++) {
    await h.advance(1_000);
    await h.send({ type: 'RESYNC' }, { type: 'RS_UPDATED', rs: rs({ replicas: 4 }) });
  }
  await h.send(...h.upsert(pod('web-a')));
  t.equal(h.calls.create.length, 1, 'the timed-out creates are not made again while unseen');
  await h.send(...h.upsert(pod('web-b'), pod('web-c'), pod('web-d')));
  t.same(h.state(), { Watching: 'InSync' });
  t.equal(h.calls.create.length, 1);
  t.equal(h.lastStatus().replicas, 4);
});

t.test('expectations also expire on a host event past the deadline (no timer needed)', async (t) => {
  const h = harness({ rs: rs({ replicas: 2 }), input: { expectationTimeoutMs: 10_000 } });
  await h.send({ type: 'RESYNC' });
  h.actor.send({ type: 'RESYNC', now: T0 + 10_000 });
  await flush();
  t.equal(h.calls.create.length, 2);
});

t.test('a rejected createPods is retried after the back-off', async (t) => {
  const h = harness({
    rs: rs({ replicas: 2 }),
    input: { retryDelayMs: 2_000 },
    create: (_, call) => {
      if (call === 1) throw new Error('quota exceeded');
      return { created: 2 };
    },
  });
  await h.send({ type: 'RESYNC' });
  t.equal(h.calls.create.length, 1);
  t.same(h.state(), { Watching: 'BackingOff' });
  await h.send({ type: 'RS_UPDATED', rs: rs({ replicas: 2 }) });
  await h.advance(1_999);
  t.equal(h.calls.create.length, 1, 'not before the back-off');
  await h.advance(1);
  t.equal(h.calls.create.length, 2);
  t.equal(h.calls.create[1].count, 2, 'the failed creates are no longer expected');
  t.same(h.state(), { Watching: 'WaitingForPods' });
  t.equal(h.actor.getSnapshot().context.failures, 0);
});

t.test('a partial create lowers the expectations by the pods not created and backs off', async (t) => {
  const h = harness({ rs: rs({ replicas: 3 }), input: { retryDelayMs: 1_000 }, create: (input, call) => ({ created: call === 1 ? 1 : input.count }) });
  await h.send({ type: 'RESYNC' });
  t.same(h.actor.getSnapshot().context.expectations?.adds, 1);
  await h.send(...h.upsert(pod('a')));
  t.same(h.state(), { Watching: 'BackingOff' });
  await h.advance(1_000);
  t.equal(h.calls.create.length, 2);
  t.equal(h.calls.create[1].count, 2);
});

t.test('consecutive failures back off exponentially; deletes failing lower the delete expectations', async (t) => {
  const h = harness({ rs: rs({ replicas: 0 }), input: { retryDelayMs: 1_000 }, del: () => Promise.reject(new Error('boom')) });
  await h.send(...h.upsert(pod('a')), { type: 'RESYNC' });
  t.equal(h.calls.delete.length, 1);
  t.equal(h.actor.getSnapshot().context.expectations, undefined);
  await h.advance(1_000);
  t.equal(h.calls.delete.length, 2);
  await h.advance(1_999);
  t.equal(h.calls.delete.length, 2, 'second back-off is 2 s');
  await h.advance(1);
  t.equal(h.calls.delete.length, 3);
});

t.test('status: a pod ready for 5 s with minReadySeconds 10 becomes available 5 s later', async (t) => {
  const h = harness({ rs: rs({ replicas: 1, minReadySeconds: 10 }) });
  await h.send(...h.upsert(pod('a', { readySince: T0 - 5_000 })), { type: 'RESYNC' });
  t.same(h.lastStatus(), { replicas: 1, fullyLabeledReplicas: 1, readyReplicas: 1, availableReplicas: 0, observedGeneration: 1 });
  t.same(h.state(), { Watching: 'WaitingForMinReady' });
  const published = h.statuses.length;
  await h.advance(4_999);
  t.equal(h.statuses.length, published);
  await h.advance(1);
  t.equal(h.statuses.length, published + 1);
  t.same(h.lastStatus(), { replicas: 1, fullyLabeledReplicas: 1, readyReplicas: 1, availableReplicas: 1, observedGeneration: 1 });
  t.same(h.state(), { Watching: 'InSync' });
  // The watch shows the status written; a resync then finds nothing to publish.
  await h.send({ type: 'RS_UPDATED', rs: rs({ replicas: 1, minReadySeconds: 10, status: h.lastStatus() }) }, { type: 'RESYNC' });
  t.equal(h.statuses.length, published + 1, 'unchanged status is not published again');
});

t.test('a status write lost to a crash is published again by the restored actor on resync', async (t) => {
  // The snapshot says the status was published, but the control plane died before the write landed.
  const h1 = harness({ rs: rs({ replicas: 2 }) });
  await h1.send(...h1.upsert(pod('a'), pod('b')), { type: 'RESYNC' });
  const written = h1.lastStatus();
  t.same(written, { replicas: 2, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 2, observedGeneration: 1 });
  const snapshot = JSON.parse(JSON.stringify(h1.actor.getPersistedSnapshot()));
  h1.actor.stop();

  const stored = { replicas: 2, fullyLabeledReplicas: 2, readyReplicas: 1, availableReplicas: 1, observedGeneration: 1 };
  const h2 = harness({ rs: rs({ replicas: 2, status: stored }), snapshot, now: T0 + 1_000 });
  await h2.send({ type: 'RS_UPDATED', rs: rs({ replicas: 2, status: stored }) }, ...h2.upsert(pod('a'), pod('b')));
  t.same(h2.statuses, [], 'pod events alone compare with the status last published');
  await h2.send({ type: 'RESYNC' });
  t.same(h2.statuses, [written], 'the resync compares with the stored status and writes it again');
  await h2.send({ type: 'RS_UPDATED', rs: rs({ replicas: 2, status: written }) }, { type: 'RESYNC' }, { type: 'RESYNC' });
  t.equal(h2.statuses.length, 1, 'once stored, resyncs write nothing');
});

t.test('the initial status is not republished when the ReplicaSet already reports it', async (t) => {
  const status = { replicas: 1, fullyLabeledReplicas: 1, readyReplicas: 1, availableReplicas: 1, observedGeneration: 1 };
  const h = harness({ rs: rs({ replicas: 1, status }) });
  await h.send(...h.upsert(pod('a')), { type: 'RESYNC' });
  t.same(h.statuses, []);
});

t.test('a ReplicaSet being deleted is left alone; RS_DELETE ends the actor', async (t) => {
  const h = harness({ rs: rs({ replicas: 3 }) });
  await h.send(...h.upsert(pod('orphan', { owner: null })));
  await h.send({ type: 'RS_UPDATED', rs: rs({ replicas: 3, deleting: true }) }, { type: 'RESYNC' });
  t.equal(h.state(), 'Terminating');
  await h.send({ type: 'POD_DELETE', namespace: 'default', name: 'orphan', uid: 'uid-orphan' }, { type: 'RESYNC' });
  t.same([h.calls.create.length, h.calls.adopt.length, h.statuses.length], [0, 0, 0]);
  await h.send({ type: 'RS_DELETE' });
  t.equal(h.actor.getSnapshot().status, 'done');
});

t.test('a snapshot persisted before the sharded pod cache (context.pods by name) restores with its pods', async (t) => {
  const h1 = harness({ rs: rs({ replicas: 2 }) });
  await h1.send(...h1.upsert(pod('a'), pod('b')), { type: 'RESYNC' });
  const snapshot = JSON.parse(JSON.stringify(h1.actor.getPersistedSnapshot()));
  h1.actor.stop();
  // The old layout: the same pods as one record by name.
  const byName = Object.fromEntries(Object.values(snapshot.context.podCache as Record<string, Record<string, Pod>>).flatMap((shard) => Object.entries(shard)));
  t.same(Object.keys(byName).sort(), ['a', 'b']);
  snapshot.context.pods = byName;
  delete snapshot.context.podCache;

  const h2 = harness({ rs: rs({ replicas: 3 }), snapshot, now: T0 + 1_000 });
  await h2.send({ type: 'RS_UPDATED', rs: rs({ replicas: 3 }) }, { type: 'RESYNC' });
  t.equal(h2.calls.create.length, 1);
  t.equal(h2.calls.create[0].count, 1, 'the two restored pods count: one more is created');
  await h2.send({ type: 'POD_DELETE', namespace: 'default', name: 'a', uid: 'uid-a' });
  t.equal(h2.actor.getSnapshot().context.pods, undefined, 'the old record is dropped once the cache changes');
});

t.test('persisted snapshot restores and continues without duplicate creates', async (t) => {
  t.test('restored while waiting for the pods', async (t) => {
    const h1 = harness({ rs: rs({ replicas: 3 }) });
    await h1.send({ type: 'RESYNC' });
    await h1.send(...h1.upsert(pod('web-a')));
    t.equal(h1.calls.create.length, 1);
    const snapshot = JSON.parse(JSON.stringify(h1.actor.getPersistedSnapshot()));
    h1.actor.stop();

    const h2 = harness({ rs: rs({ replicas: 3 }), snapshot, now: T0 + 1_000 });
    t.same(h2.state(), { Watching: 'WaitingForPods' });
    await h2.send({ type: 'RESYNC' }, { type: 'RS_UPDATED', rs: rs({ replicas: 3 }) });
    t.equal(h2.calls.create.length, 0, 'the restored expectations hold');
    await h2.send(...h2.upsert(pod('web-a'), pod('web-b'), pod('web-c')));
    t.same(h2.state(), { Watching: 'InSync' });
    t.equal(h2.calls.create.length, 0);
    t.equal(h2.lastStatus().replicas, 3);
  });

  t.test('restored while waiting: the expiry timer is re-armed by RESYNC', async (t) => {
    const h1 = harness({ rs: rs({ replicas: 2 }) });
    await h1.send({ type: 'RESYNC' });
    const snapshot = JSON.parse(JSON.stringify(h1.actor.getPersistedSnapshot()));
    h1.actor.stop();
    const h2 = harness({ rs: rs({ replicas: 2 }), snapshot, now: T0 + 200_000 });
    await h2.send({ type: 'RESYNC' });
    await h2.advance(99_999);
    t.equal(h2.calls.create.length, 0);
    await h2.advance(1);
    t.equal(h2.calls.create.length, 1, 'expired 5 min after the first create');
  });

  t.test('restored with createPods in flight: the effect is run again once, then nothing more', async (t) => {
    const h1 = harness({ rs: rs({ replicas: 3 }), create: () => new Promise<CreatePodsOutput>(() => {}) });
    await h1.send({ type: 'RESYNC' });
    t.equal(h1.state(), 'Creating');
    const snapshot = JSON.parse(JSON.stringify(h1.actor.getPersistedSnapshot()));
    h1.actor.stop();

    const h2 = harness({ rs: rs({ replicas: 3 }), snapshot });
    await flush();
    t.equal(h2.calls.create.length, 1, 'the in-flight (idempotent) effect is re-run');
    t.same(h2.calls.create[0].count, 3);
    t.same(h2.state(), { Watching: 'WaitingForPods' });
    await h2.send({ type: 'RESYNC' }, ...h2.upsert(pod('web-a'), pod('web-b')));
    t.equal(h2.calls.create.length, 1);
    await h2.send(...h2.upsert(pod('web-c')), { type: 'RESYNC' });
    t.same(h2.state(), { Watching: 'InSync' });
    t.equal(h2.calls.create.length, 1);
  });
});
