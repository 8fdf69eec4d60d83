/**
 * `spec.behavior`: stabilization windows and scaling policies, as Kubernetes' HPA controller
 * applies them (normalizeDesiredReplicasWithBehaviors), with its defaults: scale up with no
 * window, at most +4 pods or +100 % per 15 s (the larger); scale down with a 300 s window, at most
 * −100 % per 15 s. Pure: the history (recommendations and scale events) is passed in and out.
 */

export interface ScalingPolicy {
  type: 'Pods' | 'Percent';
  value: number;
  periodSeconds: number;
}
export interface ScalingRules {
  stabilizationWindowSeconds: number;
  selectPolicy: 'Max' | 'Min' | 'Disabled';
  policies: ScalingPolicy[];
}
export interface Behavior {
  scaleUp: ScalingRules;
  scaleDown: ScalingRules;
}
/** What `spec.behavior` may hold (any field may be missing). */
export interface BehaviorSpec {
  scaleUp?: Partial<ScalingRules> | null;
  scaleDown?: Partial<ScalingRules> | null;
}

export const DEFAULT_SCALE_UP: ScalingRules = {
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [
    { type: 'Pods', value: 4, periodSeconds: 15 },
    { type: 'Percent', value: 100, periodSeconds: 15 },
  ],
};
export const DEFAULT_SCALE_DOWN: ScalingRules = {
  stabilizationWindowSeconds: 300,
  selectPolicy: 'Max',
  policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
};

/**
 * Fills what `spec` leaves out with the defaults; `downscaleStabilizationSeconds` is the
 * controller-wide default window for scale down (kube-controller-manager's
 * `--horizontal-pod-autoscaler-downscale-stabilization`).
 */
export function effectiveBehavior(spec: BehaviorSpec | undefined | null, downscaleStabilizationSeconds = DEFAULT_SCALE_DOWN.stabilizationWindowSeconds): Behavior {
  const fill = (r: Partial<ScalingRules> | null | undefined, d: ScalingRules): ScalingRules => ({
    stabilizationWindowSeconds: r?.stabilizationWindowSeconds ?? d.stabilizationWindowSeconds,
    selectPolicy: r?.selectPolicy ?? d.selectPolicy,
    policies: r?.policies?.length ? r.policies : d.policies,
  });
  return { scaleUp: fill(spec?.scaleUp, DEFAULT_SCALE_UP), scaleDown: fill(spec?.scaleDown, { ...DEFAULT_SCALE_DOWN, stabilizationWindowSeconds: downscaleStabilizationSeconds }) };
}

export interface Recommendation {
  at: number;
  replicas: number;
}
export interface ScaleEvent {
  at: number;
  /** Pods added (scale up) or removed (scale down), > 0. */
  change: number;
}

/**
 * Stabilization: scale up to at most the lowest recommendation within the scale-up window, down
 * to at least the highest within the scale-down window. Returns the stabilized count and the
 * history with this recommendation added (and entries older than both windows dropped).
 */
export function stabilize(
  now: number,
  current: number,
  desired: number,
  history: readonly Recommendation[],
  behavior: Behavior,
): { replicas: number; history: Recommendation[] } {
  const upCutoff = now - behavior.scaleUp.stabilizationWindowSeconds * 1000;
  const downCutoff = now - behavior.scaleDown.stabilizationWindowSeconds * 1000;
  let up = desired;
  let down = desired;
  for (const r of history) {
    if (r.at > upCutoff) up = Math.min(up, r.replicas);
    if (r.at > downCutoff) down = Math.max(down, r.replicas);
  }
  let replicas = current;
  if (replicas < up) replicas = up;
  if (replicas > down) replicas = down;
  const keepFrom = Math.min(upCutoff, downCutoff);
  return { replicas, history: [...history.filter((r) => r.at > keepFrom), { at: now, replicas: desired }] };
}

function changeWithin(events: readonly ScaleEvent[], now: number, periodSeconds: number): number {
  const cutoff = now - periodSeconds * 1000;
  return events.filter((e) => e.at > cutoff).reduce((s, e) => s + e.change, 0);
}

/** The highest count the scale-up policies allow now, given the recent scale-ups. */
export function scaleUpLimit(now: number, current: number, events: readonly ScaleEvent[], rules: ScalingRules): number {
  if (rules.selectPolicy === 'Disabled') return current;
  let result = rules.selectPolicy === 'Min' ? Infinity : -Infinity;
  for (const p of rules.policies) {
    const start = current - changeWithin(events, now, p.periodSeconds);
    const proposed = p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
    result = rules.selectPolicy === 'Min' ? Math.min(result, proposed) : Math.max(result, proposed);
  }
  return result;
}

/** The lowest count the scale-down policies allow now, given the recent scale-downs. */
export function scaleDownLimit(now: number, current: number, events: readonly ScaleEvent[], rules: ScalingRules): number {
  if (rules.selectPolicy === 'Disabled') return current;
  let result = rules.selectPolicy === 'Min' ? -Infinity : Infinity;
  for (const p of rules.policies) {
    const start = current + changeWithin(events, now, p.periodSeconds);
    const proposed = p.type === 'Pods' ? start - p.value : Math.floor(start * (1 - p.value / 100));
    result = rules.selectPolicy === 'Min' ? Math.max(result, proposed) : Math.min(result, proposed);
  }
  return result;
}

export type LimitReason = 'DesiredWithinRange' | 'ScaleUpLimit' | 'TooManyReplicas' | 'ScaleDownLimit' | 'TooFewReplicas';
export const LIMIT_MESSAGES: Record<LimitReason, string> = {
  DesiredWithinRange: 'the desired count is within the acceptable range',
  ScaleUpLimit: 'the desired replica count is increasing faster than the maximum scale rate',
  TooManyReplicas: 'the desired replica count is more than the maximum replica count',
  ScaleDownLimit: 'the desired replica count is decreasing faster than the maximum scale rate',
  TooFewReplicas: 'the desired replica count is less than the minimum replica count',
};

/** Caps the stabilized count by the policies and by min/max replicas. */
export function applyRateLimits(
  now: number,
  current: number,
  desired: number,
  min: number,
  max: number,
  upEvents: readonly ScaleEvent[],
  downEvents: readonly ScaleEvent[],
  behavior: Behavior,
): { replicas: number; reason: LimitReason } {
  if (desired > current) {
    const limit = Math.max(current, scaleUpLimit(now, current, upEvents, behavior.scaleUp));
    const [allowed, reason]: [number, LimitReason] = max > limit ? [limit, 'ScaleUpLimit'] : [max, 'TooManyReplicas'];
    if (desired > allowed) return { replicas: allowed, reason };
  } else if (desired < current) {
    const limit = Math.min(current, scaleDownLimit(now, current, downEvents, behavior.scaleDown));
    const [allowed, reason]: [number, LimitReason] = min < limit ? [limit, 'ScaleDownLimit'] : [min, 'TooFewReplicas'];
    if (desired < allowed) return { replicas: allowed, reason };
  }
  return { replicas: desired, reason: 'DesiredWithinRange' };
}

/** Scale events kept: only those within the longest policy period matter. */
export function pruneEvents(events: readonly ScaleEvent[], now: number, rules: ScalingRules): ScaleEvent[] {
  const longest = Math.max(0, ...rules.policies.map((p) => p.periodSeconds));
  return events.filter((e) => e.at > now - longest * 1000);
}
