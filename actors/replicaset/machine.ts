/**
 * The ReplicaSet controller as an XState v5 machine, one actor per ReplicaSet. It keeps a
 * cache of the pods that concern its ReplicaSet (owned ones and matching orphans), takes
 * every decision with `reconcileReplicaSet` (reconcile.ts) and does no I/O: creating,
 * deleting, adopting and releasing pods are injected promise actors, the status write is
 * the injected `publishStatus` action.
 *
 *   WaitingForCaches --RESYNC--> Syncing (transient: reconcile, publish the status if changed)
 *     → Releasing | Adopting | Creating | Deleting   (one effect at a time) → Syncing
 *     → Watching.{InSync | WaitingForMinReady | WaitingForPods | BackingOff}
 *         any host event → Syncing;  timers (next deadline) → Syncing
 *     → Terminating (deletionTimestamp: do nothing)     RS_DELETE → Deleted (final)
 *
 * Context is plain JSON (persisted with getPersistedSnapshot, restored after a restart).
 * Time only comes from the host: every event carries `now`, kept in `lastNow`; deadlines
 * are absolute (host ms) and a timer that fires moves `lastNow` to its deadline.
 */
import type { ReplicaSet, ReplicaSetStatus } from 'kubernetes-types/apps/v1.js';
import { assign, enqueueActions, fromPromise, setup } from 'xstate';
import type { Pod } from '../../protocol/objects.js';
import {
  DEFAULT_BURST_REPLICAS,
  controllerRef,
  isControlledBy,
  ownerReferenceFor,
  reconcileReplicaSet,
  replicaSetMatches,
  type PodRef,
} from './reconcile.js';
import { podCacheOf, podDelete, podGet, podList, podSet, type PodCache } from './pod-cache.js';

/** kube's ExpectationsTimeout: a create or delete the watch never shows stops holding the ReplicaSet back after 5 min. */
export const DEFAULT_EXPECTATION_TIMEOUT_MS = 5 * 60_000;
export const DEFAULT_RETRY_DELAY_MS = 1_000;
export const DEFAULT_MAX_RETRY_DELAY_MS = 60_000;

// ---------------------------------------------------------------------------------------
// Events, effects, input, context

export type RsUpdatedEvent = { type: 'RS_UPDATED'; rs: ReplicaSet; now: number };
/** The ReplicaSet is gone from the API: stop for good (final state). */
export type RsDeleteEvent = { type: 'RS_DELETE'; now: number };
export type PodUpsertEvent = { type: 'POD_UPSERT'; pod: Pod; now: number };
export type PodDeleteEvent = { type: 'POD_DELETE'; namespace: string; name: string; uid?: string; now: number };
/** Periodic resync; the first one also says "the pods of the namespace have all been sent" (caches synced). */
export type ResyncEvent = { type: 'RESYNC'; now: number };
export type ReplicaSetEvent = RsUpdatedEvent | RsDeleteEvent | PodUpsertEvent | PodDeleteEvent | ResyncEvent;

export interface CreatePodsInput {
  rs: ReplicaSet;
  count: number;
}
/**
 * How many of the `count` pods were created, and how many creates have an unknown outcome (the
 * request timed out: the API server may still make the pod). The rest failed: no longer
 * expected, and the machine backs off. Unknown ones stay expected until the watch shows them
 * or the expectations expire — creating them again at once is how a slow API server made a
 * ReplicaSet overshoot.
 */
export interface CreatePodsOutput {
  created: number;
  unknown?: number;
}
export interface PodsEffectInput {
  rs: ReplicaSet;
  pods: PodRef[];
}

