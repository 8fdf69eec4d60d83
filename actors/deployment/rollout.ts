/**
 * The Deployment controller's arithmetic, after kube-controller-manager's
 * pkg/controller/deployment (rolling.go, recreate.go, sync.go, progress.go) and its
 * util/deployment_util.go. Pure functions over plain objects: no clock (times come in as
 * `now`, ms), no I/O. `plan.ts` strings them together into one reconcile.
 */
import type { Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { nowTimestamp } from '../../protocol/objects.js';
import { POD_TEMPLATE_HASH_LABEL, templatesEqual } from './hash.js';

// ---------------------------------------------------------------------------------------
// Names Kubernetes uses

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
const DEPRECATED_ROLLBACK_TO_ANNOTATION = 'deprecated.deployment.rollback.to';
/** Deployment annotations never copied to its ReplicaSets (annotationsToSkip). */
const ANNOTATIONS_TO_SKIP = new Set([
  LAST_APPLIED_ANNOTATION,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  DEPRECATED_ROLLBACK_TO_ANNOTATION,
]);
/** maxRevHistoryLengthInChars. */
export const MAX_REVISION_HISTORY_CHARS = 2000;
/** progressDeadlineSeconds / revisionHistoryLimit meaning "never" (math.MaxInt32). */
export const MAX_INT32 = 2147483647;

export const Reason = {
  ReplicaSetUpdated: 'ReplicaSetUpdated',
  FailedRSCreate: 'ReplicaSetCreateError',
  NewReplicaSetCreated: 'NewReplicaSetCreated',
  FoundNewReplicaSet: 'FoundNewReplicaSet',
  NewReplicaSetAvailable: 'NewReplicaSetAvailable',
  ProgressDeadlineExceeded: 'ProgressDeadlineExceeded',
  DeploymentPaused: 'DeploymentPaused',
  DeploymentResumed: 'DeploymentResumed',
  MinimumReplicasAvailable: 'MinimumReplicasAvailable',
  MinimumReplicasUnavailable: 'MinimumReplicasUnavailable',
} as const;

export type ConditionType = 'Progressing' | 'Available' | 'ReplicaFailure';

// ---------------------------------------------------------------------------------------
// Small accessors (API defaults applied: replicas 1, RollingUpdate 25%/25%)

export function desiredReplicas(d: Deployment): number {
  return d.spec?.replicas ?? 1;
}
export function specReplicas(rs: ReplicaSet | undefined): number {
  return rs ? (rs.spec?.replicas ?? 1) : 0;
}
export function statusReplicas(rs: ReplicaSet | undefined): number {
  return rs?.status?.replicas ?? 0;
}
export function availableReplicas(rs: ReplicaSet | undefined): number {
  return rs?.status?.availableReplicas ?? 0;
}
export function readyReplicas(rs: ReplicaSet | undefined): number {
  return rs?.status?.readyReplicas ?? 0;
}
/** Pods being deleted but still running, when the ReplicaSet controller reports them (Kubernetes ≥ 1.33). */
export function terminatingReplicas(rs: ReplicaSet | undefined): number {
  return (rs?.status as { terminatingReplicas?: number } | undefined)?.terminatingReplicas ?? 0;
}
export function sumSpecReplicas(rss: Array<ReplicaSet | undefined>): number {
  return rss.reduce((n, rs) => n + specReplicas(rs), 0);
}
export function sumStatusReplicas(rss: Array<ReplicaSet | undefined>): number {
  return rss.reduce((n, rs) => n + statusReplicas(rs), 0);
}
export function sumAvailableReplicas(rss: Array<ReplicaSet | undefined>): number {
  return rss.reduce((n, rs) => n + availableReplicas(rs), 0);
}
export function sumReadyReplicas(rss: Array<ReplicaSet | undefined>): number {
  return rss.reduce((n, rs) => n + readyReplicas(rs), 0);
}
export function nameOf(obj: { metadata?: { name?: string } } | undefined): string {
  return obj?.metadata?.name ?? '';
}

export function isRollingUpdate(d: Deployment): boolean {
  return (d.spec?.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
}
export function isRecreate(d: Deployment): boolean {
  return d.spec?.strategy?.type === 'Recreate';
}
export function hasProgressDeadline(d: Deployment): boolean {
  const s = d.spec?.progressDeadlineSeconds;
  return s !== undefined && s !== null && s !== MAX_INT32;
}
export function hasRevisionHistoryLimit(d: Deployment): boolean {
  const l = d.spec?.revisionHistoryLimit;
  return l !== undefined && l !== null && l !== MAX_INT32;
}

/** metav1.IsControlledBy: the controller ownerReference points at `uid`. */
export function isControlledBy(rs: ReplicaSet, uid: string | undefined): boolean {
  if (!uid) return false;
  return (rs.metadata?.ownerReferences ?? []).some((r) => r.controller === true && r.uid === uid);
}

/** Active: spec.replicas > 0 (FilterActiveReplicaSets). */
export function filterActive(rss: Array<ReplicaSet | undefined>): ReplicaSet[] {
  return rss.filter((rs): rs is ReplicaSet => !!rs && specReplicas(rs) > 0);
}

// ---------------------------------------------------------------------------------------
// Orderings (controller.ReplicaSetsByCreationTimestamp and friends)

function creationMs(rs: ReplicaSet): number {
  const t = rs.metadata?.creationTimestamp;
  const ms = t ? Date.parse(t) : NaN;
  return Number.isNaN(ms) ? Number.MAX_SAFE_INTEGER : ms; // not created yet: newest
}

/** Oldest first; equal timestamps by name. */
export function byCreation(a: ReplicaSet, b: ReplicaSet): number {
  const d = creationMs(a) - creationMs(b);
  if (d !== 0) return d;
  return nameOf(a) < nameOf(b) ? -1 : nameOf(a) > nameOf(b) ? 1 : 0;
}
/** Larger first; equal sizes oldest first (ReplicaSetsBySizeOlder: scaling down). */
export function bySizeOlder(a: ReplicaSet, b: ReplicaSet): number {
  return specReplicas(b) - specReplicas(a) || byCreation(a, b);
}
/** Larger first; equal sizes newest first (ReplicaSetsBySizeNewer: scaling up). */
export function bySizeNewer(a: ReplicaSet, b: ReplicaSet): number {
  return specReplicas(b) - specReplicas(a) || byCreation(b, a);
}
/** Oldest revision first; equal or unparsable revisions by creation (ReplicaSetsByRevision). */
export function byRevision(a: ReplicaSet, b: ReplicaSet): number {
  const ra = revisionOf(a);
  const rb = revisionOf(b);
  if (ra === undefined || rb === undefined || ra === rb) return byCreation(a, b);
  return ra - rb;
}

// ---------------------------------------------------------------------------------------
// maxSurge / maxUnavailable

export type IntOrString = number | string | undefined | null;

/** intstr.GetScaledValueFromIntOrPercent: ints as they are, `N%` of total rounded up or down. */
export function scaledValue(value: IntOrString, total: number, roundUp: boolean): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number') return Math.trunc(value);
  const m = /^\s*(-?\d+)%\s*$/.exec(value);
  if (m) {
    const v = (Number(m[1]) * total) / 100;
    return roundUp ? Math.ceil(v) : Math.floor(v);
  }
  const n = Number(value);
  return Number.isInteger(n) ? n : 0;
}

/**
 * ResolveFenceposts: maxSurge rounds up, maxUnavailable rounds down; when both come to 0,
 * maxUnavailable is 1 (surge may be impossible, e.g. under quota). 25%/25% of 10 → 3/2.
 */
export function resolveFenceposts(maxSurge: IntOrString, maxUnavailable: IntOrString, replicas: number): { maxSurge: number; maxUnavailable: number } {
  const surge = scaledValue(maxSurge ?? 0, replicas, true);
  let unavailable = scaledValue(maxUnavailable ?? 0, replicas, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { maxSurge: surge, maxUnavailable: unavailable };
}

function fenceposts(d: Deployment): { maxSurge: number; maxUnavailable: number } {
  const ru = d.spec?.strategy?.rollingUpdate;
  return resolveFenceposts((ru?.maxSurge as IntOrString) ?? '25%', (ru?.maxUnavailable as IntOrString) ?? '25%', desiredReplicas(d));
}

/** MaxSurge: 0 unless RollingUpdate. */
export function maxSurge(d: Deployment): number {
  return isRollingUpdate(d) ? fenceposts(d).maxSurge : 0;
}

/** MaxUnavailable: 0 unless RollingUpdate with replicas; never more than the replicas. */
export function maxUnavailable(d: Deployment): number {
  const replicas = desiredReplicas(d);
  if (!isRollingUpdate(d) || replicas === 0) return 0;
  return Math.min(fenceposts(d).maxUnavailable, replicas);
}

// ---------------------------------------------------------------------------------------
// Revisions and replica annotations

/** The revision annotation: 0 when absent, undefined when unparsable. */
export function revisionOf(obj: { metadata?: { annotations?: Record<string, string> } } | undefined): number | undefined {
  const v = obj?.metadata?.annotations?.[REVISION_ANNOTATION];
  if (v === undefined) return 0;
  return /^\d+$/.test(v) ? Number(v) : undefined;
}

/** MaxRevision: the highest revision among the ReplicaSets (unparsable ones skipped). */
export function maxRevision(rss: ReplicaSet[]): number {
  let max = 0;
  for (const rs of rss) {
    const v = revisionOf(rs);
    if (v !== undefined && v > max) max = v;
  }
  return max;
}

function annotationsOf(rs: ReplicaSet): Record<string, string> {
  rs.metadata ??= {};
  rs.metadata.annotations ??= {};
  return rs.metadata.annotations;
}

/** SetReplicasAnnotations: desired-replicas and max-replicas; true when either changed. */
export function setReplicasAnnotations(rs: ReplicaSet, desired: number, max: number): boolean {
  const a = annotationsOf(rs);
  let updated = false;
  if (a[DESIRED_REPLICAS_ANNOTATION] !== String(desired)) {
    a[DESIRED_REPLICAS_ANNOTATION] = String(desired);
    updated = true;
  }
  if (a[MAX_REPLICAS_ANNOTATION] !== String(max)) {
    a[MAX_REPLICAS_ANNOTATION] = String(max);
    updated = true;
  }
  return updated;
}

export function replicasAnnotationsNeedUpdate(rs: ReplicaSet, desired: number, max: number): boolean {
  const a = rs.metadata?.annotations;
  return !a || a[DESIRED_REPLICAS_ANNOTATION] !== String(desired) || a[MAX_REPLICAS_ANNOTATION] !== String(max);
}

function intAnnotation(rs: ReplicaSet, key: string): number | undefined {
  const v = rs.metadata?.annotations?.[key];
  return v !== undefined && /^-?\d+$/.test(v) ? Number(v) : undefined;
}
export function desiredReplicasAnnotation(rs: ReplicaSet): number | undefined {
  return intAnnotation(rs, DESIRED_REPLICAS_ANNOTATION);
}
export function maxReplicasAnnotation(rs: ReplicaSet): number | undefined {
  return intAnnotation(rs, MAX_REPLICAS_ANNOTATION);
}

/**
 * SetNewReplicaSetAnnotations (mutates `rs`): copies the deployment's annotations (but
 * revision, history, replica counts, last-applied), raises the revision to `newRevision` when
 * it is lower — keeping the previous one in `revision-history`, as a rollback does — and, for a
 * ReplicaSet about to be created, sets desired-replicas/max-replicas. True when anything changed.
 */
export function setNewReplicaSetAnnotations(d: Deployment, rs: ReplicaSet, newRevision: number, exists: boolean): boolean {
  const a = annotationsOf(rs);
  let changed = false;
  for (const [k, v] of Object.entries(d.metadata?.annotations ?? {})) {
    if (ANNOTATIONS_TO_SKIP.has(k) || a[k] === v) continue;
    a[k] = v;
    changed = true;
  }
  const had = REVISION_ANNOTATION in a;
  const oldRevision = a[REVISION_ANNOTATION] ?? '';
  let oldRevisionInt = 0;
  if (oldRevision !== '') {
    if (!/^\d+$/.test(oldRevision)) return changed; // not an int: leave it alone
    oldRevisionInt = Number(oldRevision);
  }
  if (oldRevisionInt < newRevision) {
    a[REVISION_ANNOTATION] = String(newRevision);
    changed = true;
    if (had) {
      const history = a[REVISION_HISTORY_ANNOTATION] ?? '';
      const old = history === '' ? [] : history.split(',');
      let total = history.length + oldRevision.length + 1;
      let start = 0;
      while (old.length && total > MAX_REVISION_HISTORY_CHARS && start < old.length) {
        total -= old[start].length + 1;
        start++;
      }
      if (!old.length) a[REVISION_HISTORY_ANNOTATION] = oldRevision;
      else if (total <= MAX_REVISION_HISTORY_CHARS) a[REVISION_HISTORY_ANNOTATION] = [...old.slice(start), oldRevision].join(',');
    }
  }
  if (!exists && setReplicasAnnotations(rs, desiredReplicas(d), desiredReplicas(d) + maxSurge(d))) changed = true;
  return changed;
}

// ---------------------------------------------------------------------------------------
// New / old ReplicaSets

/** FindNewReplicaSet: the oldest ReplicaSet whose template equals the deployment's (ignoring the hash label). */
export function findNewReplicaSet(d: Deployment, rss: ReplicaSet[]): ReplicaSet | undefined {
  return [...rss].sort(byCreation).find((rs) => templatesEqual(rs.spec?.template, d.spec?.template));
}

/** The ReplicaSets that are not `newRS`. */
export function findOldReplicaSets(rss: ReplicaSet[], newRS: ReplicaSet | undefined): ReplicaSet[] {
  return rss.filter((rs) => !newRS || (rs !== newRS && nameOf(rs) !== nameOf(newRS)));
}

/**
 * NewRSNewReplicas: how big the new ReplicaSet may be now. RollingUpdate: up to
 * replicas + maxSurge pods in all, never more than replicas in the new one. Recreate: replicas.
 */
export function newRSReplicas(d: Deployment, allRSs: Array<ReplicaSet | undefined>, newRS: ReplicaSet): number {
  const replicas = desiredReplicas(d);
  if (!isRollingUpdate(d)) return replicas;
  const surge = scaledValue((d.spec?.strategy?.rollingUpdate?.maxSurge as IntOrString) ?? '25%', replicas, true);
  const current = sumSpecReplicas(allRSs);
  const maxTotal = replicas + surge;
  if (current >= maxTotal) return specReplicas(newRS);
  const scaleUp = Math.min(maxTotal - current, replicas - specReplicas(newRS));
  return specReplicas(newRS) + scaleUp;
}

/** IsSaturated: the new ReplicaSet has (and is annotated for) all the replicas, all available. */
export function isSaturated(d: Deployment, rs: ReplicaSet | undefined): boolean {
  if (!rs) return false;
  const desired = desiredReplicasAnnotation(rs);
  if (desired === undefined) return false;
  const replicas = desiredReplicas(d);
  return specReplicas(rs) === replicas && desired === replicas && availableReplicas(rs) === replicas;
}

/** FindActiveOrLatest: the only active ReplicaSet, or the newest when none is active; undefined when several are. */
export function findActiveOrLatest(newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): ReplicaSet | undefined {
  if (!newRS && !oldRSs.length) return undefined;
  const sortedOld = [...oldRSs].sort((a, b) => byCreation(b, a));
  const active = filterActive([...sortedOld, newRS]);
  if (active.length === 0) return newRS ?? sortedOld[0];
  if (active.length === 1) return active[0];
  return undefined;
}

/** A ReplicaSet size decided by the controller. */
export interface ScaleDecision {
  name: string;
  replicas: number;
  /**
   * scaleReplicaSet rather than scaleReplicaSetAndRecordEvent: write the replica annotations
   * even when the size stays the same.
   */
  refreshAnnotations?: boolean;
}

/** integer.RoundToInt32: halves away from zero, like Go's math.Round. */
function roundHalfAway(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

/** getReplicaSetFraction: this ReplicaSet's share of a resize, from its max-replicas annotation. */
function replicaSetFraction(rs: ReplicaSet, d: Deployment): number {
  const replicas = desiredReplicas(d);
  if (replicas === 0) return -specReplicas(rs);
  const deploymentReplicas = replicas + maxSurge(d);
  const annotated = maxReplicasAnnotation(rs) ?? d.status?.replicas ?? 0;
  if (annotated === 0) return 0; // never proportionally scale up from zero
  return roundHalfAway((specReplicas(rs) * deploymentReplicas) / annotated) - specReplicas(rs);
}

/** GetProportion. */
function proportion(rs: ReplicaSet, d: Deployment, toAdd: number, added: number): number {
  if (specReplicas(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  const fraction = replicaSetFraction(rs, d);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

/**
 * `scale` (sync.go): a resize of the deployment (or any sync of a paused one). One active
 * ReplicaSet (or none: the newest) takes the new size; a saturated new ReplicaSet leaves old
 * ones at 0; otherwise, for RollingUpdate, the difference to replicas + maxSurge is spread over
 * the active ReplicaSets in proportion to their size (leftovers to the largest).
 */
export function scaleDecisions(d: Deployment, newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): ScaleDecision[] {
  const replicas = desiredReplicas(d);
  const activeOrLatest = findActiveOrLatest(newRS, oldRSs);
  if (activeOrLatest) {
    if (specReplicas(activeOrLatest) === replicas) return [];
    return [{ name: nameOf(activeOrLatest), replicas }];
  }
  if (isSaturated(d, newRS)) return filterActive(oldRSs).map((rs) => ({ name: nameOf(rs), replicas: 0 }));
  if (!isRollingUpdate(d)) return [];
  const all = filterActive([...oldRSs, newRS]);
  const allowedSize = replicas > 0 ? replicas + maxSurge(d) : 0;
  const toAdd = allowedSize - sumSpecReplicas(all);
  if (toAdd > 0) all.sort(bySizeNewer);
  else if (toAdd < 0) all.sort(bySizeOlder);
  let added = 0;
  const sizes = all.map((rs) => {
    if (toAdd === 0) return specReplicas(rs);
    const p = proportion(rs, d, toAdd, added);
    added += p;
    return specReplicas(rs) + p;
  });
  if (toAdd !== 0 && sizes.length) sizes[0] = Math.max(0, sizes[0] + toAdd - added);
  return all.map((rs, i) => ({ name: nameOf(rs), replicas: sizes[i], refreshAnnotations: true }));
}

/**
 * isScalingEvent: an active ReplicaSet was annotated for another deployment size, so this
 * sync is a resize (`scaleDecisions`) rather than a rollout step.
 */
export function isScalingEvent(d: Deployment, allRSs: Array<ReplicaSet | undefined>): boolean {
  const replicas = desiredReplicas(d);
  return filterActive(allRSs).some((rs) => {
    const desired = desiredReplicasAnnotation(rs);
    return desired !== undefined && desired !== replicas;
  });
}

// ---------------------------------------------------------------------------------------
// RollingUpdate

/**
 * reconcileNewReplicaSet: the new ReplicaSet's next size — down to replicas if above, else
 * up as far as maxSurge allows. Undefined when it stays.
 */
export function reconcileNewReplicaSet(d: Deployment, allRSs: Array<ReplicaSet | undefined>, newRS: ReplicaSet): number | undefined {
  const replicas = desiredReplicas(d);
  const current = specReplicas(newRS);
  if (current === replicas) return undefined;
  if (current > replicas) return replicas;
  const next = newRSReplicas(d, allRSs, newRS);
  return next === current ? undefined : next;
}

/**
 * reconcileOldReplicaSets: how far the old ReplicaSets may shrink. At most
 * allPods − minAvailable − (new ReplicaSet's unavailable pods); first their unhealthy
 * (unavailable) replicas, oldest ReplicaSet first (cleanupUnhealthyReplicas), then
 * available ones while more than minAvailable = replicas − maxUnavailable pods are available
 * (scaleDownOldReplicaSetsForRollingUpdate). `oldRSs` are the active old ReplicaSets.
 */
export function reconcileOldReplicaSets(d: Deployment, allRSs: Array<ReplicaSet | undefined>, oldRSs: ReplicaSet[], newRS: ReplicaSet): ScaleDecision[] {
  if (sumSpecReplicas(oldRSs) === 0) return [];
  const allPods = sumSpecReplicas(allRSs);
  const minAvailable = desiredReplicas(d) - maxUnavailable(d);
  const newRSUnavailable = specReplicas(newRS) - availableReplicas(newRS);
  const maxScaledDown = allPods - minAvailable - newRSUnavailable;
  if (maxScaledDown <= 0) return [];

  const sorted = [...oldRSs].sort(byCreation);
  const sizes = new Map(sorted.map((rs) => [nameOf(rs), specReplicas(rs)]));

  let cleaned = 0;
  for (const rs of sorted) {
    if (cleaned >= maxScaledDown) break;
    const size = sizes.get(nameOf(rs))!;
    if (size === 0 || size === availableReplicas(rs)) continue;
    const n = Math.min(maxScaledDown - cleaned, size - availableReplicas(rs));
    if (n <= 0) continue;
    sizes.set(nameOf(rs), size - n);
    cleaned += n;
  }

  const available = sumAvailableReplicas(allRSs);
  if (available > minAvailable) {
    const total = available - minAvailable;
    let scaled = 0;
    for (const rs of sorted) {
      if (scaled >= total) break;
      const size = sizes.get(nameOf(rs))!;
      if (size === 0) continue;
      const n = Math.min(size, total - scaled);
      sizes.set(nameOf(rs), size - n);
      scaled += n;
    }
  }
  return sorted.filter((rs) => sizes.get(nameOf(rs)) !== specReplicas(rs)).map((rs) => ({ name: nameOf(rs), replicas: sizes.get(nameOf(rs))! }));
}

// ---------------------------------------------------------------------------------------
// Recreate

/** scaleDownOldReplicaSetsForRecreate: every active old ReplicaSet to 0. */
export function recreateScaleDown(oldRSs: ReplicaSet[]): ScaleDecision[] {
  return filterActive(oldRSs).map((rs) => ({ name: nameOf(rs), replicas: 0 }));
}

/**
 * oldPodsRunning: an old ReplicaSet still reports pods (status.replicas, plus
 * status.terminatingReplicas when its controller reports them). Kubernetes also looks at the
 * pods themselves; this controller sees only ReplicaSets.
 */
export function oldPodsRunning(oldRSs: ReplicaSet[]): boolean {
  return oldRSs.some((rs) => statusReplicas(rs) + terminatingReplicas(rs) > 0);
}

// ---------------------------------------------------------------------------------------
// History

/**
 * cleanupDeployment: beyond revisionHistoryLimit old ReplicaSets, the oldest revisions go —
 * only those with no replicas (spec and status), fully observed by their controller, and not
 * already being deleted.
 */
export function replicaSetsToCleanUp(d: Deployment, oldRSs: ReplicaSet[]): ReplicaSet[] {
  if (!hasRevisionHistoryLimit(d)) return [];
  const cleanable = oldRSs.filter((rs) => !rs.metadata?.deletionTimestamp);
  const diff = cleanable.length - (d.spec!.revisionHistoryLimit as number);
  if (diff <= 0) return [];
  const sorted = [...cleanable].sort(byRevision);
  const out: ReplicaSet[] = [];
  for (let i = 0; i < diff; i++) {
    const rs = sorted[i];
    const observed = rs.status?.observedGeneration;
    const unobserved = observed !== undefined && (rs.metadata?.generation ?? 0) > observed;
    if (statusReplicas(rs) !== 0 || specReplicas(rs) !== 0 || unobserved) continue;
    out.push(rs);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Conditions

export function getCondition(status: DeploymentStatus | undefined, type: ConditionType): DeploymentCondition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

/** NewDeploymentCondition: both times now. */
export function newCondition(type: ConditionType, status: 'True' | 'False' | 'Unknown', reason: string, message: string, now: number): DeploymentCondition {
  const t = nowTimestamp(now);
  return { type, status, lastUpdateTime: t, lastTransitionTime: t, reason, message };
}

/**
 * SetDeploymentCondition (mutates `status`): no change when status and reason are the same;
 * lastTransitionTime kept when only the reason changes; the condition moves to the end.
 */
export function setCondition(status: DeploymentStatus, condition: DeploymentCondition): void {
  const current = getCondition(status, condition.type as ConditionType);
  if (current && current.status === condition.status && current.reason === condition.reason) return;
  const c = { ...condition };
  if (current && current.status === c.status) c.lastTransitionTime = current.lastTransitionTime;
  status.conditions = [...(status.conditions ?? []).filter((x) => x.type !== c.type), c];
}

export function removeCondition(status: DeploymentStatus, type: ConditionType): void {
  if (!status.conditions) return;
  status.conditions = status.conditions.filter((c) => c.type !== type);
  if (!status.conditions.length) delete status.conditions;
}

/**
 * checkPausedConditions (mutates `status`): Progressing=Unknown DeploymentPaused while paused,
 * DeploymentResumed once resumed, so time spent paused never counts against the deadline.
 * A ProgressDeadlineExceeded condition is left as it is.
 */
export function checkPausedConditions(d: Deployment, status: DeploymentStatus, now: number): void {
  if (!hasProgressDeadline(d)) return;
  const cond = getCondition(status, 'Progressing');
  if (cond?.reason === Reason.ProgressDeadlineExceeded) return;
  const pausedCondExists = cond?.reason === Reason.DeploymentPaused;
  if (d.spec?.paused && !pausedCondExists) setCondition(status, newCondition('Progressing', 'Unknown', Reason.DeploymentPaused, 'Deployment is paused', now));
  else if (!d.spec?.paused && pausedCondExists) setCondition(status, newCondition('Progressing', 'Unknown', Reason.DeploymentResumed, 'Deployment is resumed', now));
}

// ---------------------------------------------------------------------------------------
// Status

/** Kubernetes omits zero counts (omitempty). */
function count(n: number): number | undefined {
  return n === 0 ? undefined : n;
}

/**
 * calculateStatus: counts over all the deployment's ReplicaSets (updated = the new one's
 * pods), observedGeneration, the previous conditions, and Available (True when at least
 * replicas − maxUnavailable pods are available).
 */
export function calculateStatus(d: Deployment, previous: DeploymentStatus, allRSs: Array<ReplicaSet | undefined>, newRS: ReplicaSet | undefined, now: number): DeploymentStatus {
  const available = sumAvailableReplicas(allRSs);
  const unavailable = Math.max(0, sumSpecReplicas(allRSs) - available);
  const status: DeploymentStatus = {
    observedGeneration: d.metadata?.generation || undefined,
    replicas: count(sumStatusReplicas(allRSs)),
    updatedReplicas: count(statusReplicas(newRS)),
    readyReplicas: count(sumReadyReplicas(allRSs)),
    availableReplicas: count(available),
    unavailableReplicas: count(unavailable),
    collisionCount: previous.collisionCount,
  };
  if (previous.conditions?.length) status.conditions = previous.conditions.map((c) => ({ ...c }));
  if (available >= desiredReplicas(d) - maxUnavailable(d)) {
    setCondition(status, newCondition('Available', 'True', Reason.MinimumReplicasAvailable, 'Deployment has minimum availability.', now));
  } else {
    setCondition(status, newCondition('Available', 'False', Reason.MinimumReplicasUnavailable, 'Deployment does not have minimum availability.', now));
  }
  return dropUndefined(status);
}

function dropUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k];
  return o;
}

/** DeploymentComplete: all replicas updated and available, none old, this generation observed. */
export function deploymentComplete(d: Deployment, status: DeploymentStatus | undefined): boolean {
  const replicas = desiredReplicas(d);
  return (
    (status?.updatedReplicas ?? 0) === replicas &&
    (status?.replicas ?? 0) === replicas &&
    (status?.availableReplicas ?? 0) === replicas &&
    (status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0)
  );
}

/**
 * DeploymentProgressing: compared with the previous status, more updated, ready or available
 * pods, or fewer old ones.
 */
export function deploymentProgressing(previous: DeploymentStatus, next: DeploymentStatus): boolean {
  const oldOld = (previous.replicas ?? 0) - (previous.updatedReplicas ?? 0);
  const newOld = (next.replicas ?? 0) - (next.updatedReplicas ?? 0);
  return (
    (next.updatedReplicas ?? 0) > (previous.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (next.readyReplicas ?? 0) > (previous.readyReplicas ?? 0) ||
    (next.availableReplicas ?? 0) > (previous.availableReplicas ?? 0)
  );
}

/**
 * DeploymentTimedOut: the Progressing condition has not been updated for
 * progressDeadlineSeconds (a completed rollout never times out; a timed-out one stays so).
 */
export function deploymentTimedOut(d: Deployment, status: DeploymentStatus, now: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const cond = getCondition(status, 'Progressing');
  if (!cond) return false;
  if (cond.reason === Reason.NewReplicaSetAvailable) return false;
  if (cond.reason === Reason.ProgressDeadlineExceeded) return true;
  const from = Date.parse(cond.lastUpdateTime ?? '');
  if (Number.isNaN(from)) return false;
  return from + (d.spec!.progressDeadlineSeconds as number) * 1000 < now;
}

/**
 * syncRolloutStatus: calculateStatus plus the Progressing condition — NewReplicaSetAvailable
 * once complete, ReplicaSetUpdated (lastUpdateTime refreshed) on progress, else
 * ProgressDeadlineExceeded past the deadline — and ReplicaFailure copied from the ReplicaSets.
 * `previous` is the deployment's status as this sync found it (with any condition set on the
 * way: NewReplicaSetCreated, FoundNewReplicaSet, paused/resumed).
 */
export function rolloutStatus(d: Deployment, previous: DeploymentStatus, allRSs: Array<ReplicaSet | undefined>, newRS: ReplicaSet | undefined, now: number): DeploymentStatus {
  const status = calculateStatus(d, previous, allRSs, newRS, now);
  if (!hasProgressDeadline(d)) removeCondition(status, 'Progressing');
  const current = getCondition(previous, 'Progressing');
  const isCompleteDeployment = (status.replicas ?? 0) === (status.updatedReplicas ?? 0) && current?.reason === Reason.NewReplicaSetAvailable;
  if (hasProgressDeadline(d) && !isCompleteDeployment) {
    const rsName = newRS ? nameOf(newRS) : undefined;
    const subject = rsName !== undefined ? `ReplicaSet "${rsName}"` : `Deployment "${nameOf(d)}"`;
    if (deploymentComplete(d, status)) {
      setCondition(status, newCondition('Progressing', 'True', Reason.NewReplicaSetAvailable, `${subject} has successfully progressed.`, now));
    } else if (deploymentProgressing(previous, status)) {
      const condition = newCondition('Progressing', 'True', Reason.ReplicaSetUpdated, `${subject} is progressing.`, now);
      if (current) {
        if (current.status === 'True') condition.lastTransitionTime = current.lastTransitionTime;
        removeCondition(status, 'Progressing');
      }
      status.conditions = [...(status.conditions ?? []), condition];
    } else if (deploymentTimedOut(d, status, now)) {
      setCondition(status, newCondition('Progressing', 'False', Reason.ProgressDeadlineExceeded, `${subject} has timed out progressing.`, now));
    }
  }
  const failure = replicaFailure(allRSs, newRS);
  if (failure) setCondition(status, failure);
  else removeCondition(status, 'ReplicaFailure');
  return status;
}

/** getReplicaFailures: the new ReplicaSet's ReplicaFailure condition, else any old one's. */
function replicaFailure(allRSs: Array<ReplicaSet | undefined>, newRS: ReplicaSet | undefined): DeploymentCondition | undefined {
  for (const rs of [newRS, ...allRSs]) {
    const c = rs?.status?.conditions?.find((x) => x.type === 'ReplicaFailure');
    if (c) return { type: 'ReplicaFailure', status: c.status, lastUpdateTime: c.lastTransitionTime, lastTransitionTime: c.lastTransitionTime, reason: c.reason, message: c.message };
  }
  return undefined;
}

/**
 * requeueStuckDeployment: when to look again for lack of progress — one second after
 * Progressing.lastUpdateTime + progressDeadlineSeconds. Undefined when there is nothing to
 * time out (no deadline, no condition, complete, already timed out, paused).
 */
export function progressCheckDelay(d: Deployment, status: DeploymentStatus, now: number): number | undefined {
  if (!hasProgressDeadline(d) || d.spec?.paused) return undefined;
  const cond = getCondition(status, 'Progressing');
  if (!cond || deploymentComplete(d, status)) return undefined;
  if (cond.reason === Reason.ProgressDeadlineExceeded || cond.reason === Reason.NewReplicaSetAvailable || cond.reason === Reason.DeploymentPaused) return undefined;
  const from = Date.parse(cond.lastUpdateTime ?? '');
  if (Number.isNaN(from)) return undefined;
  const after = from + (d.spec!.progressDeadlineSeconds as number) * 1000 - now;
  return Math.max(0, after) + 1000;
}

/** The template's labels plus the hash (the new ReplicaSet's labels and pod labels). */
export function labelsWithHash(labels: Record<string, string> | undefined, hash: string): Record<string, string> {
  return { ...(labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
}
