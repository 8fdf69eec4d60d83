/**
 * The Deployment controller as an XState v5 machine, one actor per Deployment. It keeps the
 * deployment and a cache of its ReplicaSets, takes every decision with `reconcileDeployment`
 * (plan.ts) and does no I/O: creating, updating and deleting ReplicaSets and annotating the
 * deployment are injected promise actors, the status write is the injected `publishStatus`
 * action.
 *
 *   WaitingForCaches --RESYNC--> Planning (transient: reconcile)
 *     ├─ writes to make ─► Applying.{Creating|Updating|Deleting|Annotating} (one at a time)
 *     │                      ├─ all made ─► publish status ─► Awaiting (until the watch shows
 *     │                      │              them, or expectationTimeoutMs) ─► Planning
 *     │                      └─ one failed ─► BackingOff (retryDelayMs, doubling) ─► Awaiting
 *     └─ nothing to write ─► publish status if changed ─► Steady.{Idle | ProgressCheck}
 *                              any host event ─► Planning;  progress deadline ─► Planning
 *
 * Level-based: whatever the event, Planning runs the same reconcile over the cache.
 * Context is plain JSON (persisted with getPersistedSnapshot, restored after a restart).
 * Time only comes from the host: every event carries `now`, kept in `lastNow`; timers are
 * absolute deadlines (host ms) and one that fires moves `lastNow` to its deadline.
 */
