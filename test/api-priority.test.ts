/**
 * API priority, pure parts: which requests are node-critical (nodes/apiserver/priority-level.ts)
 * and the workload seats with node-critical requests exempt (nodes/apiserver/request-queue.ts),
 * driven by hand-resolved promises so the order is exact.
 */
import t from 'tap';
import { priorityLevel } from '../nodes/apiserver/priority-level.js';
import { RequestQueue } from '../nodes/apiserver/request-queue.js';
import { NODE_LEASE_NAMESPACE } from '../protocol/objects.js';
import { subjects } from '../protocol/subjects.js';

const lease = (namespace: string) => ({ object: { kind: 'Lease', metadata: { name: 'n1', namespace } } });

t.test('heartbeats are node-high, everything else workload', async (t) => {
  t.equal(priorityLevel('update', 'Lease', lease(NODE_LEASE_NAMESPACE)), 'node-high');
  t.equal(priorityLevel('apply', 'Lease', lease(NODE_LEASE_NAMESPACE)), 'node-high');
  t.equal(priorityLevel('get', 'Lease', { name: 'n1', namespace: NODE_LEASE_NAMESPACE }), 'node-high');
  t.equal(priorityLevel('updateStatus', 'Node', { object: { kind: 'Node', metadata: { name: 'n1' } } }), 'node-high');
  t.equal(priorityLevel('get', 'Node', { name: 'n1' }), 'node-high');
  t.equal(priorityLevel('update', 'Lease', lease('default')), 'workload', 'a leader-election Lease elsewhere is workload');
  t.equal(priorityLevel('get', 'Lease', { name: 'n1', namespace: 'default' }), 'workload');
  t.equal(priorityLevel('list', 'Lease', { namespace: NODE_LEASE_NAMESPACE }), 'workload', 'lists are never heartbeats');
  t.equal(priorityLevel('list', 'Node', {}), 'workload');
  t.equal(priorityLevel('delete', 'Node', { name: 'n1' }), 'workload');
  t.equal(priorityLevel('create', 'Pod', { object: { kind: 'Pod', metadata: { namespace: NODE_LEASE_NAMESPACE } } }), 'workload');
  t.equal(priorityLevel('update', 'Lease', { object: 'garbage' }), 'workload', 'a malformed body is workload (served, and refused there)');
});

t.test('the priority subjects parse like the ordinary ones and are marked', async (t) => {
  t.same(subjects.parseApi(subjects.apiPriority('update', 'leases')), { verb: 'update', plural: 'leases', priority: true });
  t.same(subjects.parseApi(subjects.api('update', 'leases')), { verb: 'update', plural: 'leases', priority: false });
  t.equal(subjects.parseApi('kubeact.apiprio.update'), undefined);
  t.not(subjects.apiPriority('update', 'leases'), subjects.api('update', 'leases'));
});

/** Until the queue's next drain has run: it starts workload requests in a later turn (setImmediate). */
const turn = () => new Promise((r) => setImmediate(() => setImmediate(r)));

/** A run that records its start and finishes when the test says so. */
function gate(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  return { run: () => (log.push(name), done), finish };
}

t.test('workload waits for a seat in arrival order; node-high never waits', async (t) => {
  const q = new RequestQueue({ seats: 2, maxQueued: 10 });
  const log: string[] = [];
  const w = [1, 2, 3, 4].map((i) => gate(log, `w${i}`));
  for (const g of w) t.ok(q.submit('workload', g.run));
  t.same(log, [], 'workload never starts in the turn that received it');
  await turn();
  t.same(log, ['w1', 'w2'], 'two seats: two start, two wait');
  t.same(q.stats(), { inFlight: 2, queued: 2, rejected: 0, exempt: 0, expired: 0 });
  const lease = gate(log, 'lease');
  t.ok(q.submit('node-high', lease.run));
  t.same(log, ['w1', 'w2', 'lease'], 'the heartbeat runs at once, ahead of the queued workload');
  w[1].finish();
  await turn();
  t.same(log, ['w1', 'w2', 'lease', 'w3'], 'a freed seat goes to the oldest waiting request');
  w[0].finish();
  await turn();
  t.same(log.slice(-1), ['w4']);
  t.same(q.stats(), { inFlight: 2, queued: 0, rejected: 0, exempt: 1, expired: 0 }, 'node-high requests hold no workload seat');
  w[2].finish();
  w[3].finish();
  lease.finish();
  await turn();
  t.equal(q.stats().inFlight, 0);
});

