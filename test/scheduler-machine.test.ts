import t from 'tap';
import { createActor, fromPromise, SimulatedClock, waitFor } from 'xstate';
import type { Node, Pod } from '../protocol/objects.js';
import { ApiError, Reason } from '../protocol/errors.js';
import { schedulerMachine, type BindPodInput, type ScheduledReport, type UnschedulableReport } from '../actors/scheduler/index.js';

function node(name: string, cpu = '2', memory = '4Gi'): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    status: { allocatable: { cpu, memory, pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

function pod(name: string, opts: { cpu?: string; rv?: string; uid?: string; nodeName?: string; phase?: string; schedulerName?: string; deleting?: boolean } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      uid: opts.uid ?? `uid-${name}`,
      resourceVersion: opts.rv ?? '1',
      deletionTimestamp: opts.deleting ? '2024-01-01T00:00:00Z' : undefined,
    },
    spec: {
      nodeName: opts.nodeName,
      schedulerName: opts.schedulerName,
      containers: [{ name: 'c', image: 'busybox', resources: opts.cpu ? { requests: { cpu: opts.cpu } } : {} }],
    },
    status: { phase: opts.phase ?? 'Pending' },
  };
}

type BindImpl = (input: BindPodInput, call: number) => Promise<unknown> | unknown;

function harness(opts: { bind?: BindImpl; retryIntervalMs?: number } = {}) {
  const clock = new SimulatedClock();
  const binds: BindPodInput[] = [];
  const unschedulable: UnschedulableReport[] = [];
  const scheduled: ScheduledReport[] = [];
  let decisions = 0;
  const machine = schedulerMachine.provide({
    actors: {
      bindPod: fromPromise<unknown, BindPodInput>(async ({ input }) => {
        binds.push(input);
        return opts.bind?.(input, binds.length);
      }),
    },
    actions: {
      reportUnschedulable: (_, params) => void unschedulable.push(params),
      reportScheduled: (_, params) => void scheduled.push(params),
    },
  });
  const actor = createActor(machine, {
    clock,
    input: { retryIntervalMs: opts.retryIntervalMs },
    inspect: (ev) => {
      if (ev.type === '@xstate.microstep' && (ev.snapshot as { value?: { pipeline?: string } }).value?.pipeline === 'scheduling') decisions++;
    },
  }).start();
  return {
    clock,
    actor,
    binds,
    unschedulable,
    scheduled,
    decisions: () => decisions,
    /** Waits (on promises only) until nothing is queued or being bound. */
    settle: () => waitFor(actor, (s) => s.matches({ pipeline: 'idle' }) && s.context.queue.length === 0),
    send: (...events: Parameters<typeof actor.send>[0][]) => events.forEach((e) => actor.send(e)),
  };
}

t.test('pending pods get bound to fitting nodes', async (t) => {
  const h = harness();
  h.send({ type: 'NODE_UPSERT', node: node('small', '500m') }, { type: 'NODE_UPSERT', node: node('big', '4') });
  h.send({ type: 'POD_UPSERT', pod: pod('web', { cpu: '1' }) });
  await h.settle();
  t.same(h.binds, [{ namespace: 'default', name: 'web', uid: 'uid-web', nodeName: 'big' }]);
  t.same(h.scheduled, [{ namespace: 'default', name: 'web', uid: 'uid-web', nodeName: 'big' }]);
  t.equal(h.actor.getSnapshot().context.placed['default/web'].assumed, true);

  // Pods that are bound, being deleted, finished, or for another scheduler are not scheduled.
  h.send(
    { type: 'POD_UPSERT', pod: pod('pinned', { nodeName: 'small' }) },
    { type: 'POD_UPSERT', pod: pod('gone', { deleting: true }) },
    { type: 'POD_UPSERT', pod: pod('done', { phase: 'Succeeded' }) },
    { type: 'POD_UPSERT', pod: pod('other', { schedulerName: 'my-scheduler' }) },
  );
  await h.settle();
  t.equal(h.binds.length, 1);
  t.same(Object.keys(h.actor.getSnapshot().context.pending), []);

  // A pod explicitly for default-scheduler is.
  h.send({ type: 'POD_UPSERT', pod: pod('api', { schedulerName: 'default-scheduler' }) });
  await h.settle();
  t.equal(h.binds.length, 2);
  h.actor.stop();
});

