/**
 * One HPA sync as a pure function (the body of Kubernetes' reconcileAutoscaler): from the HPA
 * spec, the target's replica count and what the metrics say about its pods, compute the new
 * replica count, status.currentMetrics, the conditions and the Events to record.
 */
import { parseQuantity } from '../../protocol/quantity.js';
import {
  applyRateLimits,
  effectiveBehavior,
  LIMIT_MESSAGES,
  pruneEvents,
  stabilize,
  type BehaviorSpec,
  type Recommendation,
  type ScaleEvent,
} from './behavior.js';
import { MetricError, objectAverageReplicas, objectValueReplicas, podMetricReplicas, type PodSample } from './replicas.js';

/** A pod the HPA's selector matches, with what was measured for it. */
export interface ObservedPod {
  name: string;
  ready: boolean;
  ignored: boolean;
  /** Sum of container requests: cpu in cores, memory in bytes. */
  requests: { cpu?: number; memory?: number };
  /** Usage from the metrics server: cpu in cores, memory in bytes. */
  usage?: { cpu: number; memory: number };
  /** Rates through kube-proxy, per second. */
  traffic?: { requests_per_second: number; connections_per_second: number };
}
export interface Observation {
  now: number;
  /** The target's spec.replicas; undefined when the target was not found. */
  currentReplicas?: number;
  targetError?: string;
  pods: ObservedPod[];
  /** Rates per Service name (Object metrics). */
  services: Record<string, { requests_per_second: number; connections_per_second: number }>;
}
export interface History {
  recommendations: Recommendation[];
  scaleUpEvents: ScaleEvent[];
  scaleDownEvents: ScaleEvent[];
}
export interface DecideOptions {
  tolerance: number;
  /** Default scale-down stabilization when the HPA sets none, s. */
  downscaleStabilizationSeconds: number;
}
export interface Condition {
  type: 'AbleToScale' | 'ScalingActive' | 'ScalingLimited';
  status: 'True' | 'False';
  reason: string;
  message: string;
}
export interface HpaEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}
export interface Decision {
  currentReplicas: number;
  desiredReplicas: number;
  /** Whether the target's replica count must be written. */
  rescale: boolean;
  currentMetrics: Record<string, unknown>[];
  conditions: Condition[];
  events: HpaEvent[];
  history: History;
}

/** A quantity the way Kubernetes prints a milli-value: `250m`, `2`. */
export function milliQuantity(v: number): string {
  const m = Math.round(v * 1000);
  return m % 1000 === 0 ? String(m / 1000) : `${m}m`;
}

// Loose shapes of spec.metrics entries (validated by the API server).
interface MetricTarget {
  type: 'Utilization' | 'AverageValue' | 'Value';
  averageUtilization?: number;
  averageValue?: string | number;
  value?: string | number;
}
interface MetricSpec {
  type: 'Resource' | 'Pods' | 'Object';
  resource?: { name: 'cpu' | 'memory'; target: MetricTarget };
  pods?: { metric: { name: string }; target: MetricTarget };
  object?: { describedObject: { kind: string; name: string; apiVersion?: string }; metric: { name: string }; target: MetricTarget };
}
export interface HpaSpec {
  minReplicas?: number;
  maxReplicas: number;
  metrics?: MetricSpec[];
  behavior?: BehaviorSpec;
}

interface MetricResult {
  replicas: number;
  status: Record<string, unknown>;
  /** `cpu resource utilization (percentage of request)`, as the Kubernetes messages name metrics. */
  label: string;
  /** `180%/50%`. */
  numbers: string;
}

type TrafficName = 'requests_per_second' | 'connections_per_second';

