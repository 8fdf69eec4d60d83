/**
 * The scheduler as an XState v5 machine. It holds a cache of nodes and of pods placed on
 * them (including "assumed" pods it bound but has not seen back yet), a queue of pods
 * waiting for a node and a set of parked (unschedulable) pods. It does no I/O: binding
 * is the injected `bindPod` actor, reporting the injected `reportScheduled` /
 * `reportUnschedulable` actions. The decision itself is `schedulePod` (scoring.ts).
 *
 * Like kube-scheduler, the scheduling cycle never waits for a bind: a pod placed on a node is
 * assumed there at once (later decisions count it) and its bind runs in the background as a
 * spawned `bindPod` child (`bind:<namespace>/<name>`), up to `maxInFlightBinds` at a time.
 *
 * Two parallel regions:
 *   pipeline: idle ⇄ scheduling   (one decision per visit; loops while pods are queued and a bind slot is free)
 *   retry:    quiet → armed --after retryInterval--> quiet (requeues parked pods)
 * Bind results arrive as the children's done/error events, handled at the root.
 */
import { assign, fromPromise, setup, spawnChild, stopChild } from 'xstate';
import type { KubeObject, Node, Pod } from '../../protocol/objects.js';
import { emptyVolumes, type VolumeSnapshot } from './volumes.js';
import { isTerminal, keyOf, needsScheduling, podInfo, podKey, type PodInfo } from './predicates.js';
import { schedulePod } from './scoring.js';

export const DEFAULT_RETRY_INTERVAL_MS = 5000;
/** Binds running at once; when all slots are taken, deciding waits for one to finish. */
export const DEFAULT_MAX_IN_FLIGHT_BINDS = 64;

export interface BindPodInput {
  namespace: string;
  name: string;
  uid: string | undefined;
  nodeName: string;
}
export interface UnschedulableReport {
  namespace: string;
  name: string;
  uid: string | undefined;
  message: string;
}
export type ScheduledReport = BindPodInput;

export type NodeUpsertEvent = { type: 'NODE_UPSERT'; node: Node };
export type NodeDeleteEvent = { type: 'NODE_DELETE'; name: string };
export type PodUpsertEvent = { type: 'POD_UPSERT'; pod: Pod };
export type PodDeleteEvent = { type: 'POD_DELETE'; namespace: string; name: string };
/** A PersistentVolumeClaim, PersistentVolume or StorageClass changed (or went: `deleted`). */
export type VolumeObjectEvent = { type: 'VOLUME_OBJECT'; object: KubeObject; deleted?: boolean };
export type SchedulerEvent = NodeUpsertEvent | NodeDeleteEvent | PodUpsertEvent | PodDeleteEvent | VolumeObjectEvent;

export interface SchedulerInput {
  retryIntervalMs?: number;
  /** At most this many binds run at once (default 64, at least 1). */
  maxInFlightBinds?: number;
}

/** Why a pending pod is parked: it fits nowhere, or its bind failed (retried on any news of it). */
export type ParkReason = 'unschedulable' | 'bindFailed';

/** The decision just taken (set and consumed within one step of the pipeline). */
export interface Attempt {
  key: string;
  pod: Pod;
  nodeName?: string;
  message?: string;
}

/** A bind in flight: the version of the pod it was decided for, and the node. */
export interface Binding {
  pod: Pod;
  nodeName: string;
}

const BIND_PREFIX = 'bind:';
/** The id of the spawned `bindPod` child for a pod key (`bind:<namespace>/<name>`). */
export function bindActorId(key: string): string {
  return BIND_PREFIX + key;
}

export interface SchedulerContext {
  retryIntervalMs: number;
  maxInFlightBinds: number;
  nodes: Record<string, Node>;
  /** Claims, volumes and classes, for the VolumeBinding filter. */
  volumes: VolumeSnapshot;
  /** Pods holding a node: seen bound in the API, or assumed (`assumed: true`) from the decision until their bound version arrives. */
  placed: Record<string, PodInfo>;
  /** Latest version of each pod waiting for a node; each key is queued, parked or in `binding`. */
  pending: Record<string, Pod>;
  /** Keys to try next (kube-scheduler's activeQ). */
  queue: string[];
  /** Keys waiting for a cluster change or the retry timer (unschedulableQ). */
  parked: Record<string, ParkReason>;
  /** Last FailedScheduling message reported per pod, so the same one is not reported twice. */
  reported: Record<string, string>;
  /** Binds in flight by pod key; each has a `bindPod` child `bind:<key>` and an assumed entry in `placed`. */
  binding: Record<string, Binding>;
  attempt: Attempt | undefined;
}

