/** The HPA actor (actors/hpa/machine.ts) with a simulated clock: sync period, decisions applied, history kept, errors survived. */
import t from 'tap';
import { createActor, fromPromise, SimulatedClock, waitFor } from 'xstate';
import { hpaMachine, type ApplyInput, type HpaObject, type Observation } from '../actors/hpa/index.js';

const hpa = (max = 10): HpaObject => ({
  metadata: { name: 'web', namespace: 'default' },
  spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: max, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }], behavior: { scaleDown: { stabilizationWindowSeconds: 30 } } },
});

/** A fake scale target whose pods all run at `load` cores each (request 0.1 core). */
function world(clock: SimulatedClock) {
  const w = { replicas: 1, load: 0.3, observes: 0, applies: [] as ApplyInput[], failObserve: false };
  const machine = hpaMachine.provide({
    actors: {
      observe: fromPromise<Observation, { hpa: HpaObject }>(async () => {
        w.observes++;
        if (w.failObserve) throw new Error('metrics server unavailable');
        return {
          now: clock.now(),
          currentReplicas: w.replicas,
          pods: Array.from({ length: w.replicas }, (_, i) => ({ name: `p${i}`, ready: true, ignored: false, requests: { cpu: 0.1 }, usage: { cpu: w.load, memory: 1 } })),
          services: {},
        };
      }),
      apply: fromPromise<void, ApplyInput>(async ({ input }) => {
        w.applies.push(input);
        if (input.decision.rescale) w.replicas = input.decision.desiredReplicas;
      }),
    },
  });
  return { w, machine };
}

t.test('syncs every period: scales up at the policy rate, down after the window', async (t) => {
  const clock = new SimulatedClock();
  clock.set(1_000_000);
  const { w, machine } = world(clock);
  const actor = createActor(machine, { clock, input: { hpa: hpa(), syncPeriodMs: 15_000 } }).start();
  await waitFor(actor, (s) => s.matches('Waiting'));
  t.equal(w.observes, 1, 'the first sync runs at once');
  t.equal(w.replicas, 5, '300% of 50% wants 6; +4 pods per 15 s gives 5');
  clock.increment(14_999);
  t.equal(w.observes, 1, 'nothing before the period');
  clock.increment(1);
  await waitFor(actor, (s) => s.matches('Waiting') && w.observes === 2);
  t.equal(w.replicas, 10, 'next period: capped by maxReplicas 10');
  t.match(w.applies[1].decision.conditions[2], { type: 'ScalingLimited', reason: 'TooManyReplicas' });

  w.load = 0.01; // load gone: 10% of request
  clock.increment(15_000);
  await waitFor(actor, (s) => s.matches('Waiting') && w.observes === 3);
  t.equal(w.replicas, 10, 'still 10: 30 was recommended within the 30 s scale-down window');
  clock.increment(15_000);
  await waitFor(actor, (s) => s.matches('Waiting') && w.observes === 4);
  t.equal(w.replicas, 2, 'once that recommendation is older than the window: ceil(10 × 0.2) = 2');
  t.match(w.applies.at(-1)!.decision.events[0].message, /^New size: 2; reason: cpu resource utilization \(percentage of request\) below target/);
  actor.stop();
});

t.test('a failed observation is retried next period; HPA_UPDATED takes effect; HPA_DELETED stops', async (t) => {
  const clock = new SimulatedClock();
  clock.set(0);
  const { w, machine } = world(clock);
  w.failObserve = true;
  const actor = createActor(machine, { clock, input: { hpa: hpa(), syncPeriodMs: 1000 } }).start();
  await waitFor(actor, (s) => s.matches('Waiting'));
  t.equal(actor.getSnapshot().context.error, 'metrics server unavailable');
  t.equal(w.applies.length, 0);
  w.failObserve = false;
  actor.send({ type: 'HPA_UPDATED', hpa: hpa(3) });
  clock.increment(1000);
  await waitFor(actor, (s) => s.matches('Waiting') && w.applies.length === 1);
  t.equal(w.replicas, 3, 'the updated maxReplicas is used');
  t.equal(actor.getSnapshot().context.error, undefined);
  actor.send({ type: 'HPA_DELETED' });
  t.equal(actor.getSnapshot().status, 'done');
});