function evaluate(m: MetricSpec, current: number, obs: Observation, tolerance: number): MetricResult {
  if (m.type === 'Resource' && m.resource) {
    const { name, target } = m.resource;
    const samples: PodSample[] = obs.pods.map((p) => ({ name: p.name, ready: p.ready, ignored: p.ignored, value: p.usage?.[name], request: p.requests[name] }));
    if (target.type === 'Utilization') {
      const r = podMetricReplicas(current, samples, target.averageUtilization!, { utilization: true, treatUnready: name === 'cpu', tolerance });
      const util = Math.round(r.current);
      const avg = averageOf(samples, name);
      return {
        replicas: r.replicas,
        status: { type: 'Resource', resource: { name, current: { averageUtilization: util, averageValue: name === 'cpu' ? milliQuantity(avg) : String(Math.round(avg)) } } },
        label: `${name} resource utilization (percentage of request)`,
        numbers: `${util}%/${target.averageUtilization}%`,
      };
    }
    const t = parseQuantity(target.averageValue) ?? 0;
    const r = podMetricReplicas(current, samples, t, { utilization: false, treatUnready: name === 'cpu', tolerance });
    const shown = name === 'cpu' ? milliQuantity(r.current) : String(Math.round(r.current));
    return { replicas: r.replicas, status: { type: 'Resource', resource: { name, current: { averageValue: shown } } }, label: `${name} resource`, numbers: `${shown}/${target.averageValue}` };
  }
  if (m.type === 'Pods' && m.pods) {
    const metric = m.pods.metric.name as TrafficName;
    const samples: PodSample[] = obs.pods.map((p) => ({ name: p.name, ready: p.ready, ignored: p.ignored, value: p.traffic?.[metric] }));
    const t = parseQuantity(m.pods.target.averageValue) ?? 0;
    const r = podMetricReplicas(current, samples, t, { utilization: false, treatUnready: false, tolerance });
    return { replicas: r.replicas, status: { type: 'Pods', pods: { metric: { name: metric }, current: { averageValue: milliQuantity(r.current) } } }, label: `pods metric ${metric}`, numbers: `${milliQuantity(r.current)}/${m.pods.target.averageValue}` };
  }
  if (m.type === 'Object' && m.object) {
    const { describedObject, metric, target } = m.object;
    const svc = obs.services[describedObject.name];
    if (!svc) throw new MetricError(`unable to get metric ${metric.name}: no traffic measured for ${describedObject.kind} ${describedObject.name}`);
    const value = svc[metric.name as TrafficName] ?? 0;
    const readyPods = obs.pods.filter((p) => p.ready && !p.ignored).length;
    const label = `${metric.name} metric on ${describedObject.kind}/${describedObject.name}`;
    if (target.type === 'AverageValue') {
      const t = parseQuantity(target.averageValue) ?? 0;
      const r = objectAverageReplicas(current, value, t, tolerance);
      return { replicas: r.replicas, status: { type: 'Object', object: { describedObject, metric, current: { averageValue: milliQuantity(r.current) } } }, label, numbers: `${milliQuantity(r.current)}/${target.averageValue} (avg)` };
    }
    const t = parseQuantity(target.value) ?? 0;
    const r = objectValueReplicas(current, readyPods, value, t, tolerance);
    return { replicas: r.replicas, status: { type: 'Object', object: { describedObject, metric, current: { value: milliQuantity(value) } } }, label, numbers: `${milliQuantity(value)}/${target.value}` };
  }
  throw new MetricError(`unsupported metric type ${m.type}`);
}

function averageOf(samples: PodSample[], _name: string): number {
  const vals = samples.filter((s) => !s.ignored && s.value !== undefined).map((s) => s.value!);
  return vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : 0;
}

const FAILED_REASON: Record<MetricSpec['type'], string> = { Resource: 'FailedGetResourceMetric', Pods: 'FailedGetPodsMetric', Object: 'FailedGetObjectMetric' };

