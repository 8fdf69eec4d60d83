/** The HPA's pure algorithm (actors/hpa): replica calculator, behavior (stabilization, policies), decide. */
import t from 'tap';
import {
  applyRateLimits,
  decide,
  effectiveBehavior,
  MetricError,
  objectAverageReplicas,
  objectValueReplicas,
  podMetricReplicas,
  scaleDownLimit,
  scaleUpLimit,
  stabilize,
  type History,
  type HpaSpec,
  type Observation,
  type ObservedPod,
  type PodSample,
} from '../actors/hpa/index.js';

const util = { utilization: true, treatUnready: true, tolerance: 0.1 };
const pod = (name: string, value: number | undefined, request = 1, ready = true, ignored = false): PodSample => ({ name, value, request, ready, ignored });

t.test('utilization: desired = ceil(current × usage/target)', async (t) => {
  // 3 pods at 90% of request, target 50% → ratio 1.8 → ceil(5.4) = 6
  t.equal(podMetricReplicas(3, [pod('a', 0.9), pod('b', 0.9), pod('c', 0.9)], 50, util).replicas, 6);
  t.equal(podMetricReplicas(3, [pod('a', 0.9), pod('b', 0.9), pod('c', 0.9)], 50, util).current, 90);
  // 4 pods at 10%, target 50% → ceil(0.8) = 1
  t.equal(podMetricReplicas(4, ['a', 'b', 'c', 'd'].map((n) => pod(n, 0.1)), 50, util).replicas, 1);
  // requests differ: utilization is sum(usage)/sum(requests)
  t.equal(podMetricReplicas(2, [pod('a', 1, 2), pod('b', 1, 0.5)], 100, util).current, 80);
});

t.test('within the tolerance nothing changes', async (t) => {
  t.equal(podMetricReplicas(3, [pod('a', 0.54), pod('b', 0.54), pod('c', 0.54)], 50, util).replicas, 3, '8% over: within 0.1');
  t.equal(podMetricReplicas(3, [pod('a', 0.56), pod('b', 0.56), pod('c', 0.56)], 50, util).replicas, 4, '12% over: scales');
  t.equal(podMetricReplicas(3, [pod('a', 0.46), pod('b', 0.46), pod('c', 0.46)], 50, util).replicas, 3, '8% under: within');
  t.equal(podMetricReplicas(3, [pod('a', 0.56), pod('b', 0.56), pod('c', 0.56)], 50, { ...util, tolerance: 0.2 }).replicas, 3, 'tolerance is configurable');
});

t.test('missing metrics: 100% on scale down, 0 on scale up; a reversed decision is dropped', async (t) => {
  // scale down: a,b at 10%, c missing → c counts as 50% (target) → ratio (0.1+0.1+0.5)/3/0.5 = 0.467 → ceil(1.4)=2
  t.equal(podMetricReplicas(3, [pod('a', 0.1), pod('b', 0.1), pod('c', undefined)], 50, util).replicas, 2);
  // scale up: a,b at 100%, c missing → c counts 0 → ratio (1+1+0)/3/0.5 = 1.33 → ceil(4) = 4
  t.equal(podMetricReplicas(3, [pod('a', 1), pod('b', 1), pod('c', undefined)], 50, util).replicas, 4);
  // scale up of ratio 1.2 with two missing pods: counted as 0 it becomes < 1 → no change
  t.equal(podMetricReplicas(3, [pod('a', 0.6), pod('b', undefined), pod('c', undefined)], 50, util).replicas, 3);
});

t.test('unready pods (cpu): left out, counted as 0 when scaling up', async (t) => {
  // ready a at 100%, unready b (metric 100%) → b counts 0 → ratio (1+0)/2/0.5=1 → within tolerance → no change
  t.equal(podMetricReplicas(2, [pod('a', 1), pod('b', 1, 1, false)], 50, util).replicas, 2);
  // ready a,b at 150%, unready c → (1.5+1.5+0)/3/0.5 = 2 → ceil(6) = 6
  t.equal(podMetricReplicas(3, [pod('a', 1.5), pod('b', 1.5), pod('c', 1.5, 1, false)], 50, util).replicas, 6);
  // scaling down, unready pods are just left out: a,b at 10% → ceil(0.2*2)=1
  t.equal(podMetricReplicas(3, [pod('a', 0.1), pod('b', 0.1), pod('c', 1, 1, false)], 50, util).replicas, 1);
  // memory does not treat unready specially
  t.equal(podMetricReplicas(2, [pod('a', 1), pod('b', 1, 1, false)], 50, { ...util, treatUnready: false }).replicas, 4);
});