export interface ReplicaSetInput {
  rs: ReplicaSet;
  now: number;
  expectationTimeoutMs?: number;
  /** First back-off after a failed effect; doubles per consecutive failure up to maxRetryDelayMs. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  burstReplicas?: number;
}

/** kube's ControllerExpectations: effects asked for whose result the watch has not shown yet. */
export interface Expectations {
  /** Pods asked to be created, not yet seen (a new uid controlled by this ReplicaSet). */
  adds: number;
  /** Uids asked to be deleted, not yet seen deleted or terminating. */
  deletes: string[];
  /** Host time after which they are forgotten (the watch missed them or the effect was lost). */
  expiresAt: number;
}

export type Effect = { kind: 'create'; count: number } | { kind: 'delete' | 'adopt' | 'release'; pods: PodRef[] };

export interface ReplicaSetContext {
  rs: ReplicaSet;
  /** Pods of the namespace that concern this ReplicaSet (controlled by it, or matching orphans), by name, trimmed. */
  podCache: PodCache;
  /** The same by name, as snapshots persisted before `podCache` have them (read once, then dropped). */
  pods?: Record<string, Pod>;
  /** Latest host time seen (ms since epoch). */
  lastNow: number;
  expectationTimeoutMs: number;
  retryDelayMs: number;
  maxRetryDelayMs: number;
  burstReplicas: number;
  expectations: Expectations | undefined;
  /** The effect the last sync chose (in flight in Releasing/Adopting/Creating/Deleting). */
  effect: Effect | undefined;
  /** Consecutive failed effects (back-off exponent). */
  failures: number;
  /** Host time when the back-off after a failure ends. */
  retryAt: number | undefined;
  /** Host time when a ready pod becomes available (minReadySeconds): the status must be recomputed then. */
  availableAt: number | undefined;
  /** The status last published (initially the ReplicaSet's own). */
  published: ReplicaSetStatus | undefined;
  /**
   * Set by RESYNC: the next sync also publishes when the stored status (the ReplicaSet as last
   * seen) differs, as kube compares with rs.Status: a status write lost to a crash, or one
   * overwritten since, is repaired although `published` already holds it.
   */
  verifyStatus?: boolean;
}

// ---------------------------------------------------------------------------------------
// Context bookkeeping (pure helpers)

function namespaceOf(obj: { metadata?: { namespace?: string } }): string {
  return obj.metadata?.namespace || 'default';
}

/** What the controller needs of a pod, so the persisted snapshot stays small. */
export function trimPod(pod: Pod): Pod {
  const m = pod.metadata ?? {};
  const ready = pod.status?.conditions?.filter((c) => c.type === 'Ready');
  const pick = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: pick({
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      labels: m.labels,
      ownerReferences: m.ownerReferences,
      creationTimestamp: m.creationTimestamp,
      deletionTimestamp: m.deletionTimestamp,
    }),
    spec: pick({ containers: [], nodeName: pod.spec?.nodeName }),
    status: pick({
      phase: pod.status?.phase,
      conditions: ready?.length ? ready : undefined,
      containerStatuses: pod.status?.containerStatuses?.map((c) => ({ name: c.name, image: c.image, imageID: c.imageID, ready: c.ready, restartCount: c.restartCount })),
    }),
  };
}

/** Does this pod concern the ReplicaSet: controlled by it, or an orphan its selector matches? */
function concerns(rs: ReplicaSet, pod: Pod): boolean {
  if (controllerRef(pod)) return isControlledBy(pod, rs.metadata?.uid);
  return replicaSetMatches(rs, pod);
}

function observeCreation(e: Expectations | undefined): Expectations | undefined {
  return e && e.adds > 0 ? { ...e, adds: e.adds - 1 } : e;
}

function observeDeletion(e: Expectations | undefined, uid: string | undefined): Expectations | undefined {
  return e && uid && e.deletes.includes(uid) ? { ...e, deletes: e.deletes.filter((u) => u !== uid) } : e;
}

function advance(ctx: ReplicaSetContext, now: number): number {
  return Number.isFinite(now) ? Math.max(ctx.lastNow, now) : ctx.lastNow;
}

/** The pod cache, from an older snapshot's `pods` when that is what it has. */
function cacheOf(ctx: ReplicaSetContext): PodCache {
  return ctx.podCache ?? podCacheOf(ctx.pods ?? {});
}

/** The pods the actor holds (a restored one: as its snapshot left them). */
export function cachedPods(ctx: ReplicaSetContext): Pod[] {
  return podList(cacheOf(ctx));
}