t.test('a pod that fits nowhere is reported once, then bound when capacity appears', async (t) => {
  const h = harness();
  h.send({ type: 'NODE_UPSERT', node: node('n1', '1') });
  h.send({ type: 'POD_UPSERT', pod: pod('big', { cpu: '2' }) });
  await h.settle();
  t.same(h.unschedulable, [{ namespace: 'default', name: 'big', uid: 'uid-big', message: '0/1 nodes are available: 1 Insufficient cpu.' }]);
  t.same(h.actor.getSnapshot().context.parked, { 'default/big': 'unschedulable' });
  t.equal(h.binds.length, 0);

  // The host's own status write comes back as an update: same spec, so the pod stays parked.
  h.send({ type: 'POD_UPSERT', pod: pod('big', { cpu: '2', rv: '2' }) });
  await h.settle();
  // A heartbeat that changes nothing that matters is no news either.
  h.send({ type: 'NODE_UPSERT', node: { ...node('n1', '1'), metadata: { ...node('n1').metadata, annotations: { beat: '2' } } } });
  await h.settle();
  t.equal(h.unschedulable.length, 1, 'the same message is not reported twice');
  t.equal(h.binds.length, 0);

  h.send({ type: 'NODE_UPSERT', node: node('n2', '4') });
  await h.settle();
  t.same(h.binds, [{ namespace: 'default', name: 'big', uid: 'uid-big', nodeName: 'n2' }]);
  t.equal(h.unschedulable.length, 1);
  t.same(h.actor.getSnapshot().context.parked, {});
  h.actor.stop();
});

t.test('a new message is reported again; no nodes at all', async (t) => {
  const h = harness();
  h.send({ type: 'POD_UPSERT', pod: pod('web', { cpu: '2' }) });
  await h.settle();
  h.send({ type: 'NODE_UPSERT', node: node('n1', '1') });
  await h.settle();
  t.same(
    h.unschedulable.map((u) => u.message),
    ['0/0 nodes are available: no nodes available to schedule pods.', '0/1 nodes are available: 1 Insufficient cpu.'],
  );
  h.actor.stop();
});

t.test('the periodic retry re-evaluates parked pods after the interval', async (t) => {
  const h = harness({ retryIntervalMs: 1000 });
  h.send({ type: 'NODE_UPSERT', node: node('n1', '1') });
  h.send({ type: 'POD_UPSERT', pod: pod('big', { cpu: '2' }) });
  await h.settle();
  const before = h.decisions();
  t.equal(before, 1);
  h.clock.increment(999);
  await h.settle();
  t.equal(h.decisions(), 1, 'not before the interval');
  h.clock.increment(1);
  await h.settle();
  t.equal(h.decisions(), 2, 'retried');
  t.equal(h.unschedulable.length, 1, 'still one report for the same message');
  t.same(h.actor.getSnapshot().context.parked, { 'default/big': 'unschedulable' }, 'parked again');
  h.clock.increment(1000);
  await h.settle();
  t.equal(h.decisions(), 3, 'and again, periodically');
  h.actor.stop();
});

t.test('default retry interval is 5000 ms; a transiently failed bind is retried by the timer', async (t) => {
  const h = harness({
    bind: (_, call) => {
      if (call === 1) throw new ApiError(Reason.ServiceUnavailable, 'apiserver unavailable');
    },
  });
  h.send({ type: 'NODE_UPSERT', node: node('n1') }, { type: 'POD_UPSERT', pod: pod('web') });
  await h.settle();
  t.equal(h.binds.length, 1);
  t.same(h.actor.getSnapshot().context.parked, { 'default/web': 'bindFailed' });
  t.same(h.scheduled, []);
  h.clock.increment(4999);
  await h.settle();
  t.equal(h.binds.length, 1);
  h.clock.increment(1);
  await h.settle();
  t.equal(h.binds.length, 2);
  t.same(h.scheduled.map((s) => s.nodeName), ['n1']);
  h.actor.stop();
});

t.test('a failed bind does not wedge the machine; a later POD_UPSERT re-queues', async (t) => {
  const h = harness({
    bind: (input) => {
      if (input.name === 'web' && input.uid === 'uid-web' && !retried) throw new ApiError(Reason.Conflict, 'the object has been modified');
    },
  });
  let retried = false;
  h.send({ type: 'NODE_UPSERT', node: node('n1') });
  h.send({ type: 'POD_UPSERT', pod: pod('web') }, { type: 'POD_UPSERT', pod: pod('api') });
  await h.settle();
  t.same(h.binds.map((b) => b.name), ['web', 'api'], 'the next pod is still scheduled');
  t.same(h.scheduled.map((s) => s.name), ['api']);
  t.notOk(h.actor.getSnapshot().context.placed['default/web'], 'a failed bind is not assumed');

  retried = true;
  h.send({ type: 'POD_UPSERT', pod: pod('web', { rv: '7' }) });
  await h.settle();
  t.same(h.binds.map((b) => b.name), ['web', 'api', 'web']);
  t.same(h.scheduled.map((s) => s.name), ['api', 'web']);
  h.actor.stop();
});

t.test('a bind failing with NotFound forgets the pod', async (t) => {
  const h = harness({ bind: () => Promise.reject(new ApiError(Reason.NotFound, 'pods "web" not found')) });
  h.send({ type: 'NODE_UPSERT', node: node('n1') }, { type: 'POD_UPSERT', pod: pod('web') });
  await h.settle();
  const ctx = h.actor.getSnapshot().context;
  t.same([ctx.pending, ctx.parked, ctx.placed], [{}, {}, {}]);
  h.clock.increment(60_000);
  await h.settle();
  t.equal(h.binds.length, 1);
  h.actor.stop();
});