// ---------------------------------------------------------------------------------------
// Context bookkeeping (pure helpers)

function without<T>(record: Record<string, T>, key: string): Record<string, T> {
  if (!(key in record)) return record;
  const { [key]: _, ...rest } = record;
  return rest;
}

function enqueue(queue: string[], key: string): string[] {
  return queue.includes(key) ? queue : [...queue, key];
}

/** Moves every parked pod back to the queue (moveAllToActiveOrBackoffQueue). */
function unpark(ctx: SchedulerContext): Partial<SchedulerContext> {
  const keys = Object.keys(ctx.parked);
  return keys.length ? { queue: [...ctx.queue, ...keys], parked: {} } : {};
}

/** Forgets a pending pod wherever it waits. */
function dropPending(ctx: SchedulerContext, key: string): Pick<SchedulerContext, 'pending' | 'queue' | 'parked' | 'reported'> {
  return {
    pending: without(ctx.pending, key),
    queue: ctx.queue.includes(key) ? ctx.queue.filter((k) => k !== key) : ctx.queue,
    parked: without(ctx.parked, key),
    reported: without(ctx.reported, key),
  };
}

/** Fields that decide where a node may take pods; heartbeats that change none of them are no news. */
function nodeSchedulingView(node: Node | undefined): string {
  if (!node) return '';
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status;
  return JSON.stringify([node.metadata?.labels, node.spec?.unschedulable, node.spec?.taints, node.status?.allocatable, node.status?.capacity, ready]);
}

function applyPodUpsert(ctx: SchedulerContext, pod: Pod): Partial<SchedulerContext> {
  const key = keyOf(pod);
  const uid = pod.metadata?.uid;
  if (pod.spec?.nodeName) {
    // Bound (by us or anyone): it holds capacity until it terminates or is deleted.
    const before = ctx.placed[key];
    const info = podInfo(pod);
    // Most events of a bound pod are status updates that change nothing the scheduler counts:
    // skip them without copying `placed` (a copy per event is quadratic in the pod count).
    if (before && !before.assumed && samePlacement(before, info) && !(key in ctx.pending) && !(key in ctx.parked) && !(key in ctx.reported) && !ctx.queue.includes(key)) {
      return {};
    }
    const placed = isTerminal(info.phase) ? without(ctx.placed, key) : { ...ctx.placed, [key]: info };
    const next: Partial<SchedulerContext> = { ...dropPending(ctx, key), placed };
    const freed = before && !isTerminal(before.phase) && isTerminal(info.phase);
    return freed ? { ...next, ...unpark({ ...ctx, ...next }) } : next;
  }
  const inFlight = ctx.binding[key];
  if (inFlight) {
    // The bind's result decides what comes next; meanwhile remember the newest version (no second bind).
    const prior = ctx.placed[key];
    if (prior && !prior.assumed && prior.uid === uid) return {}; // a stale version after the bound one
    if (inFlight.pod.metadata?.uid === uid && needsScheduling(pod)) return { pending: { ...ctx.pending, [key]: pod } };
    // Recreated under the same name, or no longer to be scheduled: the assumption goes.
    const dropAssumed = prior?.assumed === true;
    const placed = dropAssumed ? without(ctx.placed, key) : ctx.placed;
    const next: Partial<SchedulerContext> = needsScheduling(pod) ? { pending: { ...ctx.pending, [key]: pod }, placed } : { ...dropPending(ctx, key), placed };
    return dropAssumed ? { ...next, ...unpark({ ...ctx, ...next }) } : next;
  }
  const assumed = ctx.placed[key];
  if (assumed?.assumed && assumed.uid === uid) return {}; // a stale, pre-bind version of a pod we bound
  const placed = assumed && assumed.uid !== uid ? without(ctx.placed, key) : ctx.placed; // recreated under the same name
  if (!needsScheduling(pod)) return { ...dropPending(ctx, key), placed };
  const pending = { ...ctx.pending, [key]: pod };
  if (ctx.queue.includes(key)) return { pending, placed };
  const parked = ctx.parked[key];
  if (parked) {
    const specChanged = JSON.stringify(ctx.pending[key]?.spec) !== JSON.stringify(pod.spec);
    if (parked === 'unschedulable' && !specChanged) return { pending, placed };
    return { pending, placed, parked: without(ctx.parked, key), queue: [...ctx.queue, key] };
  }
  return { pending, placed, queue: [...ctx.queue, key] };
}

