/**
 * The replica calculator of Kubernetes' HPA (pkg/controller/podautoscaler/replica_calculator.go),
 * as pure functions: desired = ceil(ratio × ready pods) where ratio = current / target, nothing
 * changes within the tolerance, and pods without a metric or not Ready are handled as Kubernetes
 * does (missing pods count as 100 % of target when scaling down and 0 when scaling up; unready
 * pods count as 0 when scaling up; a rescale that these assumptions would reverse is dropped).
 */

/** One pod the HPA's selector matches, as the calculator needs it. */
export interface PodSample {
  name: string;
  /** Ready condition True. */
  ready: boolean;
  /** Being deleted, or Failed: ignored entirely. */
  ignored: boolean;
  /** The metric's value for the pod (usage, or rate); undefined when there is none. */
  value?: number;
  /** Sum of the pod's container requests of the resource (Utilization only). */
  request?: number;
}

export interface Proposal {
  replicas: number;
  /** Utilization (percent) or average value the decision was based on. */
  current: number;
}

/** ceil that ignores float noise (0.1 × 20 must give 2, not 3); Kubernetes works in milli-units. */
function ceil(x: number): number {
  return Math.ceil(x - 1e-9);
}

export class MetricError extends Error {
  override readonly name = 'MetricError';
}

function ratioOf(values: Map<string, number>, requests: Map<string, number> | undefined, target: number): { ratio: number; current: number } {
  let sum = 0;
  let req = 0;
  for (const [name, v] of values) {
    sum += v;
    if (requests) req += requests.get(name) ?? 0;
  }
  if (requests) {
    // Kubernetes truncates utilization to a whole percent (int32).
    const utilization = req > 0 ? Math.floor((sum * 100) / req + 1e-9) : 0;
    return { ratio: utilization / target, current: utilization };
  }
  const average = values.size ? sum / values.size : 0;
  return { ratio: average / target, current: average };
}

/**
 * Pod-averaged metrics: Resource (Utilization of requests with `utilization` set, else AverageValue) and Pods.
 * `treatUnready`: only CPU treats unready pods specially (they are excluded and count 0 on scale up).
 */
export function podMetricReplicas(
  currentReplicas: number,
  pods: PodSample[],
  target: number,
  opts: { utilization: boolean; treatUnready: boolean; tolerance: number },
): Proposal {
  const values = new Map<string, number>();
  const requests = opts.utilization ? new Map<string, number>() : undefined;
  const missing: PodSample[] = [];
  const unready: PodSample[] = [];
  let readyCount = 0;
  for (const p of pods) {
    if (p.ignored) continue;
    if (requests) {
      if (!p.request || p.request <= 0) throw new MetricError(`missing request for the resource in pod ${p.name}`);
      requests.set(p.name, p.request);
    }
    if (p.value === undefined) missing.push(p);
    else if (opts.treatUnready && !p.ready) unready.push(p);
    else {
      values.set(p.name, p.value);
      readyCount++;
    }
  }
  if (values.size === 0) throw new MetricError('did not receive metrics for targeted pods (pods might be unready)');
  const first = ratioOf(values, requests, target);
  const within = (r: number) => Math.abs(1 - r) <= opts.tolerance;
  const scaleUpWithUnready = unready.length > 0 && first.ratio > 1;
  if (!scaleUpWithUnready && missing.length === 0) {
    if (within(first.ratio)) return { replicas: currentReplicas, current: first.current };
    return { replicas: ceil(first.ratio * readyCount), current: first.current };
  }
  // Assume the worst for the direction of the change, then check the change still holds.
  if (missing.length) {
    for (const p of missing) values.set(p.name, first.ratio < 1 ? (requests ? (p.request! * target) / 100 : target) : 0);
  }
  if (scaleUpWithUnready) for (const p of unready) values.set(p.name, 0);
  const next = ratioOf(values, requests, target);
  if (within(next.ratio) || (first.ratio < 1 && next.ratio > 1) || (first.ratio > 1 && next.ratio < 1)) return { replicas: currentReplicas, current: first.current };
  const replicas = ceil(next.ratio * values.size);
  if ((next.ratio < 1 && replicas > currentReplicas) || (next.ratio > 1 && replicas < currentReplicas)) return { replicas: currentReplicas, current: first.current };
  return { replicas, current: first.current };
}

/** Object metric with a Value target: ratio = value / target, applied to the ready pods. */
export function objectValueReplicas(currentReplicas: number, readyPods: number, value: number, target: number, tolerance: number): Proposal {
  const ratio = value / target;
  if (Math.abs(1 - ratio) <= tolerance) return { replicas: currentReplicas, current: value };
  return { replicas: ceil(ratio * readyPods), current: value };
}

/** Object metric with an AverageValue target: the total divided by the target per pod. */
export function objectAverageReplicas(currentReplicas: number, value: number, target: number, tolerance: number): Proposal {
  const ratio = value / (target * Math.max(1, currentReplicas));
  if (Math.abs(1 - ratio) <= tolerance) return { replicas: currentReplicas, current: value / Math.max(1, currentReplicas) };
  return { replicas: ceil(value / target), current: value / Math.max(1, currentReplicas) };
}