t.test('duplicate POD_UPSERT events do not produce duplicate binds', async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const h = harness({ bind: () => gate });
  h.send({ type: 'NODE_UPSERT', node: node('n1') });
  h.send({ type: 'POD_UPSERT', pod: pod('web') }, { type: 'POD_UPSERT', pod: pod('web') });
  t.ok(h.actor.getSnapshot().matches({ pipeline: 'binding' }));
  h.send({ type: 'POD_UPSERT', pod: pod('web') }); // while the bind is in flight
  release();
  await h.settle();
  h.send({ type: 'POD_UPSERT', pod: pod('web') }); // a stale pre-bind version after it
  await h.settle();
  t.equal(h.binds.length, 1);
  // The bound version comes back: the assumed entry is confirmed.
  h.send({ type: 'POD_UPSERT', pod: pod('web', { rv: '2', nodeName: 'n1' }) }, { type: 'POD_UPSERT', pod: pod('web', { rv: '2', nodeName: 'n1' }) });
  await h.settle();
  t.equal(h.binds.length, 1);
  t.equal(h.actor.getSnapshot().context.placed['default/web'].assumed, undefined);
  t.same(h.actor.getSnapshot().context.queue, []);
  h.actor.stop();
});

t.test('assumed pods count against capacity before their bound version comes back', async (t) => {
  const h = harness();
  h.send({ type: 'NODE_UPSERT', node: node('n1', '1') });
  h.send({ type: 'POD_UPSERT', pod: pod('a', { cpu: '600m' }) }, { type: 'POD_UPSERT', pod: pod('b', { cpu: '600m' }) });
  await h.settle();
  t.same(h.binds.map((b) => b.name), ['a']);
  t.same(h.unschedulable, [{ namespace: 'default', name: 'b', uid: 'uid-b', message: '0/1 nodes are available: 1 Insufficient cpu.' }]);

  // `a` finishes: its capacity is freed and `b` moves back to the queue and gets bound.
  h.send({ type: 'POD_UPSERT', pod: pod('a', { cpu: '600m', nodeName: 'n1', phase: 'Running', rv: '2' }) });
  await h.settle();
  t.equal(h.binds.length, 1);
  h.send({ type: 'POD_UPSERT', pod: pod('a', { cpu: '600m', nodeName: 'n1', phase: 'Succeeded', rv: '3' }) });
  await h.settle();
  t.same(h.binds.map((b) => b.name), ['a', 'b']);
  h.actor.stop();
});

t.test('POD_DELETE frees capacity and moves parked pods back', async (t) => {
  const h = harness();
  h.send({ type: 'NODE_UPSERT', node: node('n1', '1') }, { type: 'POD_UPSERT', pod: pod('old', { cpu: '1', nodeName: 'n1', phase: 'Running' }) });
  h.send({ type: 'POD_UPSERT', pod: pod('new', { cpu: '1' }) });
  await h.settle();
  t.equal(h.unschedulable.length, 1);
  h.send({ type: 'POD_DELETE', namespace: 'default', name: 'old' });
  await h.settle();
  t.same(h.binds.map((b) => `${b.name}->${b.nodeName}`), ['new->n1']);
  // A parked pod that is deleted is forgotten.
  h.send({ type: 'POD_UPSERT', pod: pod('huge', { cpu: '64' }) });
  await h.settle();
  h.send({ type: 'POD_DELETE', namespace: 'default', name: 'huge' }, { type: 'NODE_DELETE', name: 'n1' });
  await h.settle();
  const ctx = h.actor.getSnapshot().context;
  t.same([ctx.pending, ctx.parked, ctx.reported, Object.keys(ctx.nodes)], [{}, {}, {}, []]);
  h.actor.stop();
});

t.test('a pod deleted while its bind is in flight is not assumed', async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const h = harness({ bind: () => gate });
  h.send({ type: 'NODE_UPSERT', node: node('n1') }, { type: 'POD_UPSERT', pod: pod('web') });
  h.send({ type: 'POD_DELETE', namespace: 'default', name: 'web' });
  release();
  await h.settle();
  t.same(h.actor.getSnapshot().context.placed, {});
  h.actor.stop();
});

t.test('higher priority pods are decided first', async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const h = harness({ bind: () => gate });
  h.send({ type: 'NODE_UPSERT', node: node('n1') });
  h.send({ type: 'POD_UPSERT', pod: pod('first') }, { type: 'POD_UPSERT', pod: pod('low') });
  const urgent = pod('urgent');
  urgent.spec!.priority = 1000;
  h.send({ type: 'POD_UPSERT', pod: urgent });
  release();
  await h.settle();
  t.same(h.binds.map((b) => b.name), ['first', 'urgent', 'low']);
  h.actor.stop();
});