/** Takes the next key (highest `spec.priority`, then first in) and decides for it. */
function samePlacement(a: PodInfo, b: PodInfo): boolean {
  return (
    a.uid === b.uid &&
    a.nodeName === b.nodeName &&
    a.phase === b.phase &&
    JSON.stringify([a.requests, a.scoreRequests, a.labels, a.ownerUids]) === JSON.stringify([b.requests, b.scoreRequests, b.labels, b.ownerUids])
  );
}

function decide(ctx: SchedulerContext): Partial<SchedulerContext> {
  let best = -1;
  let bestPriority = -Infinity;
  ctx.queue.forEach((k, i) => {
    const priority = ctx.pending[k]?.spec?.priority ?? 0;
    if (priority > bestPriority) [best, bestPriority] = [i, priority];
  });
  if (best < 0) return { attempt: undefined };
  const key = ctx.queue[best];
  const queue = ctx.queue.filter((_, i) => i !== best);
  const pod = ctx.pending[key];
  if (!pod || ctx.binding[key]) return { queue, attempt: undefined };
  const podsByNode = new Map<string, PodInfo[]>();
  for (const p of Object.values(ctx.placed)) {
    if (!p.nodeName) continue;
    const list = podsByNode.get(p.nodeName);
    if (list) list.push(p);
    else podsByNode.set(p.nodeName, [p]);
  }
  const result = schedulePod(pod, Object.values(ctx.nodes), podsByNode, ctx.volumes);
  return { queue, attempt: 'nodeName' in result ? { key, pod, nodeName: result.nodeName } : { key, pod, message: result.unschedulable } };
}

function applyVolumeObject(v: VolumeSnapshot, obj: KubeObject, deleted: boolean): VolumeSnapshot {
  const name = obj.metadata?.name ?? '';
  const field = obj.kind === 'PersistentVolumeClaim' ? 'claims' : obj.kind === 'PersistentVolume' ? 'volumes' : obj.kind === 'StorageClass' ? 'classes' : undefined;
  if (!field) return v;
  const key = field === 'claims' ? podKey(obj.metadata?.namespace, name) : name;
  return { ...v, [field]: deleted ? without(v[field], key) : { ...v[field], [key]: obj } };
}

function bindInput(b: { pod: Pod; nodeName?: string }): BindPodInput {
  return { namespace: b.pod.metadata?.namespace || 'default', name: b.pod.metadata?.name ?? '', uid: b.pod.metadata?.uid, nodeName: b.nodeName ?? '' };
}

/** The pod key of a `bindPod` child's done/error event (`xstate.done.actor.bind:<key>`), if it is one. */
function bindKeyOf(event: { type: string }): string | undefined {
  const m = /^xstate\.(?:done|error)\.actor\.(.*)$/.exec(event.type);
  return m && m[1].startsWith(BIND_PREFIX) ? m[1].slice(BIND_PREFIX.length) : undefined;
}

/** Assumes the decided pod on its node and records its bind as in flight. */
function startBind(ctx: SchedulerContext): Partial<SchedulerContext> {
  const a = ctx.attempt!;
  const info: PodInfo = { ...podInfo(a.pod), nodeName: a.nodeName, assumed: true };
  return {
    placed: { ...ctx.placed, [a.key]: info },
    binding: { ...ctx.binding, [a.key]: { pod: a.pod, nodeName: a.nodeName! } },
    attempt: undefined,
  };
}

