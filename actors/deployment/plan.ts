/**
 * The Deployment controller's one decision: `reconcileDeployment(deployment, replicaSets, now)`
 * → a Plan (what to create, scale, annotate, delete, and the status to report). It follows
 * kube-controller-manager's syncDeployment for one pass:
 *
 *   being deleted ─────────────────────────────► nothing
 *   checkPausedConditions (Progressing=Unknown while paused / once resumed)
 *   paused ─────────────────────────────────────► sync: scale, clean up history, status
 *   an active RS annotated for another size ────► sync: scale (proportionally), status
 *   Recreate ───────────────────────────────────► old → 0; wait for no old pods; new → replicas
 *   RollingUpdate ──────────────────────────────► new RS up (maxSurge) or old RSes down
 *                                                 (maxUnavailable); when neither and complete,
 *                                                 clean up history; rollout status
 *
 * The deployment's `status` is taken as the status this controller last reported: progress is
 * measured against it.
 */
import type { Deployment, DeploymentStatus, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { POD_TEMPLATE_HASH_LABEL, podTemplateHash } from './hash.js';
import {
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  REVISION_ANNOTATION,
  Reason,
  calculateStatus,
  checkPausedConditions,
  deploymentComplete,
  desiredReplicas,
  filterActive,
  findNewReplicaSet,
  findOldReplicaSets,
  getCondition,
  hasProgressDeadline,
  isControlledBy,
  isRecreate,
  isScalingEvent,
  labelsWithHash,
  maxRevision,
  maxSurge,
  nameOf,
  newCondition,
  newRSReplicas,
  oldPodsRunning,
  progressCheckDelay,
  reconcileNewReplicaSet,
  reconcileOldReplicaSets,
  recreateScaleDown,
  replicaSetsToCleanUp,
  replicasAnnotationsNeedUpdate,
  rolloutStatus,
  scaleDecisions,
  setCondition,
  setNewReplicaSetAnnotations,
  setReplicasAnnotations,
  specReplicas,
} from './rollout.js';

/** Scale and/or annotate an existing ReplicaSet (the host merges `annotations` into the current ones). */
export interface ReplicaSetUpdate {
  namespace: string;
  name: string;
  /** The ReplicaSet seen when deciding (a precondition the host may check). */
  uid?: string;
  replicas?: number;
  annotations?: Record<string, string>;
}

export interface ReplicaSetRef {
  namespace: string;
  name: string;
  uid: string;
}

/** Which branch of syncDeployment decided. */
export type PlanPath = 'deleting' | 'invalid' | 'paused' | 'scaling' | 'rolling' | 'recreate';

export interface Plan {
  path: PlanPath;
  /** The new ReplicaSet to create, complete (name, labels, selector, template, annotations, owner, replicas). */
  create?: ReplicaSet;
  /** ReplicaSets to resize or annotate, in order. */
  updates: ReplicaSetUpdate[];
  /** Old ReplicaSets beyond revisionHistoryLimit. */
  deletes: ReplicaSetRef[];
  /** The deployment's `deployment.kubernetes.io/revision` annotation, when it must change. */
  revision?: string;
  /** The status this sync computes. */
  status: DeploymentStatus;
  /** Look again after this long (ms) for lack of progress (progressDeadlineSeconds). */
  nextCheckMs?: number;
  /** Name of the new ReplicaSet (existing or to be created), if any. */
  newReplicaSet?: string;
}

export type DeploymentEffect =
  | { type: 'createReplicaSet'; replicaSet: ReplicaSet }
  | { type: 'updateReplicaSet'; update: ReplicaSetUpdate }
  | { type: 'deleteReplicaSet'; ref: ReplicaSetRef }
  | { type: 'annotateDeployment'; annotations: Record<string, string> };

/** The plan's writes in the order to make them: create, updates, deletes, then the deployment's revision. */
export function planEffects(plan: Plan): DeploymentEffect[] {
  const effects: DeploymentEffect[] = [];
  if (plan.create) effects.push({ type: 'createReplicaSet', replicaSet: plan.create });
  for (const update of plan.updates) effects.push({ type: 'updateReplicaSet', update });
  for (const ref of plan.deletes) effects.push({ type: 'deleteReplicaSet', ref });
  if (plan.revision !== undefined) effects.push({ type: 'annotateDeployment', annotations: { [REVISION_ANNOTATION]: plan.revision } });
  return effects;
}

function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/** CloneSelectorAndAddLabel: the deployment's selector plus `pod-template-hash`. */
function selectorWithHash(selector: LabelSelector | undefined, hash: string): LabelSelector {
  const s = clone(selector) ?? {};
  return { ...s, matchLabels: { ...(s.matchLabels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash } };
}

function emptySelector(selector: LabelSelector | undefined): boolean {
  return !selector || (!Object.keys(selector.matchLabels ?? {}).length && !(selector.matchExpressions ?? []).length);
}

/** One pass of syncDeployment over working copies, recording writes instead of making them. */
class Sync {
  readonly d: Deployment;
  /** d.Status as Kubernetes mutates it during the sync (conditions set on the way). */
  readonly status: DeploymentStatus;
  readonly namespace: string;
  /** Working copies of the deployment's ReplicaSets (annotations and sizes change as decided). */
  readonly rss: ReplicaSet[];
  /** The ReplicaSets as observed: status is computed from them, as Kubernetes does. */
  readonly observed = new Map<string, ReplicaSet>();
  /** Every ReplicaSet name in the namespace (name collisions). */
  readonly taken = new Set<string>();
  create?: ReplicaSet;
  readonly updates = new Map<string, ReplicaSetUpdate>();
  readonly deletes: ReplicaSetRef[] = [];
  revision?: string;

  constructor(
    deployment: Deployment,
    replicaSets: ReplicaSet[],
    readonly now: number,
  ) {
    this.d = clone(deployment);
    this.status = clone(deployment.status) ?? {};
    this.namespace = deployment.metadata?.namespace || 'default';
    const uid = deployment.metadata?.uid;
    this.rss = [];
    for (const rs of replicaSets) {
      if ((rs.metadata?.namespace || 'default') !== this.namespace) continue;
      this.taken.add(nameOf(rs));
      if (!isControlledBy(rs, uid)) continue;
      this.rss.push(clone(rs));
      this.observed.set(nameOf(rs), rs);
    }
  }

  run(): Plan {
    const d = this.d;
    if (d.metadata?.deletionTimestamp) return this.result('deleting', clone(d.status) ?? {});
    if (emptySelector(d.spec?.selector)) {
      const status = clone(d.status) ?? {};
      if (d.metadata?.generation) status.observedGeneration = d.metadata.generation;
      return this.result('invalid', status);
    }
    checkPausedConditions(d, this.status, this.now);
    if (d.spec?.paused) return this.sync('paused');
    if (isScalingEvent(d, this.rss)) return this.sync('scaling');
    return isRecreate(d) ? this.rolloutRecreate() : this.rolloutRolling();
  }

  // -------------------------------------------------------------------------------------

  private result(path: PlanPath, status: DeploymentStatus, newRS?: ReplicaSet): Plan {
    const plan: Plan = { path, updates: [...this.updates.values()], deletes: this.deletes, status };
    if (this.create) plan.create = this.create;
    if (this.revision !== undefined) plan.revision = this.revision;
    if (newRS) plan.newReplicaSet = nameOf(newRS);
    if (path !== 'deleting' && path !== 'invalid') {
      const next = progressCheckDelay(this.d, status, this.now);
      if (next !== undefined) plan.nextCheckMs = next;
    }
    return plan;
  }

  /** Status counts come from the ReplicaSets as observed (and the one being created). */
  private forStatus(rss: Array<ReplicaSet | undefined>): ReplicaSet[] {
    return rss.filter((rs): rs is ReplicaSet => !!rs).map((rs) => this.observed.get(nameOf(rs)) ?? rs);
  }

  private byName(name: string): ReplicaSet | undefined {
    return this.create && nameOf(this.create) === name ? this.create : this.rss.find((rs) => nameOf(rs) === name);
  }

  private recordUpdate(rs: ReplicaSet, patch: { replicas?: number; annotations?: Record<string, string> }): void {
    if (rs === this.create) return; // decided before it exists: the create carries it
    const name = nameOf(rs);
    const prev = this.updates.get(name) ?? { namespace: this.namespace, name, ...(rs.metadata?.uid ? { uid: rs.metadata.uid } : {}) };
    const next: ReplicaSetUpdate = { ...prev };
    if (patch.replicas !== undefined) next.replicas = patch.replicas;
    if (patch.annotations && Object.keys(patch.annotations).length) next.annotations = { ...(prev.annotations ?? {}), ...patch.annotations };
    this.updates.set(name, next);
  }

  /**
   * scaleReplicaSetAndRecordEvent (`refresh` false: nothing when the size is the same) or
   * scaleReplicaSet (`refresh` true: also when only the replica annotations are stale).
   * True when the size changes.
   */
  private scale(rs: ReplicaSet, replicas: number, refresh = false): boolean {
    const sizeNeedsUpdate = specReplicas(rs) !== replicas;
    if (!refresh && !sizeNeedsUpdate) return false;
    const desired = desiredReplicas(this.d);
    const max = desired + maxSurge(this.d);
    if (!sizeNeedsUpdate && !replicasAnnotationsNeedUpdate(rs, desired, max)) return false;
    rs.spec = { ...rs.spec!, replicas };
    setReplicasAnnotations(rs, desired, max);
    this.recordUpdate(rs, { replicas, annotations: { [DESIRED_REPLICAS_ANNOTATION]: String(desired), [MAX_REPLICAS_ANNOTATION]: String(max) } });
    return sizeNeedsUpdate;
  }

  private setDeploymentRevision(revision: string | undefined): void {
    if (revision === undefined) return;
    const annotations = (this.d.metadata ??= {}).annotations ??= {};
    if (annotations[REVISION_ANNOTATION] === revision) return;
    annotations[REVISION_ANNOTATION] = revision;
    this.revision = revision;
  }

  /**
   * getAllReplicaSetsAndSyncRevision / getNewReplicaSet: the new ReplicaSet (template equal to
   * the deployment's) with its revision raised to max(old)+1 — how `rollout undo` brings an old
   * ReplicaSet back — or, when `create`, a new one; the deployment's revision follows it.
   */
  private newAndOld(create: boolean): { newRS: ReplicaSet | undefined; oldRSs: ReplicaSet[] } {
    const d = this.d;
    const existing = findNewReplicaSet(d, this.rss);
    const oldRSs = findOldReplicaSets(this.rss, existing);
    const newRevision = maxRevision(oldRSs) + 1;
    if (existing) {
      const before = { ...(existing.metadata?.annotations ?? {}) };
      if (setNewReplicaSetAnnotations(d, existing, newRevision, true)) {
        const after = existing.metadata?.annotations ?? {};
        const changed = Object.fromEntries(Object.entries(after).filter(([k, v]) => before[k] !== v));
        this.recordUpdate(existing, { annotations: changed });
      }
      this.setDeploymentRevision(existing.metadata?.annotations?.[REVISION_ANNOTATION]);
      if (hasProgressDeadline(d) && !getCondition(this.status, 'Progressing')) {
        setCondition(this.status, newCondition('Progressing', 'True', Reason.FoundNewReplicaSet, `Found new replica set "${nameOf(existing)}"`, this.now));
      }
      return { newRS: existing, oldRSs };
    }
    if (!create) return { newRS: undefined, oldRSs };

    // A name taken by a ReplicaSet that is not this template's: bump collisionCount (Kubernetes
    // learns it from AlreadyExists and retries; here the namespace's ReplicaSets are known).
    let collisionCount = this.status.collisionCount;
    let hash = podTemplateHash(d.spec?.template, collisionCount);
    for (let i = 0; i < 100 && this.taken.has(`${nameOf(d)}-${hash}`); i++) {
      collisionCount = (collisionCount ?? 0) + 1;
      hash = podTemplateHash(d.spec?.template, collisionCount);
    }
    if (collisionCount !== undefined) this.status.collisionCount = collisionCount;

    const template = clone(d.spec?.template) ?? {};
    template.metadata = { ...(template.metadata ?? {}), labels: labelsWithHash(template.metadata?.labels, hash) };
    const newRS: ReplicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${nameOf(d)}-${hash}`,
        namespace: this.namespace,
        labels: { ...template.metadata.labels },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: nameOf(d), uid: d.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true }],
      },
      spec: {
        replicas: 0,
        ...(d.spec?.minReadySeconds !== undefined ? { minReadySeconds: d.spec.minReadySeconds } : {}),
        selector: selectorWithHash(d.spec?.selector, hash),
        template,
      },
    };
    newRS.spec!.replicas = newRSReplicas(d, [...oldRSs, newRS], newRS);
    setNewReplicaSetAnnotations(d, newRS, newRevision, false);
    this.create = newRS;
    this.setDeploymentRevision(String(newRevision));
    if (hasProgressDeadline(d)) {
      setCondition(this.status, newCondition('Progressing', 'True', Reason.NewReplicaSetCreated, `Created new replica set "${nameOf(newRS)}"`, this.now));
    }
    return { newRS, oldRSs };
  }

  private cleanup(oldRSs: ReplicaSet[]): void {
    for (const rs of replicaSetsToCleanUp(this.d, this.forStatus(oldRSs))) {
      this.deletes.push({ namespace: this.namespace, name: nameOf(rs), uid: rs.metadata?.uid ?? '' });
    }
  }

  private rollout(path: PlanPath, oldRSs: ReplicaSet[], newRS: ReplicaSet | undefined): Plan {
    const status = rolloutStatus(this.d, this.status, this.forStatus([...oldRSs, newRS]), newRS && this.forStatus([newRS])[0], this.now);
    return this.result(path, status, newRS);
  }

  // -------------------------------------------------------------------------------------

  /** sync: resize (paused deployments and scaling events); history cleanup when paused; plain status. */
  private sync(path: 'paused' | 'scaling'): Plan {
    const { newRS, oldRSs } = this.newAndOld(false);
    for (const decision of scaleDecisions(this.d, newRS, oldRSs)) {
      const rs = this.byName(decision.name);
      if (rs) this.scale(rs, decision.replicas, decision.refreshAnnotations);
    }
    if (this.d.spec?.paused) this.cleanup(oldRSs);
    const status = calculateStatus(this.d, this.status, this.forStatus([...oldRSs, newRS]), newRS && this.forStatus([newRS])[0], this.now);
    return this.result(path, status, newRS);
  }

  /** rolloutRolling. */
  private rolloutRolling(): Plan {
    const { newRS, oldRSs } = this.newAndOld(true);
    const rs = newRS!;
    const allRSs = [...oldRSs, rs];
    const next = reconcileNewReplicaSet(this.d, allRSs, rs);
    if (next !== undefined && this.scale(rs, next)) return this.rollout('rolling', oldRSs, rs);

    let scaledDown = false;
    for (const decision of reconcileOldReplicaSets(this.d, allRSs, filterActive(oldRSs), rs)) {
      const old = this.byName(decision.name);
      if (old && this.scale(old, decision.replicas)) scaledDown = true;
    }
    if (scaledDown) return this.rollout('rolling', oldRSs, rs);

    if (deploymentComplete(this.d, this.status)) this.cleanup(oldRSs);
    return this.rollout('rolling', oldRSs, rs);
  }

  /** rolloutRecreate: old ReplicaSets to 0, then — once no old pods run — the new one to replicas. */
  private rolloutRecreate(): Plan {
    let { newRS, oldRSs } = this.newAndOld(false);
    let scaledDown = false;
    for (const decision of recreateScaleDown(filterActive(oldRSs))) {
      const old = this.byName(decision.name);
      if (old && this.scale(old, decision.replicas)) scaledDown = true;
    }
    if (scaledDown) return this.rollout('recreate', oldRSs, newRS);
    if (oldPodsRunning(this.forStatus(oldRSs))) return this.rollout('recreate', oldRSs, newRS);
    if (!newRS) ({ newRS, oldRSs } = this.newAndOld(true));
    this.scale(newRS!, desiredReplicas(this.d));
    if (deploymentComplete(this.d, this.status)) this.cleanup(oldRSs);
    return this.rollout('recreate', oldRSs, newRS);
  }
}

/**
 * One reconcile of a Deployment: `replicaSets` are the ReplicaSets seen in its namespace (only
 * those it controls — controller ownerReference with its uid — are considered; the others only
 * reserve their names); `deployment.status` is the status last reported; `now` is ms since the
 * epoch (condition times, progress deadline).
 */
export function reconcileDeployment(deployment: Deployment, replicaSets: ReplicaSet[], now: number): Plan {
  return new Sync(deployment, replicaSets, now).run();
}