t.test('ignored (deleting / failed) pods do not count; errors when no metrics or no request', async (t) => {
  t.equal(podMetricReplicas(3, [pod('a', 1), pod('b', 1, 1, true, true)], 50, util).replicas, 2);
  t.throws(() => podMetricReplicas(2, [pod('a', undefined), pod('b', undefined)], 50, util), MetricError);
  t.throws(() => podMetricReplicas(1, [pod('a', 1, 0)], 50, util), /missing request/);
});

t.test('average value (Pods metric, AverageValue resource) and Object metrics', async (t) => {
  const av = { utilization: false, treatUnready: false, tolerance: 0.1 };
  // 2 pods at 30 rps each, target 10 → ceil(3 × 2) = 6
  t.equal(podMetricReplicas(2, [pod('a', 30), pod('b', 30)], 10, av).replicas, 6);
  t.equal(podMetricReplicas(2, [pod('a', 30), pod('b', 30)], 10, av).current, 30);
  // Object Value: service at 50 rps, target 10, 2 ready pods → ceil(5 × 2) = 10
  t.equal(objectValueReplicas(2, 2, 50, 10, 0.1).replicas, 10);
  t.equal(objectValueReplicas(2, 2, 10.5, 10, 0.1).replicas, 2, 'within tolerance');
  // Object AverageValue: 50 rps total, 10 per pod → 5
  t.equal(objectAverageReplicas(2, 50, 10, 0.1).replicas, 5);
});

t.test('behavior defaults and overrides', async (t) => {
  const d = effectiveBehavior(undefined);
  t.equal(d.scaleUp.stabilizationWindowSeconds, 0);
  t.equal(d.scaleDown.stabilizationWindowSeconds, 300);
  t.same(d.scaleUp.policies, [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }]);
  t.equal(effectiveBehavior(undefined, 5).scaleDown.stabilizationWindowSeconds, 5, 'controller-wide default window');
  const o = effectiveBehavior({ scaleDown: { stabilizationWindowSeconds: 10 } }, 5);
  t.equal(o.scaleDown.stabilizationWindowSeconds, 10, 'the HPA window wins');
  t.equal(o.scaleDown.selectPolicy, 'Max');
});

t.test('stabilization: scale down to the highest recommendation within the window', async (t) => {
  const b = effectiveBehavior({ scaleDown: { stabilizationWindowSeconds: 60 } });
  let h = stabilize(0, 5, 5, [], b).history;
  h = stabilize(10_000, 5, 8, h, b).history;
  const r = stabilize(20_000, 8, 2, h, b);
  t.equal(r.replicas, 8, 'within 60 s of recommending 8, stay at 8');
  const later = stabilize(75_000, 8, 2, r.history, b);
  t.equal(later.replicas, 2, 'after the window the lower recommendation wins');
  const up = stabilize(0, 2, 9, [], b);
  t.equal(up.replicas, 9, 'no scale-up window by default');
  const bu = effectiveBehavior({ scaleUp: { stabilizationWindowSeconds: 30 } });
  const hu = stabilize(0, 2, 3, [], bu).history;
  t.equal(stabilize(10_000, 2, 9, hu, bu).replicas, 3, 'scale-up window: the lowest recommendation within it');
});

t.test('policies: default scale up is max(+4 pods, +100%) per 15 s', async (t) => {
  const b = effectiveBehavior(undefined);
  t.equal(scaleUpLimit(0, 1, [], b.scaleUp), 5, '1 → 5 (+4 pods beats +100%)');
  t.equal(scaleUpLimit(0, 10, [], b.scaleUp), 20, '10 → 20 (+100% beats +4)');
  t.equal(scaleUpLimit(10_000, 5, [{ at: 5_000, change: 4 }], b.scaleUp), 5, 'period start was 1: at most 5 until the period passes');
  t.equal(scaleUpLimit(21_000, 5, [{ at: 5_000, change: 4 }], b.scaleUp), 10, 'the event left the period');
  const r = applyRateLimits(0, 1, 50, 1, 10, [], [], b);
  t.same(r, { replicas: 5, reason: 'ScaleUpLimit' });
  t.same(applyRateLimits(0, 8, 50, 1, 10, [], [], b), { replicas: 10, reason: 'TooManyReplicas' });
  t.same(applyRateLimits(0, 4, 3, 1, 10, [], [], b), { replicas: 3, reason: 'DesiredWithinRange' });
});