import type { Deployment, DeploymentStatus, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { assign, enqueueActions, fromPromise, setup } from 'xstate';
import { stableStringify } from './hash.js';
import { planEffects, reconcileDeployment, type DeploymentEffect, type PlanPath, type ReplicaSetRef, type ReplicaSetUpdate } from './plan.js';
import { Reason, hasProgressDeadline, isControlledBy, newCondition, setCondition } from './rollout.js';

export const DEFAULT_EXPECTATION_TIMEOUT_MS = 30_000;
export const DEFAULT_RETRY_DELAY_MS = 1_000;
export const DEFAULT_MAX_RETRY_DELAY_MS = 60_000;

// ---------------------------------------------------------------------------------------
// Events, effect inputs, input, context

export type DeploymentUpdatedEvent = { type: 'DEPLOYMENT_UPDATED'; deployment: Deployment; now: number };
/** A ReplicaSet of the deployment's namespace was added or changed (any: others reserve their names). */
export type RsUpsertEvent = { type: 'RS_UPSERT'; rs: ReplicaSet; now: number };
export type RsDeleteEvent = { type: 'RS_DELETE'; namespace: string; name: string; uid?: string; now: number };
/**
 * Periodic resync: a clock tick that also re-checks the stored status (a lost status write is
 * published again). The first one says the caches are complete (WaitingForCaches → Planning).
 * With `replicaSets` (all of the namespace's) and/or `deployment`, it replaces the cache
 * wholesale: what the host sends after creating or restoring the actor.
 */
export type ResyncEvent = { type: 'RESYNC'; now: number; deployment?: Deployment; replicaSets?: ReplicaSet[] };
export type DeploymentEvent = DeploymentUpdatedEvent | RsUpsertEvent | RsDeleteEvent | ResyncEvent;

export interface CreateReplicaSetInput {
  replicaSet: ReplicaSet;
}
/** Read-modify-write (CAS) of `spec.replicas` and/or a merge of `annotations`. */
export type UpdateReplicaSetInput = ReplicaSetUpdate;
/** Delete (NotFound counts as done). */
export type DeleteReplicaSetInput = ReplicaSetRef;
/** Merge `annotations` into the deployment's (its revision). */
export interface AnnotateDeploymentInput {
  namespace: string;
  name: string;
  uid?: string;
  annotations: Record<string, string>;
}

export interface DeploymentInput {
  deployment: Deployment;
  now: number;
  /** How long to wait for the watch to show a write before planning again anyway. */
  expectationTimeoutMs?: number;
  /** First back-off after a failed write; doubles per consecutive failure up to maxRetryDelayMs. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
}

/** A write made whose result the watch has not shown yet (kube's expectations, per write). */
export type Expectation =
  | { kind: 'rsCreated'; name: string }
  | { kind: 'rsUpdated'; name: string; uid?: string; replicas?: number; annotations?: Record<string, string> }
  | { kind: 'rsDeleted'; name: string; uid: string }
  | { kind: 'deploymentAnnotated'; annotations: Record<string, string> };

export interface DeploymentContext {
  deployment: Deployment;
  /** The deployment's ReplicaSets (controller ownerReference with its uid), by name. */
  replicaSets: Record<string, ReplicaSet>;
  /** The namespace's other ReplicaSets, name → uid: they only reserve their names. */
  otherReplicaSets: Record<string, string>;
  lastNow: number;
  /** The status last published (at first: the deployment's): progress is measured against it. */
  status: DeploymentStatus;
  /** Set by RESYNC: also publish when the stored status differs (a lost write). */
  verifyStatus: boolean;
  /** The plan being applied: its writes, the next one to make, the status to publish after. */
  effects: DeploymentEffect[];
  cursor: number;
  pendingStatus?: DeploymentStatus;
  /** What the last plan was (for logs and `describe`). */
  path?: PlanPath;
  newReplicaSet?: string;
  expectations: Expectation[];
  /** Host time the current timer is for: progress check (Steady), expectations (Awaiting), retry (BackingOff). */
  deadline?: number;
  failures: number;
  lastError?: string;
  expectationTimeoutMs: number;
  retryDelayMs: number;
  maxRetryDelayMs: number;
}

// ---------------------------------------------------------------------------------------
// Context bookkeeping (pure helpers)

function namespaceOf(obj: { metadata?: { namespace?: string } } | undefined): string {
  return obj?.metadata?.namespace || 'default';
}

function without<T>(record: Record<string, T>, key: string): Record<string, T> {
  if (!(key in record)) return record;
  const { [key]: _, ...rest } = record;
  return rest;
}

function observe(context: DeploymentContext, now: number): Pick<DeploymentContext, 'lastNow'> {
  return { lastNow: Math.max(context.lastNow, Number.isFinite(now) ? now : context.lastNow) };
}

function upsertReplicaSet(context: DeploymentContext, rs: ReplicaSet): Partial<DeploymentContext> {
  if (namespaceOf(rs) !== namespaceOf(context.deployment)) return {};
  const name = rs.metadata?.name ?? '';
  if (isControlledBy(rs, context.deployment.metadata?.uid)) {
    return { replicaSets: { ...context.replicaSets, [name]: rs }, otherReplicaSets: without(context.otherReplicaSets, name) };
  }
  return { replicaSets: without(context.replicaSets, name), otherReplicaSets: { ...context.otherReplicaSets, [name]: rs.metadata?.uid ?? '' } };
}

function deleteReplicaSet(context: DeploymentContext, namespace: string, name: string, uid: string | undefined): Partial<DeploymentContext> {
  if ((namespace || 'default') !== namespaceOf(context.deployment)) return {};
  const mine = context.replicaSets[name];
  const other = context.otherReplicaSets[name];
  return {
    replicaSets: mine && (!uid || mine.metadata?.uid === uid) ? without(context.replicaSets, name) : context.replicaSets,
    otherReplicaSets: other !== undefined && (!uid || other === uid) ? without(context.otherReplicaSets, name) : context.otherReplicaSets,
  };
}

/** The whole cache from the host's lists. */
function replaceReplicaSets(context: DeploymentContext, replicaSets: ReplicaSet[]): Partial<DeploymentContext> {
  let next: DeploymentContext = { ...context, replicaSets: {}, otherReplicaSets: {} };
  for (const rs of replicaSets) next = { ...next, ...upsertReplicaSet(next, rs) };
  return { replicaSets: next.replicaSets, otherReplicaSets: next.otherReplicaSets };
}

function storeDeployment(context: DeploymentContext, deployment: Deployment): Partial<DeploymentContext> {
  if (deployment.metadata?.uid === context.deployment.metadata?.uid) return { deployment };
  // Recreated under the same name: another deployment, whose status and ReplicaSets start over.
  const all = [
    ...Object.values(context.replicaSets),
    ...Object.entries(context.otherReplicaSets).map(([name, uid]) => ({ metadata: { name, namespace: namespaceOf(context.deployment), uid } }) as ReplicaSet),
  ];
  return { deployment, status: deployment.status ?? {}, ...replaceReplicaSets({ ...context, deployment }, all) };
}

/** The cache as `reconcileDeployment` takes it: ours, plus name-only stand-ins for the others. */
function replicaSetList(context: DeploymentContext): ReplicaSet[] {
  const namespace = namespaceOf(context.deployment);
  return [
    ...Object.values(context.replicaSets),
    ...Object.entries(context.otherReplicaSets).map(([name, uid]) => ({ metadata: { name, namespace, uid } }) as ReplicaSet),
  ];
}

function plan(context: DeploymentContext): Partial<DeploymentContext> {
  const p = reconcileDeployment({ ...context.deployment, status: context.status }, replicaSetList(context), context.lastNow);
  const base = { cursor: 0, expectations: [], path: p.path, newReplicaSet: p.newReplicaSet };
  if (p.path === 'deleting') return { ...base, effects: [], pendingStatus: undefined, deadline: undefined };
  return {
    ...base,
    effects: planEffects(p),
    pendingStatus: p.status,
    deadline: p.nextCheckMs !== undefined ? context.lastNow + p.nextCheckMs : undefined,
  };
}

function expectationOf(effect: DeploymentEffect): Expectation {
  switch (effect.type) {
    case 'createReplicaSet':
      return { kind: 'rsCreated', name: effect.replicaSet.metadata?.name ?? '' };
    case 'updateReplicaSet': {
      const { name, uid, replicas, annotations } = effect.update;
      return { kind: 'rsUpdated', name, uid, replicas, annotations };
    }
    case 'deleteReplicaSet':
      return { kind: 'rsDeleted', name: effect.ref.name, uid: effect.ref.uid };
    case 'annotateDeployment':
      return { kind: 'deploymentAnnotated', annotations: effect.annotations };
  }
}

function includes(annotations: Record<string, string> | undefined, wanted: Record<string, string> | undefined): boolean {
  return Object.entries(wanted ?? {}).every(([k, v]) => annotations?.[k] === v);
}

/** The watch shows the write (or shows the ReplicaSet gone or replaced, which settles it too). */
export function expectationMet(context: DeploymentContext, e: Expectation): boolean {
  switch (e.kind) {
    case 'rsCreated':
      return e.name in context.replicaSets || e.name in context.otherReplicaSets;
    case 'rsUpdated': {
      const rs = context.replicaSets[e.name];
      if (!rs || (e.uid && rs.metadata?.uid !== e.uid)) return true;
      return (e.replicas === undefined || rs.spec?.replicas === e.replicas) && includes(rs.metadata?.annotations, e.annotations);
    }
    case 'rsDeleted': {
      const rs = context.replicaSets[e.name];
      return !rs || rs.metadata?.uid !== e.uid || !!rs.metadata?.deletionTimestamp;
    }
    case 'deploymentAnnotated':
      return includes(context.deployment.metadata?.annotations, e.annotations);
  }
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  const m = (error as { message?: unknown } | null)?.message;
  return typeof m === 'string' ? m : String(error);
}

function retryDelay(context: DeploymentContext, failures: number): number {
  return Math.min(context.retryDelayMs * 2 ** Math.max(0, Math.min(failures - 1, 30)), Math.max(context.maxRetryDelayMs, context.retryDelayMs));
}

function currentEffect<T extends DeploymentEffect['type']>(context: DeploymentContext, type: T): Extract<DeploymentEffect, { type: T }> {
  const e = context.effects[context.cursor];
  if (!e || e.type !== type) throw new Error(`deployment: expected a ${type} effect at ${context.cursor}`);
  return e as Extract<DeploymentEffect, { type: T }>;
}

function annotateInput(context: DeploymentContext): AnnotateDeploymentInput {
  const meta = context.deployment.metadata;
  const input: AnnotateDeploymentInput = { namespace: namespaceOf(context.deployment), name: meta?.name ?? '', annotations: currentEffect(context, 'annotateDeployment').annotations };
  if (meta?.uid) input.uid = meta.uid;
  return input;
}

// ---------------------------------------------------------------------------------------

const hostEvents = {
  DEPLOYMENT_UPDATED: { actions: 'storeDeployment' },
  RS_UPSERT: { actions: 'upsertReplicaSet' },
  RS_DELETE: { actions: 'deleteReplicaSet' },
  RESYNC: { actions: 'resync' },
} as const;

const machineSetup = setup({
  types: {
    context: {} as DeploymentContext,
    events: {} as DeploymentEvent,
    input: {} as DeploymentInput,
  },
  actors: {
    /** Create the ReplicaSet; AlreadyExists counts as done. Provided by the host. */
    createReplicaSet: fromPromise<void, CreateReplicaSetInput>(async () => {
      throw new Error('createReplicaSet not provided');
    }),
    /** Read-modify-write with CAS (retried on conflict) of replicas and/or annotations. */
    updateReplicaSet: fromPromise<void, UpdateReplicaSetInput>(async () => {
      throw new Error('updateReplicaSet not provided');
    }),
    /** Delete the ReplicaSet (uid precondition); NotFound counts as done. */
    deleteReplicaSet: fromPromise<void, DeleteReplicaSetInput>(async () => {
      throw new Error('deleteReplicaSet not provided');
    }),
    /** Merge annotations into the deployment (its revision). */
    annotateDeployment: fromPromise<void, AnnotateDeploymentInput>(async () => {
      throw new Error('annotateDeployment not provided');
    }),
  },
  actions: {
    /** Host: write the deployment's status subresource (retrying conflicts). Called only when it changed. */
    publishStatus: (_, _params: DeploymentStatus) => {},
    storeDeployment: assign(({ context, event }) => {
      const { deployment, now } = event as DeploymentUpdatedEvent;
      return { ...observe(context, now), ...storeDeployment(context, deployment) };
    }),
    upsertReplicaSet: assign(({ context, event }) => {
      const { rs, now } = event as RsUpsertEvent;
      return { ...observe(context, now), ...upsertReplicaSet(context, rs) };
    }),
    deleteReplicaSet: assign(({ context, event }) => {
      const { namespace, name, uid, now } = event as RsDeleteEvent;
      return { ...observe(context, now), ...deleteReplicaSet(context, namespace, name, uid) };
    }),
    resync: assign(({ context, event }) => {
      const { now, deployment, replicaSets } = event as ResyncEvent;
      let next: DeploymentContext = { ...context, ...observe(context, now), verifyStatus: true };
      if (deployment) next = { ...next, ...storeDeployment(next, deployment) };
      if (replicaSets) next = { ...next, ...replaceReplicaSets(next, replicaSets) };
      return next;
    }),
    plan: assign(({ context }) => plan(context)),
    effectDone: assign(({ context }) => ({
      expectations: [...context.expectations, expectationOf(context.effects[context.cursor])],
      cursor: context.cursor + 1,
    })),
    /** Every write made: wait for the watch to show them. */
    applied: assign(({ context }) => ({ failures: 0, lastError: undefined, effects: [], cursor: 0, deadline: context.lastNow + context.expectationTimeoutMs })),
    /**
     * A write failed: back off (the plan is dropped). A failed create is reported as Kubernetes
     * does: Progressing=False ReplicaSetCreateError (published on entering BackingOff).
     */
    effectFailed: assign(({ context, event }) => {
      const failures = context.failures + 1;
      const message = errorMessage((event as { error?: unknown }).error);
      const effect = context.effects[context.cursor];
      const next = { failures, lastError: message, effects: [], cursor: 0, deadline: context.lastNow + retryDelay(context, failures) };
      if (effect?.type !== 'createReplicaSet' || !hasProgressDeadline(context.deployment) || !context.pendingStatus) return { ...next, pendingStatus: undefined };
      const status: DeploymentStatus = JSON.parse(JSON.stringify(context.pendingStatus));
      const msg = `Failed to create new replica set "${effect.replicaSet.metadata?.name}": ${message}`;
      setCondition(status, newCondition('Progressing', 'False', Reason.FailedRSCreate, msg, context.lastNow));
      return { ...next, pendingStatus: status };
    }),
    /** Waiting for the watch again, after a back-off. */
    awaitAgain: assign(({ context }) => ({ deadline: context.lastNow + context.expectationTimeoutMs })),
    forgetExpectations: assign({ expectations: [] as Expectation[], deadline: undefined }),
    /** A timer fired: time has moved on to its deadline at least. */
    advanceToDeadline: assign(({ context }) => ({ lastNow: Math.max(context.lastNow, context.deadline ?? context.lastNow) })),
  },
  guards: {
    hasEffects: ({ context }) => context.effects.length > context.cursor,
    nextIs: ({ context }, params: { type: DeploymentEffect['type'] }) => context.effects[context.cursor]?.type === params.type,
    expectationsMet: ({ context }) => context.expectations.every((e) => expectationMet(context, e)),
    hasDeadline: ({ context }) => context.deadline !== undefined,
    deadlinePassed: ({ context }) => context.deadline !== undefined && context.lastNow >= context.deadline,
  },
  delays: {
    untilDeadline: ({ context }) => Math.max(0, (context.deadline ?? context.lastNow) - context.lastNow),
  },
});

/** The plan's status, published when it differs from the last one (or, after RESYNC, from the stored one). */
const publishStatusIfChanged = machineSetup.enqueueActions(({ context, enqueue }) => {
  const next = context.pendingStatus;
  if (!next) return;
  const text = stableStringify(next);
  const changed = text !== stableStringify(context.status) || (context.verifyStatus && text !== stableStringify(context.deployment.status ?? {}));
  if (changed) enqueue({ type: 'publishStatus', params: next });
  enqueue.assign({ status: next, pendingStatus: undefined, verifyStatus: false });
});

export const deploymentMachine = machineSetup.createMachine({
  id: 'deployment',
  context: ({ input }) => ({
    deployment: input.deployment,
    replicaSets: {},
    otherReplicaSets: {},
    lastNow: input.now,
    status: input.deployment.status ?? {},
    verifyStatus: false,
    effects: [],
    cursor: 0,
    expectations: [],
    failures: 0,
    expectationTimeoutMs: input.expectationTimeoutMs ?? DEFAULT_EXPECTATION_TIMEOUT_MS,
    retryDelayMs: input.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS,
    maxRetryDelayMs: input.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS,
  }),
  initial: 'WaitingForCaches',
  on: hostEvents,
  states: {
    /** Until the host says every ReplicaSet of the namespace has been sent (first RESYNC). */
    WaitingForCaches: {
      on: { RESYNC: { target: 'Planning', actions: 'resync' } },
    },
    /** Transient: reconcile the cache into a plan. */
    Planning: {
      entry: 'plan',
      always: [{ guard: 'hasEffects', target: 'Applying' }, { target: 'Steady', actions: publishStatusIfChanged }],
    },
    /** One write at a time; events meanwhile only update the cache. */
    Applying: {
      initial: 'Next',
      states: {
        Next: {
          always: [
            { guard: { type: 'nextIs', params: { type: 'createReplicaSet' } }, target: 'Creating' },
            { guard: { type: 'nextIs', params: { type: 'updateReplicaSet' } }, target: 'Updating' },
            { guard: { type: 'nextIs', params: { type: 'deleteReplicaSet' } }, target: 'Deleting' },
            { guard: { type: 'nextIs', params: { type: 'annotateDeployment' } }, target: 'Annotating' },
            { target: '#deployment.Awaiting', actions: [publishStatusIfChanged, 'applied'] },
          ],
        },
        Creating: {
          invoke: {
            id: 'createReplicaSet',
            src: 'createReplicaSet',
            input: ({ context }) => ({ replicaSet: currentEffect(context, 'createReplicaSet').replicaSet }),
            onDone: { target: 'Next', actions: 'effectDone' },
            onError: { target: '#deployment.BackingOff', actions: 'effectFailed' },
          },
        },
        Updating: {
          invoke: {
            id: 'updateReplicaSet',
            src: 'updateReplicaSet',
            input: ({ context }) => currentEffect(context, 'updateReplicaSet').update,
            onDone: { target: 'Next', actions: 'effectDone' },
            onError: { target: '#deployment.BackingOff', actions: 'effectFailed' },
          },
        },
        Deleting: {
          invoke: {
            id: 'deleteReplicaSet',
            src: 'deleteReplicaSet',
            input: ({ context }) => currentEffect(context, 'deleteReplicaSet').ref,
            onDone: { target: 'Next', actions: 'effectDone' },
            onError: { target: '#deployment.BackingOff', actions: 'effectFailed' },
          },
        },
        Annotating: {
          invoke: {
            id: 'annotateDeployment',
            src: 'annotateDeployment',
            input: ({ context }) => annotateInput(context),
            onDone: { target: 'Next', actions: 'effectDone' },
            onError: { target: '#deployment.BackingOff', actions: 'effectFailed' },
          },
        },
      },
    },
    /**
     * Writes made; until the watch shows them all (or expectationTimeoutMs), events only update
     * the cache, so a slow watch never makes the same step twice. RESYNC re-arms the timer
     * (timers are not part of a persisted snapshot).
     */
    Awaiting: {
      always: [
        { guard: 'expectationsMet', target: 'Planning', actions: 'forgetExpectations' },
        { guard: 'deadlinePassed', target: 'Planning', actions: 'forgetExpectations' },
      ],
      after: { untilDeadline: { target: 'Planning', actions: ['advanceToDeadline', 'forgetExpectations'] } },
      on: { RESYNC: { target: 'Awaiting', reenter: true, actions: 'resync' } },
    },
    /** A write failed: wait, then (once earlier writes are seen) plan again. */
    BackingOff: {
      entry: publishStatusIfChanged,
      always: { guard: 'deadlinePassed', target: 'Awaiting', actions: 'awaitAgain' },
      after: { untilDeadline: { target: 'Awaiting', actions: ['advanceToDeadline', 'awaitAgain'] } },
      on: { RESYNC: { target: 'BackingOff', reenter: true, actions: 'resync' } },
    },
    /** Nothing to write: any news plans again; so does the progress deadline. */
    Steady: {
      initial: 'Idle',
      on: {
        DEPLOYMENT_UPDATED: { target: 'Planning', actions: 'storeDeployment' },
        RS_UPSERT: { target: 'Planning', actions: 'upsertReplicaSet' },
        RS_DELETE: { target: 'Planning', actions: 'deleteReplicaSet' },
        RESYNC: { target: 'Planning', actions: 'resync' },
      },
      states: {
        Idle: {
          always: { guard: 'hasDeadline', target: 'ProgressCheck' },
        },
        /** Waiting for Progressing.lastUpdateTime + progressDeadlineSeconds (+1 s). */
        ProgressCheck: {
          always: { guard: 'deadlinePassed', target: '#deployment.Planning' },
          after: { untilDeadline: { target: '#deployment.Planning', actions: 'advanceToDeadline' } },
        },
      },
    },
  },
});

export type DeploymentMachine = typeof deploymentMachine;