function applyPodUpsert(ctx: ReplicaSetContext, pod: Pod): Partial<ReplicaSetContext> {
  if (namespaceOf(pod) !== namespaceOf(ctx.rs)) return {};
  const name = pod.metadata?.name ?? '';
  const uid = pod.metadata?.uid ?? '';
  const cache = cacheOf(ctx);
  const prev = podGet(cache, name);
  let expectations = ctx.expectations;
  const replaced = prev !== undefined && prev.metadata?.uid !== uid;
  if (replaced) expectations = observeDeletion(expectations, prev.metadata?.uid); // recreated under the same name: the old one is gone
  if ((!prev || replaced) && isControlledBy(pod, ctx.rs.metadata?.uid)) expectations = observeCreation(expectations);
  if (pod.metadata?.deletionTimestamp) expectations = observeDeletion(expectations, uid);
  const podCache = concerns(ctx.rs, pod) ? podSet(cache, name, trimPod(pod)) : podDelete(cache, name);
  return { podCache, pods: undefined, expectations };
}

function applyPodDelete(ctx: ReplicaSetContext, e: PodDeleteEvent): Partial<ReplicaSetContext> {
  if ((e.namespace || 'default') !== namespaceOf(ctx.rs)) return {};
  const cache = cacheOf(ctx);
  const prev = podGet(cache, e.name);
  const uid = e.uid || prev?.metadata?.uid;
  const sameUid = prev !== undefined && (!e.uid || prev.metadata?.uid === e.uid);
  return { expectations: observeDeletion(ctx.expectations, uid), podCache: sameUid ? podDelete(cache, e.name) : cache, pods: undefined };
}

/** Forgets expectations that are met or expired and a back-off that is over. */
function settle(ctx: ReplicaSetContext): Pick<ReplicaSetContext, 'expectations' | 'retryAt'> {
  const e = ctx.expectations;
  const met = e !== undefined && e.adds <= 0 && e.deletes.length === 0;
  const expired = e !== undefined && ctx.lastNow >= e.expiresAt;
  return {
    expectations: met || expired ? undefined : e,
    retryAt: ctx.retryAt !== undefined && ctx.lastNow >= ctx.retryAt ? undefined : ctx.retryAt,
  };
}

function nextEffect(plan: ReturnType<typeof reconcileReplicaSet>): Effect | undefined {
  if (plan.release.length) return { kind: 'release', pods: plan.release };
  if (plan.adopt.length) return { kind: 'adopt', pods: plan.adopt };
  if (plan.create > 0) return { kind: 'create', count: plan.create };
  if (plan.delete.length) return { kind: 'delete', pods: plan.delete };
  return undefined;
}

/** The earliest deadline a resting state waits for. */
export function nextWakeAt(ctx: ReplicaSetContext): number | undefined {
  const deadlines = [ctx.retryAt, ctx.expectations?.expiresAt, ctx.availableAt].filter((t): t is number => t !== undefined);
  return deadlines.length ? Math.min(...deadlines) : undefined;
}

function statusKey(s: ReplicaSetStatus | undefined): string {
  const terminating = (s as { terminatingReplicas?: number } | undefined)?.terminatingReplicas ?? 0;
  return JSON.stringify([s?.replicas ?? 0, s?.fullyLabeledReplicas ?? 0, s?.readyReplicas ?? 0, s?.availableReplicas ?? 0, s?.observedGeneration ?? 0, terminating]);
}

function backOff(ctx: ReplicaSetContext): Pick<ReplicaSetContext, 'failures' | 'retryAt'> {
  const delay = Math.min(ctx.maxRetryDelayMs, ctx.retryDelayMs * 2 ** Math.min(ctx.failures, 30));
  return { failures: ctx.failures + 1, retryAt: ctx.lastNow + delay };
}

/** Pods a successful effect touched, as the API now has them (until the watch says otherwise). */
function assumeOwnership(ctx: ReplicaSetContext, refs: PodRef[], adopt: boolean): PodCache {
  let pods = cacheOf(ctx);
  const uid = ctx.rs.metadata?.uid;
  for (const r of refs) {
    const pod = podGet(pods, r.name);
    if (!pod || pod.metadata?.uid !== r.uid) continue;
    const others = (pod.metadata?.ownerReferences ?? []).filter((o) => !(o.controller && o.uid === uid));
    const ownerReferences = adopt ? [...others, ownerReferenceFor(ctx.rs)] : others;
    const next: Pod = { ...pod, metadata: { ...pod.metadata, ownerReferences } };
    pods = concerns(ctx.rs, next) ? podSet(pods, r.name, next) : podDelete(pods, r.name);
  }
  return pods;
}