t.test('policies: scale down, Min and Disabled', async (t) => {
  const rules = { stabilizationWindowSeconds: 0, selectPolicy: 'Max' as const, policies: [{ type: 'Pods' as const, value: 1, periodSeconds: 60 }, { type: 'Percent' as const, value: 10, periodSeconds: 60 }] };
  t.equal(scaleDownLimit(0, 10, [], rules), 9, 'Max: the policy allowing the larger change (1 pod = 10%)');
  t.equal(scaleDownLimit(0, 30, [], rules), 27, 'Max picks 10% of 30');
  t.equal(scaleDownLimit(0, 30, [], { ...rules, selectPolicy: 'Min' }), 29, 'Min picks 1 pod');
  t.equal(scaleDownLimit(0, 30, [], { ...rules, selectPolicy: 'Disabled' }), 30, 'Disabled: no scale down');
  t.equal(scaleDownLimit(30_000, 27, [{ at: 0, change: 3 }], rules), 27, 'period start 30: already down by 3');
  const b = effectiveBehavior({ scaleDown: { stabilizationWindowSeconds: 0, policies: rules.policies } });
  t.same(applyRateLimits(0, 10, 1, 1, 20, [], [], b), { replicas: 9, reason: 'ScaleDownLimit' });
  t.same(applyRateLimits(0, 3, 1, 2, 20, [], [], effectiveBehavior(undefined)), { replicas: 2, reason: 'TooFewReplicas' });
  t.equal(scaleUpLimit(0, 3, [], { ...rules, selectPolicy: 'Disabled' }), 3);
});

// ---------------------------------------------------------------------------------------------
// decide

const empty = (): History => ({ recommendations: [], scaleUpEvents: [], scaleDownEvents: [] });
const opts = { tolerance: 0.1, downscaleStabilizationSeconds: 300 };
const cpuSpec = (target = 50, min = 1, max = 10): HpaSpec => ({ minReplicas: min, maxReplicas: max, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: target } } }] });
const cpuPods = (...cores: (number | undefined)[]): ObservedPod[] => cores.map((c, i) => ({ name: `p${i}`, ready: true, ignored: false, requests: { cpu: 0.1 }, ...(c === undefined ? {} : { usage: { cpu: c, memory: 1e6 } }) }));
const obs = (current: number, pods: ObservedPod[], now = 0, services: Observation['services'] = {}): Observation => ({ now, currentReplicas: current, pods, services });

t.test('decide: scale up on CPU, with the numbers in the Event and the conditions', async (t) => {
  // 1 pod at 300% of its request, target 50% → ceil(1 × 6) = 6; the default policy allows max(1+4, 1×2) = 5
  const d = decide(cpuSpec(50), obs(1, cpuPods(0.3)), empty(), opts);
  t.equal(d.desiredReplicas, 5);
  t.equal(d.rescale, true);
  t.same(d.currentMetrics, [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 300, averageValue: '300m' } } }]);
  t.match(d.events[0], { type: 'Normal', reason: 'SuccessfulRescale' });
  t.match(d.events[0].message, /^New size: 5; reason: cpu resource utilization \(percentage of request\) above target \(.*300%\/50%; recommended 6, stabilized 6\)$/);
  t.match(d.conditions, [
    { type: 'AbleToScale', status: 'True', reason: 'SucceededRescale' },
    { type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound' },
    { type: 'ScalingLimited', status: 'True', reason: 'ScaleUpLimit' },
  ]);
  t.same(d.history.scaleUpEvents, [{ at: 0, change: 4 }]);
  const next = decide(cpuSpec(50), obs(5, cpuPods(0.3, 0.3, 0.3, 0.3, 0.3), 5_000), d.history, opts);
  t.equal(next.desiredReplicas, 5, 'within the 15 s period the scale-up budget (from 1: +4) is used up');
  t.match(next.conditions[2], { reason: 'ScaleUpLimit' });
  const after = decide(cpuSpec(50), obs(5, cpuPods(0.3, 0.3, 0.3, 0.3, 0.3), 16_000), next.history, opts);
  t.equal(after.desiredReplicas, 10, 'next period: 30 wanted, +100% → 10 (max 10)');
});

t.test('decide: maxReplicas is never exceeded, minReplicas never undershot', async (t) => {
  const d = decide(cpuSpec(10, 1, 3), obs(2, cpuPods(0.5, 0.5)), empty(), opts);
  t.equal(d.desiredReplicas, 3);
  t.match(d.conditions[2], { type: 'ScalingLimited', status: 'True', reason: 'TooManyReplicas' });
  const above = decide(cpuSpec(50, 1, 3), obs(5, cpuPods(0.05, 0.05, 0.05, 0.05, 0.05)), empty(), opts);
  t.equal(above.desiredReplicas, 3, 'current above max: down to max at once');
  t.match(above.events[0].message, /Current number of replicas above Spec.MaxReplicas/);
  const below = decide(cpuSpec(50, 2, 5), obs(1, cpuPods(0.05)), empty(), opts);
  t.equal(below.desiredReplicas, 2);
  const low = decide({ ...cpuSpec(50, 2, 5), behavior: { scaleDown: { stabilizationWindowSeconds: 0 } } }, obs(4, cpuPods(0.01, 0.01, 0.01, 0.01)), empty(), opts);
  t.equal(low.desiredReplicas, 2);
  t.match(low.conditions[2], { reason: 'TooFewReplicas' });
});