t.test('a full queue refuses workload but still runs node-high', async (t) => {
  const q = new RequestQueue({ seats: 1, maxQueued: 2 });
  const log: string[] = [];
  const gates = [1, 2, 3, 4].map((i) => gate(log, `w${i}`));
  const accepted = gates.map((g) => q.submit('workload', g.run));
  t.same(accepted, [true, true, true, false], 'one for the free seat, two waiting, the fourth refused');
  t.equal(q.stats().rejected, 1);
  t.ok(q.submit('node-high', gate(log, 'lease').run));
  t.same(log, ['lease'], 'the heartbeat ran at once');
  await turn();
  t.same(log, ['lease', 'w1']);
  t.notOk(q.submit('workload', gate(log, 'w5').run), 'still full: one in flight, two waiting');
});

t.test('a failing run frees its seat', async (t) => {
  const q = new RequestQueue({ seats: 1, maxQueued: 5 });
  const log: string[] = [];
  q.submit('workload', () => Promise.reject(new Error('boom')));
  const next = gate(log, 'next');
  q.submit('workload', next.run);
  await turn();
  await turn();
  t.same(log, ['next']);
  next.finish();
});

t.test('thousands through few seats: each runs once, in order, the ring compacts', async (t) => {
  const q = new RequestQueue({ seats: 3, maxQueued: 10_000 });
  const order: number[] = [];
  let maxInFlight = 0;
  let inFlight = 0;
  for (let i = 0; i < 5000; i++) {
    q.submit('workload', async () => {
      order.push(i);
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
    });
  }
  while (q.stats().inFlight > 0 || q.stats().queued > 0) await turn();
  t.equal(order.length, 5000);
  t.ok(order.every((v, i) => v === i), 'arrival order');
  t.equal(maxInFlight, 3, 'never more than the seats');
});

t.test('a long backlog starts a time budget at a time, letting other callbacks in between', async (t) => {
  const q = new RequestQueue({ seats: 10_000, maxQueued: 10_000, budgetMs: 2 });
  let started = 0;
  const busy = () => {
    const until = performance.now() + 0.5;
    while (performance.now() < until);
  };
  for (let i = 0; i < 200; i++) q.submit('workload', async () => (started++, busy()));
  await turn();
  t.ok(started > 0 && started < 200, `the first turn started ${started} of 200 (0.5 ms each, 2 ms budget)`);
  while (q.stats().queued > 0) await turn();
  t.equal(started, 200);
});

t.test('a queue needs a seat', async (t) => {
  t.throws(() => new RequestQueue({ seats: 0, maxQueued: 1 }), /at least one seat/);
});

t.test('a waiting request past its deadline is dropped when its seat comes, costing no seat', async (t) => {
  const q = new RequestQueue({ seats: 1, maxQueued: 10 });
  const log: string[] = [];
  const first = gate(log, 'first');
  q.submit('workload', first.run);
  await turn();
  const expiredLog: string[] = [];
  const now = performance.now();
  q.submit('workload', gate(log, 'stale').run, { at: now + 1, expire: () => expiredLog.push('stale') });
  const fresh = gate(log, 'fresh');
  q.submit('workload', fresh.run, { at: now + 60_000, expire: () => expiredLog.push('fresh') });
  const spin = performance.now() + 2;
  while (performance.now() < spin); // the stale one's client gives up while the seat is taken
  first.finish();
  await turn();
  await turn();
  t.same(log, ['first', 'fresh'], 'the stale request never ran; the next one got the seat');
  t.same(expiredLog, ['stale'], 'told to answer Timeout instead');
  t.equal(q.stats().expired, 1);
  fresh.finish();
});

t.test('a full queue sheds expired requests before refusing a new one', async (t) => {
  const q = new RequestQueue({ seats: 1, maxQueued: 2 });
  const log: string[] = [];
  const first = gate(log, 'first');
  q.submit('workload', first.run);
  await turn();
  const now = performance.now();
  q.submit('workload', gate(log, 'a').run, { at: now + 1 });
  q.submit('workload', gate(log, 'b').run, { at: now + 1 });
  const spin = performance.now() + 2;
  while (performance.now() < spin);
  t.ok(q.submit('workload', gate(log, 'c').run), 'accepted: the two waiting ones had expired');
  t.same(q.stats(), { inFlight: 1, queued: 1, rejected: 0, exempt: 0, expired: 2 });
  first.finish();
});