/** Bind succeeded: the pod stays assumed on its node until its bound version comes back. */
function bindSucceeded(ctx: SchedulerContext, key: string): Partial<SchedulerContext> {
  const b = ctx.binding[key];
  if (!b) return {};
  const binding = without(ctx.binding, key);
  const current = ctx.pending[key];
  if (!current) return { binding }; // already seen bound, deleted, or no longer to be scheduled
  if (current.metadata?.uid !== b.pod.metadata?.uid) return { binding, queue: enqueue(ctx.queue, key) }; // recreated
  const prior = ctx.placed[key];
  const placed = prior ? ctx.placed : { ...ctx.placed, [key]: { ...podInfo(current), nodeName: b.nodeName, assumed: true } };
  return { ...dropPending(ctx, key), placed, binding };
}

/**
 * Bind failed: the assumption is forgotten (its capacity freed, so parked pods are retried),
 * then: retried at once if the pod changed meanwhile, forgotten if gone (NotFound), else parked.
 */
function bindFailed(ctx: SchedulerContext, key: string, error: unknown): Partial<SchedulerContext> {
  const b = ctx.binding[key];
  if (!b) return {};
  let next: SchedulerContext = { ...ctx, binding: without(ctx.binding, key) };
  const prior = ctx.placed[key];
  if (prior?.assumed && prior.uid === b.pod.metadata?.uid) next = { ...next, placed: without(ctx.placed, key) };
  if (next.placed !== ctx.placed) next = { ...next, ...unpark(next) };
  const current = next.pending[key];
  if (!current) return next;
  if (current.metadata?.resourceVersion !== b.pod.metadata?.resourceVersion || current.metadata?.uid !== b.pod.metadata?.uid)
    return { ...next, queue: enqueue(next.queue, key) };
  if (errorReason(error) === 'NotFound') return { ...next, ...dropPending(next, key) };
  return { ...next, parked: { ...next.parked, [key]: 'bindFailed' as const } };
}

function errorReason(error: unknown): string | undefined {
  const reason = (error as { reason?: unknown } | null)?.reason;
  return typeof reason === 'string' ? reason : undefined;
}

// ---------------------------------------------------------------------------------------

