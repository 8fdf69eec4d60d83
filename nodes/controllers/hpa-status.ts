/**
 * The HPA's status after a sync (autoscaling/v2 HorizontalPodAutoscalerStatus), from the
 * decision: a condition keeps its lastTransitionTime while its status stays the same, as
 * Kubernetes' setCondition does, so an unchanged sync writes nothing.
 */
import type { Condition, Decision } from '../../actors/hpa/index.js';
import { nowTimestamp } from '../../protocol/objects.js';

type Loose = Record<string, any>;

export interface HpaStatus {
  observedGeneration?: number;
  lastScaleTime?: string;
  currentReplicas: number;
  desiredReplicas: number;
  currentMetrics: Record<string, unknown>[] | null;
  conditions: (Condition & { lastTransitionTime: string })[];
}

/** Replaces (or adds) a condition, keeping its lastTransitionTime when the status did not change. */
export function withConditions(previous: readonly Loose[] | undefined, next: readonly Condition[], now: number): HpaStatus['conditions'] {
  const out: HpaStatus['conditions'] = (previous ?? []).filter((c) => !next.some((n) => n.type === c.type)).map((c) => ({ ...c }) as HpaStatus['conditions'][number]);
  for (const c of next) {
    const old = (previous ?? []).find((p) => p.type === c.type);
    const lastTransitionTime = old && old.status === c.status && old.lastTransitionTime ? old.lastTransitionTime : nowTimestamp(now);
    out.push({ type: c.type, status: c.status, lastTransitionTime, reason: c.reason, message: c.message });
  }
  const order = ['AbleToScale', 'ScalingActive', 'ScalingLimited'];
  return out.sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
}

export function hpaStatus(previous: Loose | undefined, generation: number | undefined, decision: Decision, now: number, rescaled: boolean): HpaStatus {
  const lastScaleTime = rescaled ? nowTimestamp(now) : previous?.lastScaleTime;
  return {
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    ...(lastScaleTime ? { lastScaleTime } : {}),
    currentReplicas: decision.currentReplicas,
    desiredReplicas: decision.desiredReplicas,
    // Nothing measured: null, so `get hpa` shows <unknown> rather than an old figure.
    currentMetrics: decision.currentMetrics.length ? decision.currentMetrics : null,
    conditions: withConditions(previous?.conditions, decision.conditions, now),
  };
}

/** The decision after the scale write failed: AbleToScale False, FailedUpdateScale (Kubernetes' wording). */
export function failedRescale(decision: Decision, error: string): Decision {
  const message = `the HPA controller was unable to update the target scale: ${error}`;
  return {
    ...decision,
    desiredReplicas: decision.currentReplicas,
    rescale: false,
    conditions: [{ type: 'AbleToScale', status: 'False', reason: 'FailedUpdateScale', message }, ...decision.conditions.filter((c) => c.type !== 'AbleToScale')],
  };
}