export function decide(spec: HpaSpec, obs: Observation, history: History, opts: DecideOptions): Decision {
  const min = spec.minReplicas ?? 1;
  const max = spec.maxReplicas;
  const behavior = effectiveBehavior(spec.behavior, opts.downscaleStabilizationSeconds);
  const conditions: Condition[] = [];
  const events: HpaEvent[] = [];
  if (obs.currentReplicas === undefined) {
    const message = `the HPA controller was unable to get the target's current scale: ${obs.targetError ?? 'not found'}`;
    return {
      currentReplicas: 0,
      desiredReplicas: 0,
      rescale: false,
      currentMetrics: [],
      conditions: [{ type: 'AbleToScale', status: 'False', reason: 'FailedGetScale', message }],
      events: [{ type: 'Warning', reason: 'FailedGetScale', message: obs.targetError ?? 'target not found' }],
      history,
    };
  }
  const current = obs.currentReplicas;
  let desired: number;
  let reason: string;
  const currentMetrics: Record<string, unknown>[] = [];
  let limitReason: keyof typeof LIMIT_MESSAGES | undefined;
  let next = history;
  if (current === 0 && min > 0) {
    conditions.push({ type: 'ScalingActive', status: 'False', reason: 'ScalingDisabled', message: 'scaling is disabled since the replica count of the target is zero' });
    desired = 0;
    reason = '';
  } else if (current > max) {
    desired = max;
    reason = 'Current number of replicas above Spec.MaxReplicas';
    limitReason = 'TooManyReplicas';
    conditions.push({ type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound', message: 'the HPA was able to successfully calculate a replica count' });
  } else if (current < min) {
    desired = min;
    reason = 'Current number of replicas below Spec.MinReplicas';
    limitReason = 'TooFewReplicas';
    conditions.push({ type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound', message: 'the HPA was able to successfully calculate a replica count' });
  } else {
    let best: MetricResult | undefined;
    const numbers: string[] = [];
    let firstError: { reason: string; message: string } | undefined;
    for (const m of spec.metrics ?? []) {
      try {
        const r = evaluate(m, current, obs, opts.tolerance);
        currentMetrics.push(r.status);
        numbers.push(`${r.label} ${r.numbers}`);
        if (!best || r.replicas > best.replicas) best = r;
      } catch (e) {
        // An empty status keeps the positions: currentMetrics[i] belongs to spec.metrics[i] (as in Kubernetes).
        currentMetrics.push({ type: '' });
        const err = { reason: FAILED_REASON[m.type] ?? 'FailedGetResourceMetric', message: (e as Error).message };
        firstError ??= err;
        events.push({ type: 'Warning', ...err });
      }
    }
    if (!best) {
      const message = `the HPA was unable to compute the replica count: ${firstError?.message ?? 'no metrics'}`;
      conditions.push({ type: 'AbleToScale', status: 'True', reason: 'SucceededGetScale', message: 'the HPA controller was able to get the target\'s current scale' });
      conditions.push({ type: 'ScalingActive', status: 'False', reason: firstError?.reason ?? 'FailedGetResourceMetric', message });
      return { currentReplicas: current, desiredReplicas: current, rescale: false, currentMetrics, conditions, events, history };
    }
    conditions.push({ type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound', message: `the HPA was able to successfully calculate a replica count from ${best.label}` });
    const stab = stabilize(obs.now, current, best.replicas, history.recommendations, behavior);
    const limited = applyRateLimits(obs.now, current, stab.replicas, min, max, history.scaleUpEvents, history.scaleDownEvents, behavior);
    desired = limited.replicas;
    limitReason = limited.reason;
    next = { ...history, recommendations: stab.history };
    const direction = best.replicas > current ? 'above' : 'below';
    reason = `${best.label} ${direction} target (${numbers.join('; ')}; recommended ${best.replicas}, stabilized ${stab.replicas})`;
  }
  if (limitReason) conditions.push({ type: 'ScalingLimited', status: limitReason === 'DesiredWithinRange' ? 'False' : 'True', reason: limitReason, message: LIMIT_MESSAGES[limitReason] });
  const rescale = desired !== current && !(current === 0 && min > 0);
  if (rescale) {
    conditions.unshift({ type: 'AbleToScale', status: 'True', reason: 'SucceededRescale', message: `the HPA controller was able to update the target scale to ${desired}` });
    events.push({ type: 'Normal', reason: 'SuccessfulRescale', message: `New size: ${desired}; reason: ${reason}` });
    const change = { at: obs.now, change: Math.abs(desired - current) };
    if (desired > current) next = { ...next, scaleUpEvents: [...pruneEvents(next.scaleUpEvents, obs.now, behavior.scaleUp), change] };
    else next = { ...next, scaleDownEvents: [...pruneEvents(next.scaleDownEvents, obs.now, behavior.scaleDown), change] };
  } else {
    conditions.unshift({ type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale', message: 'recommended size matches current size' });
  }
  return { currentReplicas: current, desiredReplicas: desired, rescale, currentMetrics, conditions, events, history: next };
}