export const schedulerMachine = setup({
  types: {
    context: {} as SchedulerContext,
    events: {} as SchedulerEvent,
    input: {} as SchedulerInput,
  },
  actors: {
    /** Writes the binding (spec.nodeName) with a uid precondition; provided by the host. */
    bindPod: fromPromise<unknown, BindPodInput>(async () => {
      throw new Error('bindPod not provided');
    }),
  },
  actions: {
    /** Host: PodScheduled=False/Unschedulable condition + FailedScheduling Event. */
    reportUnschedulable: (_, _params: UnschedulableReport) => {},
    /** Host: `Scheduled` Event ("Successfully assigned ns/name to node"). */
    reportScheduled: (_, _params: ScheduledReport) => {},
    upsertNode: assign(({ context, event }) => {
      const { node } = event as NodeUpsertEvent;
      const name = node.metadata?.name ?? '';
      const news = nodeSchedulingView(context.nodes[name]) !== nodeSchedulingView(node);
      const nodes = { ...context.nodes, [name]: node };
      return news ? { nodes, ...unpark(context) } : { nodes };
    }),
    deleteNode: assign(({ context, event }) => ({ nodes: without(context.nodes, (event as NodeDeleteEvent).name), ...unpark(context) })),
    upsertPod: assign(({ context, event }) => applyPodUpsert(context, (event as PodUpsertEvent).pod)),
    deletePod: assign(({ context, event }) => {
      const { namespace, name } = event as PodDeleteEvent;
      const key = podKey(namespace, name);
      const next = { ...context, ...dropPending(context, key), placed: without(context.placed, key) };
      return { ...next, ...unpark(next) };
    }),
    requeueParked: assign(({ context }) => unpark(context)),
    /** A claim bound, a volume or class changed: parked pods may fit now. */
    volumeObject: assign(({ context, event }) => {
      const { object, deleted } = event as VolumeObjectEvent;
      return { volumes: applyVolumeObject(context.volumes, object, deleted === true), ...unpark(context) };
    }),
    decide: assign(({ context }) => decide(context)),
    park: assign(({ context }) => {
      const a = context.attempt!;
      return {
        parked: { ...context.parked, [a.key]: 'unschedulable' as const },
        reported: { ...context.reported, [a.key]: a.message! },
        attempt: undefined,
      };
    }),
    /** The decided pod is assumed on its node now, while its bind runs. */
    startBind: assign(({ context }) => startBind(context)),
    bindSucceeded: assign(({ context, event }) => bindSucceeded(context, bindKeyOf(event) ?? '')),
    bindFailed: assign(({ context, event }) => bindFailed(context, bindKeyOf(event) ?? '', (event as { error?: unknown }).error)),
  },
  guards: {
    /** A pod is queued and a bind slot is free. */
    canDecide: ({ context }) => context.queue.length > 0 && Object.keys(context.binding).length < context.maxInFlightBinds,
    isBind: ({ context, event }) => {
      const key = bindKeyOf(event);
      return key !== undefined && key in context.binding;
    },
    hasParked: ({ context }) => Object.keys(context.parked).length > 0,
    placed: ({ context }) => context.attempt?.nodeName !== undefined,
    unschedulableNews: ({ context }) => {
      const a = context.attempt;
      return a?.message !== undefined && context.reported[a.key] !== a.message;
    },
    unschedulable: ({ context }) => context.attempt?.message !== undefined,
  },
  delays: {
    retryInterval: ({ context }) => context.retryIntervalMs,
  },
}).createMachine({
  id: 'scheduler',
  type: 'parallel',
  context: ({ input }) => ({
    retryIntervalMs: input?.retryIntervalMs ?? DEFAULT_RETRY_INTERVAL_MS,
    maxInFlightBinds: Math.max(1, Math.floor(input?.maxInFlightBinds ?? DEFAULT_MAX_IN_FLIGHT_BINDS)),
    nodes: {},
    volumes: emptyVolumes(),
    placed: {},
    pending: {},
    queue: [],
    parked: {},
    reported: {},
    binding: {},
    attempt: undefined,
  }),
  on: {
    NODE_UPSERT: { actions: 'upsertNode' },
    NODE_DELETE: { actions: 'deleteNode' },
    VOLUME_OBJECT: { actions: 'volumeObject' },
    POD_UPSERT: { actions: 'upsertPod' },
    POD_DELETE: { actions: 'deletePod' },
    // Results of the `bindPod` children (spawned as `bind:<namespace>/<name>`).
    'xstate.done.actor.*': {
      guard: 'isBind',
      actions: [
        { type: 'reportScheduled', params: ({ context, event }: { context: SchedulerContext; event: { type: string } }) => bindInput(context.binding[bindKeyOf(event)!]) },
        'bindSucceeded',
        stopChild(({ event }) => event.type.slice('xstate.done.actor.'.length)),
      ],
    },
    // Never left unhandled: an unhandled error event would fail the whole machine.
    'xstate.error.actor.*': {
      actions: ['bindFailed', stopChild(({ event }) => event.type.slice('xstate.error.actor.'.length))],
    },
  },
  states: {
    pipeline: {
      initial: 'idle',
      states: {
        idle: {
          always: { guard: 'canDecide', target: 'scheduling' },
        },
        /** Filter and score for the next queued pod (a transient state); a placed pod is assumed and its bind spawned. */
        scheduling: {
          entry: 'decide',
          always: [
            {
              guard: 'placed',
              target: 'idle',
              actions: [
                spawnChild('bindPod', {
                  id: ({ context }) => bindActorId(context.attempt!.key),
                  input: ({ context }) => bindInput(context.attempt!),
                }),
                'startBind',
              ],
            },
            {
              guard: 'unschedulableNews',
              target: 'idle',
              actions: [
                {
                  type: 'reportUnschedulable',
                  params: ({ context }) => {
                    const a = context.attempt!;
                    return { namespace: a.pod.metadata?.namespace || 'default', name: a.pod.metadata?.name ?? '', uid: a.pod.metadata?.uid, message: a.message! };
                  },
                },
                'park',
              ],
            },
            { guard: 'unschedulable', target: 'idle', actions: 'park' },
            { target: 'idle' },
          ],
        },
      },
    },
    retry: {
      initial: 'quiet',
      states: {
        quiet: {
          always: { guard: 'hasParked', target: 'armed' },
        },
        armed: {
          after: { retryInterval: { target: 'quiet', actions: 'requeueParked' } },
        },
      },
    },
  },
});

export type SchedulerMachine = typeof schedulerMachine;