const notProvided = (name: string) => async (): Promise<never> => {
  throw new Error(`${name} not provided`);
};

// ---------------------------------------------------------------------------------------

export const replicaSetMachine = setup({
  types: {
    context: {} as ReplicaSetContext,
    events: {} as ReplicaSetEvent,
    input: {} as ReplicaSetInput,
  },
  actors: {
    /** Host: create `count` pods from the template (podFromTemplate), e.g. in slow-start batches; resolve how many were created. */
    createPods: fromPromise<CreatePodsOutput, CreatePodsInput>(notProvided('createPods')),
    /** Host: delete these pods (uid precondition); NotFound counts as done. */
    deletePods: fromPromise<void, PodsEffectInput>(notProvided('deletePods')),
    /** Host: add the controller reference (ownerReferenceFor) to these orphans (uid precondition); skip pods no longer orphans. */
    adoptPods: fromPromise<void, PodsEffectInput>(notProvided('adoptPods')),
    /** Host: remove this ReplicaSet's controller reference from these pods (uid precondition); NotFound counts as done. */
    releasePods: fromPromise<void, PodsEffectInput>(notProvided('releasePods')),
  },
  actions: {
    /** Host: write the ReplicaSet's status (replicas, fullyLabeled, ready, available, observedGeneration). */
    publishStatus: (_args, _status: ReplicaSetStatus) => {},

    recordRs: assign(({ context, event }) => {
      const { rs, now } = event as RsUpdatedEvent;
      const uid = context.rs.metadata?.uid;
      const sameObject = !uid || !rs.metadata?.uid || rs.metadata.uid === uid;
      return sameObject ? { rs, lastNow: advance(context, now) } : { lastNow: advance(context, now) };
    }),
    recordPodUpsert: assign(({ context, event }) => {
      const { pod, now } = event as PodUpsertEvent;
      return { ...applyPodUpsert(context, pod), lastNow: advance(context, now) };
    }),
    recordPodDelete: assign(({ context, event }) => ({ ...applyPodDelete(context, event as PodDeleteEvent), lastNow: advance(context, event.now) })),
    recordNow: assign(({ context, event }) => ({ lastNow: advance(context, event.now) })),
    recordResync: assign(({ context, event }) => ({ lastNow: advance(context, event.now), verifyStatus: true })),
    /** A timer fired: host time has reached the deadline it was set for. */
    wakeUp: assign(({ context }) => ({ lastNow: Math.max(context.lastNow, nextWakeAt(context) ?? context.lastNow) })),

    expectCreations: assign(({ context }) => {
      const e = context.effect;
      const adds = e?.kind === 'create' ? e.count : 0;
      return { expectations: { adds, deletes: [], expiresAt: context.lastNow + context.expectationTimeoutMs } };
    }),
    expectDeletions: assign(({ context }) => {
      const e = context.effect;
      const deletes = e?.kind === 'delete' ? e.pods.map((p) => p.uid) : [];
      return { expectations: { adds: 0, deletes, expiresAt: context.lastNow + context.expectationTimeoutMs } };
    }),
    /** createPods resolved: pods it could not create will never be seen, so stop expecting them (and back off). */
    createsDone: assign(({ context }, params: { created: number | undefined; unknown: number | undefined }) => {
      const asked = context.effect?.kind === 'create' ? context.effect.count : 0;
      const reported = params.created === undefined ? asked : Math.floor(Number(params.created) || 0); // no count: all of them
      const unknown = Math.max(0, Math.floor(Number(params.unknown) || 0));
      const created = Math.max(0, Math.min(asked, reported + unknown));
      if (created >= asked) return { failures: 0, effect: undefined };
      const e = context.expectations;
      const expectations = e ? { ...e, adds: Math.max(0, e.adds - (asked - created)) } : e;
      return { expectations, effect: undefined, ...backOff(context) };
    }),
    assumeAdopted: assign(({ context }) => {
      const e = context.effect;
      return { podCache: e?.kind === 'adopt' ? assumeOwnership(context, e.pods, true) : cacheOf(context), pods: undefined, failures: 0, effect: undefined };
    }),
    assumeReleased: assign(({ context }) => {
      const e = context.effect;
      return { podCache: e?.kind === 'release' ? assumeOwnership(context, e.pods, false) : cacheOf(context), pods: undefined, failures: 0, effect: undefined };
    }),
    effectDone: assign({ failures: 0, effect: undefined }),
    /** An effect rejected: lower the expectations it raised (nothing it asked for will be seen) and back off. */
    effectFailed: assign(({ context }) => {
      const fx = context.effect;
      let e = context.expectations;
      if (e && fx?.kind === 'create') e = { ...e, adds: Math.max(0, e.adds - fx.count) };
      if (e && fx?.kind === 'delete') {
        const failed = new Set(fx.pods.map((p) => p.uid));
        e = { ...e, deletes: e.deletes.filter((u) => !failed.has(u)) };
      }
      return { expectations: e, effect: undefined, ...backOff(context) };
    }),
  },
  guards: {
    rsTerminating: ({ context }) => !!context.rs.metadata?.deletionTimestamp,
    updateClearsTermination: ({ event }) => event.type === 'RS_UPDATED' && !event.rs.metadata?.deletionTimestamp,
    backingOff: ({ context }) => context.retryAt !== undefined,
    expectationsPending: ({ context }) => context.expectations !== undefined,
    availabilityPending: ({ context }) => context.availableAt !== undefined,
    next: ({ context }, params: { kind: Effect['kind'] }) => context.effect?.kind === params.kind,
  },
  delays: {
    /** Until the earliest deadline (back-off end, expectations expiry, a pod becoming available). */
    wakeUp: ({ context }) => Math.max(0, (nextWakeAt(context) ?? context.lastNow) - context.lastNow),
  },
})
  // Declared after publishStatus so that enqueueing it is typed.
  .extend<{ reconcile: undefined }>({
    actions: {
      /** One sync: settle expectations and back-off, decide, publish the status when it changed. */
      reconcile: enqueueActions(({ context, enqueue }) => {
        const ctx = { ...context, ...settle(context) };
        const plan = reconcileReplicaSet(ctx.rs, podList(cacheOf(ctx)), ctx.lastNow, { burstReplicas: ctx.burstReplicas });
        const availableAt = plan.nextAvailableCheckMs !== undefined ? ctx.lastNow + plan.nextAvailableCheckMs : undefined;
        enqueue.assign({ expectations: ctx.expectations, retryAt: ctx.retryAt, effect: nextEffect(plan), availableAt, verifyStatus: false });
        if (ctx.rs.metadata?.deletionTimestamp) return;
        const key = statusKey(plan.status);
        const stale = ctx.verifyStatus === true && key !== statusKey(ctx.rs.status);
        if (key === statusKey(ctx.published) && !stale) return;
        enqueue.assign({ published: plan.status });
        enqueue({ type: 'publishStatus', params: plan.status });
      }),
    },
  })
  .createMachine({
    id: 'replicaset',
    context: ({ input }) => ({
      rs: input.rs,
      podCache: {},
      lastNow: input.now,
      expectationTimeoutMs: input.expectationTimeoutMs ?? DEFAULT_EXPECTATION_TIMEOUT_MS,
      retryDelayMs: input.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS,
      maxRetryDelayMs: input.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS,
      burstReplicas: input.burstReplicas ?? DEFAULT_BURST_REPLICAS,
      expectations: undefined,
      effect: undefined,
      failures: 0,
      retryAt: undefined,
      availableAt: undefined,
      published: input.rs.status,
    }),
    initial: 'WaitingForCaches',
    // Everywhere (effects in flight, Terminating, WaitingForCaches): keep the cache and the clock current.
    on: {
      RS_UPDATED: { actions: 'recordRs' },
      POD_UPSERT: { actions: 'recordPodUpsert' },
      POD_DELETE: { actions: 'recordPodDelete' },
      RESYNC: { actions: 'recordResync' },
      RS_DELETE: { target: '.Deleted', actions: 'recordNow' },
    },
    states: {
      /** Until the host has sent the pods it knows (first RESYNC): acting earlier would create pods that exist. */
      WaitingForCaches: {
        on: { RESYNC: { target: 'Syncing', actions: 'recordResync' } },
      },
      /** Transient: reconcile, then run the one effect it calls for, or rest. */
      Syncing: {
        entry: 'reconcile',
        always: [
          { guard: 'rsTerminating', target: 'Terminating' },
          { guard: 'backingOff', target: 'Watching.BackingOff' },
          { guard: { type: 'next', params: { kind: 'release' } }, target: 'Releasing' },
          { guard: { type: 'next', params: { kind: 'adopt' } }, target: 'Adopting' },
          { guard: 'expectationsPending', target: 'Watching.WaitingForPods' },
          { guard: { type: 'next', params: { kind: 'create' } }, target: 'Creating' },
          { guard: { type: 'next', params: { kind: 'delete' } }, target: 'Deleting' },
          { guard: 'availabilityPending', target: 'Watching.WaitingForMinReady' },
          { target: 'Watching.InSync' },
        ],
      },
      Releasing: {
        invoke: {
          id: 'releasePods',
          src: 'releasePods',
          input: ({ context }) => ({ rs: context.rs, pods: context.effect?.kind === 'release' ? context.effect.pods : [] }),
          onDone: { target: 'Syncing', actions: 'assumeReleased' },
          onError: { target: 'Syncing', actions: 'effectFailed' },
        },
      },
      Adopting: {
        invoke: {
          id: 'adoptPods',
          src: 'adoptPods',
          input: ({ context }) => ({ rs: context.rs, pods: context.effect?.kind === 'adopt' ? context.effect.pods : [] }),
          onDone: { target: 'Syncing', actions: 'assumeAdopted' },
          onError: { target: 'Syncing', actions: 'effectFailed' },
        },
      },
      Creating: {
        entry: 'expectCreations',
        invoke: {
          id: 'createPods',
          src: 'createPods',
          input: ({ context }) => ({ rs: context.rs, count: context.effect?.kind === 'create' ? context.effect.count : 0 }),
          onDone: { target: 'Syncing', actions: { type: 'createsDone', params: ({ event }) => ({ created: event.output?.created, unknown: event.output?.unknown }) } },
          onError: { target: 'Syncing', actions: 'effectFailed' },
        },
      },
      Deleting: {
        entry: 'expectDeletions',
        invoke: {
          id: 'deletePods',
          src: 'deletePods',
          input: ({ context }) => ({ rs: context.rs, pods: context.effect?.kind === 'delete' ? context.effect.pods : [] }),
          onDone: { target: 'Syncing', actions: 'effectDone' },
          onError: { target: 'Syncing', actions: 'effectFailed' },
        },
      },
      /** Nothing in flight: any news leads to a new sync; the timer to the next deadline does too. */
      Watching: {
        initial: 'InSync',
        on: {
          RS_UPDATED: { target: 'Syncing', actions: 'recordRs' },
          POD_UPSERT: { target: 'Syncing', actions: 'recordPodUpsert' },
          POD_DELETE: { target: 'Syncing', actions: 'recordPodDelete' },
          RESYNC: { target: 'Syncing', actions: 'recordResync' },
        },
        states: {
          /** Replicas as desired, status up to date, nothing to wait for. */
          InSync: {},
          /** Replicas as desired; a ready pod becomes available (minReadySeconds) at `availableAt`. */
          WaitingForMinReady: {
            after: { wakeUp: { target: '#replicaset.Syncing', actions: 'wakeUp' } },
          },
          /** Creates/deletes asked for, not yet all seen by the watch; no new ones until they are or they expire. */
          WaitingForPods: {
            after: { wakeUp: { target: '#replicaset.Syncing', actions: 'wakeUp' } },
          },
          /** An effect failed: nothing is attempted before `retryAt`. */
          BackingOff: {
            after: { wakeUp: { target: '#replicaset.Syncing', actions: 'wakeUp' } },
          },
        },
      },
      /** metadata.deletionTimestamp is set: the garbage collector removes the pods; do nothing. */
      Terminating: {
        on: { RS_UPDATED: { guard: 'updateClearsTermination', target: 'Syncing', actions: 'recordRs' } },
      },
      /** The ReplicaSet is gone. */
      Deleted: { type: 'final' },
    },
  });

export type ReplicaSetMachine = typeof replicaSetMachine;