t.test('decide: scale down waits for the stabilization window', async (t) => {
  const spec = { ...cpuSpec(50), behavior: { scaleDown: { stabilizationWindowSeconds: 30 } } };
  // 4 pods at 10%, target 50% → ceil(4 × 0.2) = 1, but 4 was recommended a second ago
  const first = decide(spec, obs(4, cpuPods(0.01, 0.01, 0.01, 0.01), 0), { recommendations: [{ at: -1000, replicas: 4 }], scaleUpEvents: [], scaleDownEvents: [] }, opts);
  t.equal(first.desiredReplicas, 4, 'recommended 4 a second ago: stay');
  t.equal(first.rescale, false);
  t.match(first.conditions[0], { type: 'AbleToScale', reason: 'ReadyForNewScale' });
  const later = decide(spec, obs(4, cpuPods(0.01, 0.01, 0.01, 0.01), 31_000), first.history, opts);
  t.equal(later.desiredReplicas, 1, 'after the 30 s window: down to 1');
  t.match(later.events[0].message, /^New size: 1; reason: cpu resource utilization \(percentage of request\) below target \(.*10%\/50%/);
});

t.test('decide: no metrics → ScalingActive False, no rescale; missing target → AbleToScale False', async (t) => {
  const d = decide(cpuSpec(), obs(2, cpuPods(undefined, undefined)), empty(), opts);
  t.equal(d.rescale, false);
  t.match(d.conditions[1], { type: 'ScalingActive', status: 'False', reason: 'FailedGetResourceMetric' });
  t.match(d.events[0], { type: 'Warning', reason: 'FailedGetResourceMetric' });
  const gone = decide(cpuSpec(), { now: 0, pods: [], services: {}, targetError: 'deployments.apps "web" not found' }, empty(), opts);
  t.match(gone.conditions[0], { type: 'AbleToScale', status: 'False', reason: 'FailedGetScale' });
  t.match(gone.conditions[0].message, /deployments.apps "web" not found/);
  const zero = decide(cpuSpec(), obs(0, []), empty(), opts);
  t.match(zero.conditions, [{ type: 'AbleToScale' }, { type: 'ScalingActive', status: 'False', reason: 'ScalingDisabled' }]);
  t.equal(zero.rescale, false);
});

t.test('decide: traffic metrics (Pods and Object on a Service); several metrics take the highest', async (t) => {
  const pods: ObservedPod[] = [0, 1].map((i) => ({ name: `p${i}`, ready: true, ignored: false, requests: { cpu: 0.1 }, usage: { cpu: 0.01, memory: 1 }, traffic: { requests_per_second: 25, connections_per_second: 1 } }));
  const spec: HpaSpec = {
    minReplicas: 1,
    maxReplicas: 20,
    metrics: [
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } },
      { type: 'Pods', pods: { metric: { name: 'requests_per_second' }, target: { type: 'AverageValue', averageValue: '10' } } },
    ],
  };
  const d = decide(spec, obs(2, pods), empty(), opts);
  t.equal(d.desiredReplicas, 5, 'rps 25 per pod / 10 → ceil(2×2.5) = 5 beats cpu');
  t.match(d.currentMetrics[1], { type: 'Pods', pods: { metric: { name: 'requests_per_second' }, current: { averageValue: '25' } } });
  const objSpec: HpaSpec = { minReplicas: 1, maxReplicas: 20, metrics: [{ type: 'Object', object: { describedObject: { kind: 'Service', name: 'web', apiVersion: 'v1' }, metric: { name: 'requests_per_second' }, target: { type: 'Value', value: '20' } } }] };
  const o = decide(objSpec, obs(2, pods, 0, { web: { requests_per_second: 40, connections_per_second: 1 } }), empty(), opts);
  t.equal(o.desiredReplicas, 4);
  t.match(o.currentMetrics[0], { type: 'Object', object: { current: { value: '40' } } });
  const none = decide(objSpec, obs(2, pods), empty(), opts);
  t.match(none.conditions[1], { type: 'ScalingActive', status: 'False', reason: 'FailedGetObjectMetric' });
});
