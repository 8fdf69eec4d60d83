/** The node lifecycle actor with a simulated clock: unreachable after the grace period, eviction after the toleration, recovery. */
import t from 'tap';
import { createActor, SimulatedClock } from 'xstate';
import { nodeLifecycleMachine } from '../actors/node-lifecycle/index.js';

function start(opts: { grace?: number; toleration?: number } = {}) {
  const clock = new SimulatedClock();
  const calls: string[] = [];
  const machine = nodeLifecycleMachine.provide({
    actions: {
      markUnreachable: (_, p) => calls.push(`unreachable:${p.name}@${p.since}`),
      markReachable: (_, p) => calls.push(`reachable:${p.name}`),
      evictPods: (_, p) => calls.push(`evict:${p.name}`),
    },
  });
  const actor = createActor(machine, {
    clock,
    input: { name: 'node-1', now: 0, renewedAt: 0, gracePeriodMs: opts.grace ?? 3000, evictionTolerationMs: opts.toleration ?? 1000 },
  });
  actor.start();
  return { clock, calls, actor };
}

t.test('steady heartbeats keep the node healthy', async (t) => {
  const { clock, calls, actor } = start();
  for (let ms = 1000; ms <= 10_000; ms += 1000) {
    clock.increment(1000);
    actor.send({ type: 'LEASE_RENEWED', renewTime: ms, now: ms });
  }
  t.equal(actor.getSnapshot().value, 'Healthy');
  t.same(calls, []);
});

t.test('no renewal for the grace period: unreachable, then evicted after the toleration', async (t) => {
  const { clock, calls, actor } = start();
  clock.increment(2999);
  t.equal(actor.getSnapshot().value, 'Healthy');
  clock.increment(1);
  t.equal(actor.getSnapshot().value, 'Unreachable');
  t.same(calls, ['unreachable:node-1@3000']);
  clock.increment(999);
  t.same(calls, ['unreachable:node-1@3000'], 'no eviction before the toleration');
  clock.increment(1);
  t.equal(actor.getSnapshot().value, 'Evicted');
  t.same(calls, ['unreachable:node-1@3000', 'evict:node-1']);
});

t.test('a node that comes back is reachable again and its timer restarts', async (t) => {
  const { clock, calls, actor } = start();
  clock.increment(3000);
  clock.increment(2000);
  t.equal(actor.getSnapshot().value, 'Evicted');
  actor.send({ type: 'LEASE_RENEWED', renewTime: 5000, now: 5000 });
  t.equal(actor.getSnapshot().value, 'Healthy');
  t.same(calls.at(-1), 'reachable:node-1');
  clock.increment(3000);
  t.equal(actor.getSnapshot().value, 'Unreachable', 'the grace period counts from the new renewal');
});

t.test('stale or repeated renewals change nothing', async (t) => {
  const { clock, calls, actor } = start();
  actor.send({ type: 'LEASE_RENEWED', renewTime: 0, now: 0 });
  clock.increment(3500);
  t.equal(actor.getSnapshot().value, 'Unreachable');
  actor.send({ type: 'LEASE_RENEWED', renewTime: 0, now: 3500 });
  actor.send({ type: 'LEASE_RENEWED', renewTime: -5, now: 3500 });
  t.equal(actor.getSnapshot().value, 'Unreachable');
  t.same(calls, ['unreachable:node-1@3000']);
});

t.test('ticks from the host drive it too, and the snapshot survives JSON', async (t) => {
  const { actor } = start();
  actor.send({ type: 'TICK', now: 3100 });
  t.equal(actor.getSnapshot().value, 'Unreachable');
  const persisted = JSON.parse(JSON.stringify(actor.getPersistedSnapshot()));
  actor.stop();
  const calls: string[] = [];
  const restored = createActor(
    nodeLifecycleMachine.provide({ actions: { evictPods: (_, p) => calls.push(`evict:${p.name}`) } }),
    { snapshot: persisted, input: { name: 'node-1', now: 3100 }, clock: new SimulatedClock() },
  );
  restored.start();
  restored.send({ type: 'TICK', now: 4200 });
  t.equal(restored.getSnapshot().value, 'Evicted');
  t.same(calls, ['evict:node-1']);
});

t.test('health is timed from when the controller observed the renewal, not from renewTime', async (t) => {
  const { clock, calls, actor } = start();
  actor.send({ type: 'LEASE_RENEWED', renewTime: -60_000, now: 0 });
  // The kubelet's clock is a minute behind, or each renewal waited long in an overloaded API
  // server: every renewTime is older than the grace period when seen, yet each one is new.
  for (let ms = 1000; ms <= 10_000; ms += 1000) {
    clock.increment(1000);
    actor.send({ type: 'LEASE_RENEWED', renewTime: ms - 60_000, now: ms });
  }
  t.equal(actor.getSnapshot().value, 'Healthy', 'old renewTimes that keep advancing are signs of life');
  t.same(calls, []);
  clock.increment(2999);
  t.equal(actor.getSnapshot().value, 'Healthy');
  clock.increment(1);
  t.equal(actor.getSnapshot().value, 'Unreachable', 'the grace period runs from the last observation');
  t.same(calls, ['unreachable:node-1@13000']);
});

t.test('a renewTime in the future buys no extra time', async (t) => {
  const { clock, actor } = start();
  actor.send({ type: 'LEASE_RENEWED', renewTime: 3_600_000, now: 0 });
  clock.increment(3000);
  t.equal(actor.getSnapshot().value, 'Unreachable', 'a kubelet clock an hour ahead does not keep its node healthy after it stops');
  actor.send({ type: 'LEASE_RENEWED', renewTime: 3_600_000, now: 3000 });
  t.equal(actor.getSnapshot().value, 'Unreachable', 'the same lease seen again is no renewal');
  actor.send({ type: 'LEASE_RENEWED', renewTime: 3_601_000, now: 3000 });
  t.equal(actor.getSnapshot().value, 'Healthy', 'a newer one is');
});

t.test('an unreachable node recovers on a new renewal however old its renewTime', async (t) => {
  const { clock, calls, actor } = start();
  actor.send({ type: 'LEASE_RENEWED', renewTime: 100, now: 0 });
  clock.increment(3000);
  clock.increment(2000);
  t.equal(actor.getSnapshot().value, 'Evicted');
  actor.send({ type: 'LEASE_RENEWED', renewTime: 200, now: 5000 });
  t.equal(actor.getSnapshot().value, 'Healthy');
  t.same(calls, ['unreachable:node-1@3000', 'evict:node-1', 'reachable:node-1']);
});

t.test('a renewal handed over late counts from when it was observed (observedAt), never later than now', async (t) => {
  const { clock, calls, actor } = start({ grace: 3000 });
  // Observed at 1000, handed to the actor at 2000: the grace period runs from 1000.
  clock.increment(2000);
  actor.send({ type: 'LEASE_RENEWED', renewTime: 1000, now: 2000, observedAt: 1000 });
  clock.increment(1999);
  t.equal(actor.getSnapshot().value, 'Healthy', 'until 3999');
  clock.increment(1);
  t.equal(actor.getSnapshot().value, 'Unreachable', 'unreachable at 4000 = observedAt + grace, not at 5000');
  t.same(calls, ['unreachable:node-1@4000']);
  // An observedAt in the future of the actor's clock is taken as now.
  actor.send({ type: 'LEASE_RENEWED', renewTime: 5000, now: 4100, observedAt: 9000 });
  t.equal(actor.getSnapshot().context.renewedAt, 4100);
});
