import t from 'tap';
import { createActor, fromCallback, SimulatedClock, waitFor } from 'xstate';
import type { Node, Pod } from '../protocol/objects.js';
import { ApiError, Reason } from '../protocol/errors.js';
import { schedulerMachine, type BindEvent, type BindPodInput, type BindResult, type ScheduledReport, type UnschedulableReport } from '../actors/scheduler/index.js';
import { DEFAULT_MAX_IN_FLIGHT_BINDS } from '../actors/scheduler/machine.js';

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

/**
 * The machine with a binder that runs `bind` for each bind it is told (none: succeeds at once)
 * and, like the host's, answers with one BIND_RESULTS per group of results settled together.
 */
function harness(opts: { bind?: BindImpl; retryIntervalMs?: number; maxInFlightBinds?: number } = {}) {
  const clock = new SimulatedClock();
  const binds: BindPodInput[] = [];
  const unschedulable: UnschedulableReport[] = [];
  const scheduled: ScheduledReport[] = [];
  /** Sizes of the BIND events the binder got, and of the BIND_RESULTS events it sent. */
  const bindEvents: number[] = [];
  const resultEvents: number[] = [];
  const machine = schedulerMachine.provide({
    actors: {
      binder: fromCallback<BindEvent>(({ sendBack, receive }) => {
        let ready: BindResult[] = [];
        const answer = (r: BindResult) => {
          if (ready.push(r) > 1) return;
          queueMicrotask(() => {
            resultEvents.push(ready.length);
            sendBack({ type: 'BIND_RESULTS', results: ready });
            ready = [];
          });
        };
        receive((ev) => {
          bindEvents.push(ev.binds.length);
          for (const input of ev.binds) {
            binds.push(input);
            const call = binds.length;
            let outcome: Promise<unknown>;
            try {
              outcome = Promise.resolve(opts.bind?.(input, call));
            } catch (error) {
              outcome = Promise.reject(error);
            }
            outcome.then(
              () => answer(input),
              (error) => answer({ ...input, error }),
            );
          }
        });
      }),
    },
    actions: {
      reportUnschedulable: (_, params) => void unschedulable.push(params),
      reportScheduled: (_, params) => void scheduled.push(params),
    },
  });
  const actor = createActor(machine, { clock, input: { retryIntervalMs: opts.retryIntervalMs, maxInFlightBinds: opts.maxInFlightBinds } }).start();
  return {
    clock,
    actor,
    binds,
    unschedulable,
    scheduled,
    bindEvents,
    resultEvents,
    decisions: () => actor.getSnapshot().context.attempts,
    /** Waits (on promises only) until nothing is queued or being bound. */
    settle: () => waitFor(actor, (s) => s.context.queue.size === 0 && s.context.binding.size === 0),
    /** Keys with a bind in flight. */
    inFlight: () => [...actor.getSnapshot().context.binding.keys()].sort(),
    children: () => Object.keys(actor.getSnapshot().children).sort(),
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
  t.same(h.inFlight(), ['default/web']);
  t.same(h.binds.map((b) => b.name), ['web']);
  h.send({ type: 'POD_UPSERT', pod: pod('web') }, { type: 'POD_UPSERT', pod: pod('web') }); // while the bind is in flight
  t.same(h.binds.map((b) => b.name), ['web'], 'no second bind');
  t.same([...h.actor.getSnapshot().context.queue], []);
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
  t.same([...h.actor.getSnapshot().context.queue], []);
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
  // One bind slot, so `low` and `urgent` wait in the queue behind `first`'s bind.
  const h = harness({ bind: () => gate, maxInFlightBinds: 1 });
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

/** Binds that stay pending until the test settles them, by pod name. */
function gatedBinds() {
  const waiting = new Map<string, { resolve: () => void; reject: (e: unknown) => void }>();
  const bind: BindImpl = (input) => new Promise<void>((resolve, reject) => void waiting.set(input.name, { resolve, reject }));
  return { bind, waiting };
}

/** Only JSON values (plus undefined fields): no actor refs, promises, maps or class instances. */
function plainData(v: unknown): boolean {
  if (v === null || v === undefined || ['string', 'number', 'boolean'].includes(typeof v)) return true;
  if (Array.isArray(v)) return v.every(plainData);
  if (v instanceof Set) return [...v].every(plainData);
  if (v instanceof Map) return [...v].every(([k, x]) => typeof k === 'string' && plainData(x));
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) return Object.values(v as object).every(plainData);
  return false;
}

/** Lets settled bind promises deliver their done/error events. */
const flush = () => new Promise<void>((r) => setImmediate(r));

const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(2, '0')}`);

t.test('binds run in the background: 20 queued pods are all decided and bound at once', async (t) => {
  const g = gatedBinds();
  const h = harness({ bind: g.bind });
  t.equal(h.actor.getSnapshot().context.maxInFlightBinds, DEFAULT_MAX_IN_FLIGHT_BINDS);
  t.equal(DEFAULT_MAX_IN_FLIGHT_BINDS, 64);
  h.send({ type: 'NODE_UPSERT', node: node('n1', '4') }, { type: 'NODE_UPSERT', node: node('n2', '4') }, { type: 'NODE_UPSERT', node: node('n3', '4') });
  const pods = names('web', 20);
  h.send({ type: 'BATCH', events: pods.map((n) => ({ type: 'POD_UPSERT' as const, pod: pod(n, { cpu: '100m' }) })) });
  // No bind has finished, yet every pod was decided and assumed, and all went to the binder as one BIND.
  const ctx = h.actor.getSnapshot().context;
  t.equal(h.decisions(), 20);
  t.same(h.inFlight(), pods.map((n) => `default/${n}`));
  t.same(h.bindEvents, [20], 'one BIND event for the 20 binds decided in one step');
  t.same(h.children(), ['binder'], 'one long-lived binder, no actor per bind');
  t.same(h.binds.map((b) => b.name).sort(), pods);
  t.same([...ctx.queue], []);
  t.ok(pods.every((n) => ctx.placed[`default/${n}`]?.assumed === true && ctx.placed[`default/${n}`].nodeName === ctx.binding.get(`default/${n}`)!.nodeName));
  const perNode = new Map<string, number>();
  for (const b of h.binds) perNode.set(b.nodeName, (perNode.get(b.nodeName) ?? 0) + 1);
  t.ok([...perNode.values()].every((c) => c >= 5), `the assumed pods spread over the nodes: ${JSON.stringify([...perNode])}`);
  t.ok(plainData(ctx), 'the context holds only data (records, Maps, Sets) with binds in flight, no actor refs');
  t.same(h.scheduled, []);

  for (const { resolve } of g.waiting.values()) resolve();
  await h.settle();
  t.same(h.scheduled.map((s) => s.name).sort(), pods);
  t.same(h.resultEvents, [20], 'the 20 results came back as one BIND_RESULTS event');
  t.same(h.children(), ['binder']);
  t.ok(pods.every((n) => h.actor.getSnapshot().context.placed[`default/${n}`]?.assumed === true), 'still assumed until the bound versions arrive');
  t.same(h.actor.getSnapshot().context.pending, {});
  h.actor.stop();
});

t.test('assumed pods in flight count against capacity: one 600m pod per 1-CPU node', async (t) => {
  const g = gatedBinds();
  const h = harness({ bind: g.bind });
  h.send({ type: 'NODE_UPSERT', node: node('n1', '1') }, { type: 'NODE_UPSERT', node: node('n2', '1') }, { type: 'NODE_UPSERT', node: node('n3', '1') });
  const pods = names('big', 20);
  h.send(...pods.map((n) => ({ type: 'POD_UPSERT' as const, pod: pod(n, { cpu: '600m' }) })));
  const ctx = h.actor.getSnapshot().context;
  t.equal(h.decisions(), 20, 'all decided while the binds are pending');
  t.same(h.inFlight(), ['default/big-00', 'default/big-01', 'default/big-02']);
  t.same(h.binds.map((b) => b.nodeName).sort(), ['n1', 'n2', 'n3'], 'one per node');
  t.equal(Object.keys(ctx.parked).length, 17);
  t.equal(h.unschedulable.length, 17);
  t.ok(h.unschedulable.every((u) => u.message === '0/3 nodes are available: 3 Insufficient cpu.'));
  h.actor.stop();
});

t.test('a failed bind forgets the assumption: its capacity goes to the next pod', async (t) => {
  const g = gatedBinds();
  const h = harness({ bind: g.bind, retryIntervalMs: 1000 });
  h.send({ type: 'NODE_UPSERT', node: node('n1', '1') });
  h.send({ type: 'POD_UPSERT', pod: pod('a', { cpu: '600m' }) }, { type: 'POD_UPSERT', pod: pod('b', { cpu: '600m' }) });
  t.same(h.inFlight(), ['default/a']);
  t.same(h.actor.getSnapshot().context.parked, { 'default/b': 'unschedulable' }, 'b does not fit beside the assumed a');

  g.waiting.get('a')!.reject(new ApiError(Reason.ServiceUnavailable, 'apiserver unavailable'));
  await flush();
  let ctx = h.actor.getSnapshot().context;
  t.same(h.inFlight(), ['default/b'], 'b is bound into the freed capacity at once');
  t.same(h.binds.map((b) => `${b.name}->${b.nodeName}`), ['a->n1', 'b->n1']);
  t.notOk(ctx.placed['default/a'], 'a is no longer assumed');
  t.equal(ctx.placed['default/b'].assumed, true);
  t.same(ctx.parked, { 'default/a': 'bindFailed' });
  t.same(h.scheduled, []);

  g.waiting.get('b')!.resolve();
  await h.settle();
  t.same(h.scheduled.map((s) => s.name), ['b']);
  // The timer retries a, which now finds no room.
  h.clock.increment(1000);
  await h.settle();
  ctx = h.actor.getSnapshot().context;
  t.same(ctx.parked, { 'default/a': 'unschedulable' });
  t.same(h.unschedulable.map((u) => u.name), ['b', 'a']);
  t.equal(h.binds.length, 2);
  h.actor.stop();
});

t.test('a pod that changed while its bind was in flight is retried at once when the bind fails', async (t) => {
  const g = gatedBinds();
  const h = harness({ bind: g.bind });
  h.send({ type: 'NODE_UPSERT', node: node('n1') }, { type: 'POD_UPSERT', pod: pod('web') });
  h.send({ type: 'POD_UPSERT', pod: pod('web', { rv: '2' }) });
  t.equal(h.binds.length, 1);
  g.waiting.get('web')!.reject(new ApiError(Reason.Conflict, 'the object has been modified'));
  await flush();
  t.equal(h.binds.length, 2, 'retried without waiting for the timer');
  t.same(h.inFlight(), ['default/web']);
  t.same(h.actor.getSnapshot().context.parked, {});
  g.waiting.get('web')!.resolve();
  await h.settle();
  t.same(h.scheduled.map((s) => s.name), ['web']);
  h.actor.stop();
});

t.test('the in-flight limit is honoured; a finished bind frees a slot', async (t) => {
  const g = gatedBinds();
  const h = harness({ bind: g.bind, maxInFlightBinds: 5 });
  h.send({ type: 'NODE_UPSERT', node: node('n1', '8') });
  const pods = names('p', 12);
  h.send(...pods.map((n) => ({ type: 'POD_UPSERT' as const, pod: pod(n) })));
  t.equal(h.binds.length, 5);
  t.equal(h.inFlight().length, 5);
  t.equal(h.decisions(), 5, 'deciding waits for a free slot');
  t.same([...h.actor.getSnapshot().context.queue], pods.slice(5).map((n) => `default/${n}`));

  g.waiting.get('p-00')!.resolve();
  g.waiting.get('p-01')!.reject(new ApiError(Reason.NotFound, 'pods "p-01" not found'));
  await flush();
  t.equal(h.binds.length, 7, 'two more started');
  t.equal(h.inFlight().length, 5);

  let seen = 0;
  while (h.actor.getSnapshot().context.queue.size || h.inFlight().length) {
    t.ok(h.inFlight().length <= 5);
    for (const name of h.binds.slice(seen).map((b) => b.name)) g.waiting.get(name)!.resolve();
    seen = h.binds.length;
    await flush();
  }
  t.equal(h.binds.length, 12);
  t.same(h.scheduled.map((s) => s.name).sort(), pods.filter((n) => n !== 'p-01'));
  t.same(h.actor.getSnapshot().context.pending, {}, 'the NotFound pod is forgotten');
  h.actor.stop();
});

/** The binds the binder was told, as the BIND_RESULTS entries that would answer them. */
const ok = (b: BindPodInput): BindResult => ({ ...b });
const failed = (b: BindPodInput, error: unknown): BindResult => ({ ...b, error });
/** Binds that never finish on their own: the test answers with BIND_RESULTS events itself. */
const held = () => new Promise<never>(() => {});

t.test('one BIND_RESULTS with mixed outcomes: successes reported, failures parked, NotFound forgotten, freed slots decided in the same step', async (t) => {
  const h = harness({ bind: held, maxInFlightBinds: 4, retryIntervalMs: 1000 });
  h.send({ type: 'NODE_UPSERT', node: node('n1', '8') });
  const pods = names('p', 6);
  h.send({ type: 'BATCH', events: pods.map((n) => ({ type: 'POD_UPSERT' as const, pod: pod(n) })) });
  t.same(h.bindEvents, [4], 'four slots: one BIND of four');
  const [p0, p1, p2, p3] = h.binds;
  h.send({
    type: 'BIND_RESULTS',
    results: [ok(p0), failed(p1, new ApiError(Reason.ServiceUnavailable, 'apiserver unavailable')), failed(p2, new ApiError(Reason.NotFound, 'pods "p-02" not found')), ok(p3)],
  });
  const ctx = h.actor.getSnapshot().context;
  t.same(h.scheduled.map((s) => s.name), ['p-00', 'p-03'], 'a Scheduled report per success, in order');
  t.same(ctx.parked, { 'default/p-01': 'bindFailed' });
  t.notOk(ctx.placed['default/p-01'], 'the failed bind is no longer assumed');
  t.notOk('default/p-02' in ctx.pending, 'the NotFound pod is forgotten');
  t.notOk(ctx.placed['default/p-02']);
  t.equal(ctx.placed['default/p-00'].assumed, true, 'a bound pod stays assumed until its bound version arrives');
  t.same(h.bindEvents, [4, 2], 'the two queued pods were decided in the same step, as one BIND');
  t.same(h.inFlight(), ['default/p-04', 'default/p-05']);
  // The parked pod is retried by the timer.
  h.clock.increment(1000);
  t.same(h.bindEvents, [4, 2, 1]);
  t.same(h.inFlight(), ['default/p-01', 'default/p-04', 'default/p-05']);
  h.actor.stop();
});

t.test('a result for a pod deleted (or recreated) while binding: the bind is done, nothing is assumed for the old pod', async (t) => {
  const h = harness({ bind: held });
  h.send({ type: 'NODE_UPSERT', node: node('n1', '1') });
  h.send({ type: 'BATCH', events: [{ type: 'POD_UPSERT', pod: pod('gone', { cpu: '400m' }) }, { type: 'POD_UPSERT', pod: pod('again', { cpu: '400m' }) }] });
  const [gone, again] = h.binds;
  h.send({ type: 'POD_DELETE', namespace: 'default', name: 'gone' });
  h.send({ type: 'POD_UPSERT', pod: pod('again', { cpu: '400m', uid: 'uid-again-2' }) }); // recreated under the same name
  t.same(h.inFlight(), ['default/again', 'default/gone'], 'still in flight: a key gets no second bind before its result');
  h.send({ type: 'BIND_RESULTS', results: [ok(gone), failed(again, new ApiError(Reason.Conflict, 'the pod was replaced'))] });
  const ctx = h.actor.getSnapshot().context;
  t.notOk(ctx.placed['default/gone'], 'the deleted pod holds nothing');
  t.notOk('default/gone' in ctx.pending);
  t.same(h.binds.map((b) => `${b.name}/${b.uid}`), ['gone/uid-gone', 'again/uid-again', 'again/uid-again-2'], 'the recreated pod is bound at once');
  t.same(h.inFlight(), ['default/again']);
  t.same(ctx.byNode.get('n1')!.requestedCpu, 400, 'only the new pod counts on the node');
  h.actor.stop();
});

t.test('repeated, late and foreign results do no harm', async (t) => {
  const h = harness({ bind: held });
  h.send({ type: 'NODE_UPSERT', node: node('n1', '1') });
  h.send({ type: 'BATCH', events: [{ type: 'POD_UPSERT', pod: pod('a', { cpu: '600m' }) }, { type: 'POD_UPSERT', pod: pod('b', { cpu: '600m' }) }] });
  const [a] = h.binds;
  t.same(h.actor.getSnapshot().context.parked, { 'default/b': 'unschedulable' });

  // Results that answer no bind in flight: another node, another uid, a pod never bound.
  h.send({
    type: 'BIND_RESULTS',
    results: [failed({ ...a, nodeName: 'n9' }, new Error('x')), failed({ ...a, uid: 'uid-other' }, new Error('x')), ok({ namespace: 'default', name: 'b', uid: 'uid-b', nodeName: 'n1' })],
  });
  let ctx = h.actor.getSnapshot().context;
  t.same(h.inFlight(), ['default/a'], 'ignored: a is still binding');
  t.same(h.scheduled, []);
  t.equal(ctx.placed['default/a'].assumed, true);
  t.same(ctx.parked, { 'default/b': 'unschedulable' });

  h.send({ type: 'BIND_RESULTS', results: [ok(a), ok(a)] });
  t.same(h.scheduled.map((s) => s.name), ['a'], 'one Scheduled report for a result repeated in a batch');
  // A late failure for the same bind, after its success: a stays assumed, b stays parked.
  h.send({ type: 'BIND_RESULTS', results: [failed(a, new ApiError(Reason.ServiceUnavailable, 'late'))] });
  ctx = h.actor.getSnapshot().context;
  t.same(h.scheduled.map((s) => s.name), ['a']);
  t.equal(ctx.placed['default/a'].assumed, true);
  t.same(ctx.parked, { 'default/b': 'unschedulable' });
  t.same(h.binds.map((b) => b.name), ['a'], 'no bind was started by any of them');
  h.actor.stop();
});
