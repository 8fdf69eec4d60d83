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
import { addPod, nodeInfoOf, removePod, setNode, type GroupTotals, type NodeInfo } from './node-info.js';
import { scheduleOnNodes } from './scoring.js';

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
/** What the host's watches feed the machine. */
export type WatchFedEvent = NodeUpsertEvent | NodeDeleteEvent | PodUpsertEvent | PodDeleteEvent | VolumeObjectEvent;
/**
 * Several watch events at once, applied in order in one step (one macrostep of the machine
 * instead of one per event); decisions follow on the state after all of them.
 */
export type BatchEvent = { type: 'BATCH'; events: readonly WatchFedEvent[] };
export type SchedulerEvent = WatchFedEvent | BatchEvent;

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
  /**
   * Per node name (kube-scheduler's NodeInfo): the node, the `placed` pods on it and their running
   * totals, so a decision reads each node in O(1). A name stays while its node exists or pods name it.
   */
  byNode: Map<string, NodeInfo>;
  /** Pods per workload group over all of `byNode` (see node-info.ts). */
  groupTotals: GroupTotals;
  /** The NodeInfos of the existing nodes, in `nodes` order; undefined after a node came or went (rebuilt by the next decision). */
  nodeList: NodeInfo[] | undefined;
  /** Latest version of each pod waiting for a node; each key is queued, parked or in `binding`. */
  pending: Record<string, Pod>;
  /** Keys of `pending` pods with a non-zero `spec.priority`: while there are none the queue is plain FIFO. */
  prioritized: Set<string>;
  /** Keys to try next, in arrival order (kube-scheduler's activeQ). */
  queue: Set<string>;
  /** Keys waiting for a cluster change or the retry timer (unschedulableQ). */
  parked: Record<string, ParkReason>;
  /** Last FailedScheduling message reported per pod, so the same one is not reported twice. */
  reported: Record<string, string>;
  /** Binds in flight by pod key; each has a `bindPod` child `bind:<key>` and an assumed entry in `placed`. */
  binding: Map<string, Binding>;
  /** Where the next decision starts filtering nodes (kube-scheduler's nextStartNodeIndex). */
  nextStartNodeIndex: number;
  attempt: Attempt | undefined;
}

// ---------------------------------------------------------------------------------------
// Context bookkeeping. The records, maps and sets of the context are updated in place: a
// copy per pod event is quadratic in the pod count (kube-scheduler's cache is mutable too).
// Each helper keeps the indexes (`byNode`, `prioritized`) in step with what they index.

function isEmpty(record: Record<string, unknown>): boolean {
  for (const _ in record) return false;
  return true;
}

function setPending(ctx: SchedulerContext, key: string, pod: Pod): void {
  ctx.pending[key] = pod;
  if (pod.spec?.priority) ctx.prioritized.add(key);
  else ctx.prioritized.delete(key);
}

/** Records where a pod is (or is assumed); terminated pods hold nothing and are forgotten. */
function place(ctx: SchedulerContext, key: string, info: PodInfo): void {
  unplace(ctx, key);
  if (isTerminal(info.phase)) return;
  ctx.placed[key] = info;
  if (info.nodeName) addPod(nodeInfoOf(ctx.byNode, info.nodeName), key, info, ctx.groupTotals);
}

/** Forgets where a pod is; true when it was placed. */
function unplace(ctx: SchedulerContext, key: string): boolean {
  const info = ctx.placed[key];
  if (!info) return false;
  delete ctx.placed[key];
  const onNode = info.nodeName ? ctx.byNode.get(info.nodeName) : undefined;
  if (onNode) {
    removePod(onNode, key, ctx.groupTotals);
    if (onNode.pods.size === 0 && !onNode.node) ctx.byNode.delete(onNode.name);
  }
  return true;
}

function upsertNode(ctx: SchedulerContext, node: Node): boolean {
  const name = node.metadata?.name ?? '';
  const before = ctx.nodes[name];
  const news = nodeSchedulingView(before) !== nodeSchedulingView(node);
  if (!before) ctx.nodeList = undefined;
  ctx.nodes[name] = node;
  setNode(nodeInfoOf(ctx.byNode, name), node);
  return news;
}

function deleteNode(ctx: SchedulerContext, name: string): void {
  if (!(name in ctx.nodes)) return;
  delete ctx.nodes[name];
  ctx.nodeList = undefined;
  const info = ctx.byNode.get(name);
  if (!info) return;
  setNode(info, undefined);
  if (info.pods.size === 0) ctx.byNode.delete(name);
}

/** The existing nodes' NodeInfos in `nodes` order (the order the rotating start walks). */
function nodeList(ctx: SchedulerContext): NodeInfo[] {
  return (ctx.nodeList ??= Object.keys(ctx.nodes).map((name) => ctx.byNode.get(name)!));
}

/** Moves every parked pod back to the queue (moveAllToActiveOrBackoffQueue). */
function unpark(ctx: SchedulerContext): void {
  for (const key in ctx.parked) {
    ctx.queue.add(key);
    delete ctx.parked[key];
  }
}

/** Forgets a pending pod wherever it waits. */
function dropPending(ctx: SchedulerContext, key: string): void {
  delete ctx.pending[key];
  ctx.prioritized.delete(key);
  ctx.queue.delete(key);
  delete ctx.parked[key];
  delete ctx.reported[key];
}

/** Fields that decide where a node may take pods; heartbeats that change none of them are no news. */
function nodeSchedulingView(node: Node | undefined): string {
  if (!node) return '';
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status;
  return JSON.stringify([node.metadata?.labels, node.spec?.unschedulable, node.spec?.taints, node.status?.allocatable, node.status?.capacity, ready]);
}

function applyPodUpsert(ctx: SchedulerContext, pod: Pod): void {
  const key = keyOf(pod);
  const uid = pod.metadata?.uid;
  if (pod.spec?.nodeName) {
    // Bound (by us or anyone): it holds capacity until it terminates or is deleted.
    const before = ctx.placed[key];
    const info = podInfo(pod);
    // Most events of a bound pod are status updates that change nothing the scheduler counts.
    if (before && !before.assumed && samePlacement(before, info) && !(key in ctx.pending) && !(key in ctx.reported)) return;
    dropPending(ctx, key);
    place(ctx, key, info);
    if (before && isTerminal(info.phase)) unpark(ctx); // its capacity is free
    return;
  }
  const inFlight = ctx.binding.get(key);
  if (inFlight) {
    // The bind's result decides what comes next; meanwhile remember the newest version (no second bind).
    const prior = ctx.placed[key];
    if (prior && !prior.assumed && prior.uid === uid) return; // a stale version after the bound one
    if (inFlight.pod.metadata?.uid === uid && needsScheduling(pod)) return setPending(ctx, key, pod);
    // Recreated under the same name, or no longer to be scheduled: the assumption goes.
    const dropAssumed = prior?.assumed === true && unplace(ctx, key);
    if (needsScheduling(pod)) setPending(ctx, key, pod);
    else dropPending(ctx, key);
    if (dropAssumed) unpark(ctx);
    return;
  }
  const assumed = ctx.placed[key];
  if (assumed?.assumed && assumed.uid === uid) return; // a stale, pre-bind version of a pod we bound
  if (assumed && assumed.uid !== uid) unplace(ctx, key); // recreated under the same name
  if (!needsScheduling(pod)) return dropPending(ctx, key);
  const previous = ctx.pending[key];
  setPending(ctx, key, pod);
  if (ctx.queue.has(key)) return;
  const parked = ctx.parked[key];
  if (parked) {
    const specChanged = JSON.stringify(previous?.spec) !== JSON.stringify(pod.spec);
    if (parked === 'unschedulable' && !specChanged) return;
    delete ctx.parked[key];
  }
  ctx.queue.add(key);
}

function samePlacement(a: PodInfo, b: PodInfo): boolean {
  return (
    a.uid === b.uid &&
    a.nodeName === b.nodeName &&
    a.phase === b.phase &&
    a.requests.cpu === b.requests.cpu &&
    a.requests.memory === b.requests.memory &&
    a.scoreRequests.cpu === b.scoreRequests.cpu &&
    a.scoreRequests.memory === b.scoreRequests.memory &&
    sameLabels(a.labels, b.labels) &&
    a.ownerUids.length === b.ownerUids.length &&
    a.ownerUids.every((uid, i) => b.ownerUids[i] === uid)
  );
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  let n = 0;
  for (const k in a) {
    if (b[k] !== a[k]) return false;
    n++;
  }
  for (const _ in b) n--;
  return n === 0;
}

/** The next key to decide for: the highest `spec.priority`, then first in (plain FIFO while no pending pod has a priority). */
function nextKey(ctx: SchedulerContext): string | undefined {
  if (ctx.prioritized.size === 0) return ctx.queue.values().next().value;
  let best: string | undefined;
  let bestPriority = -Infinity;
  for (const k of ctx.queue) {
    const priority = ctx.pending[k]?.spec?.priority ?? 0;
    if (priority > bestPriority) [best, bestPriority] = [k, priority];
  }
  return best;
}

/** Takes the next key off the queue and decides for it. */
function decide(ctx: SchedulerContext): Partial<SchedulerContext> {
  const key = nextKey(ctx);
  if (key === undefined) return { attempt: undefined };
  ctx.queue.delete(key);
  const pod = ctx.pending[key];
  if (!pod || ctx.binding.has(key)) return { attempt: undefined };
  const nodes = nodeList(ctx);
  const stats = { evaluated: 0 };
  const placed = ctx.placed[key];
  const self = placed?.nodeName ? { node: ctx.byNode.get(placed.nodeName)!, info: placed } : undefined;
  const result = scheduleOnNodes(pod, nodes, ctx.groupTotals, self, ctx.volumes, { start: ctx.nextStartNodeIndex, stats });
  const nextStartNodeIndex = nodes.length ? (ctx.nextStartNodeIndex + stats.evaluated) % nodes.length : 0;
  return { nextStartNodeIndex, attempt: 'nodeName' in result ? { key, pod, nodeName: result.nodeName } : { key, pod, message: result.unschedulable } };
}

function applyWatchEvent(ctx: SchedulerContext, event: WatchFedEvent): void {
  switch (event.type) {
    case 'NODE_UPSERT':
      if (upsertNode(ctx, event.node)) unpark(ctx);
      return;
    case 'NODE_DELETE':
      deleteNode(ctx, event.name);
      return unpark(ctx);
    case 'POD_UPSERT':
      return applyPodUpsert(ctx, event.pod);
    case 'POD_DELETE': {
      const key = podKey(event.namespace, event.name);
      dropPending(ctx, key);
      unplace(ctx, key);
      return unpark(ctx);
    }
    case 'VOLUME_OBJECT':
      // A claim bound, a volume or class changed: parked pods may fit now.
      applyVolumeObject(ctx.volumes, event.object, event.deleted === true);
      return unpark(ctx);
  }
}

function applyVolumeObject(v: VolumeSnapshot, obj: KubeObject, deleted: boolean): void {
  const name = obj.metadata?.name ?? '';
  const field = obj.kind === 'PersistentVolumeClaim' ? 'claims' : obj.kind === 'PersistentVolume' ? 'volumes' : obj.kind === 'StorageClass' ? 'classes' : undefined;
  if (!field) return;
  const key = field === 'claims' ? podKey(obj.metadata?.namespace, name) : name;
  if (deleted) delete v[field][key];
  else v[field][key] = obj;
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
  place(ctx, a.key, { ...podInfo(a.pod), nodeName: a.nodeName, assumed: true });
  ctx.binding.set(a.key, { pod: a.pod, nodeName: a.nodeName! });
  return { attempt: undefined };
}

/** Bind succeeded: the pod stays assumed on its node until its bound version comes back. */
function bindSucceeded(ctx: SchedulerContext, key: string): void {
  const b = ctx.binding.get(key);
  if (!b) return;
  ctx.binding.delete(key);
  const current = ctx.pending[key];
  if (!current) return; // already seen bound, deleted, or no longer to be scheduled
  if (current.metadata?.uid !== b.pod.metadata?.uid) return void ctx.queue.add(key); // recreated
  if (!ctx.placed[key]) place(ctx, key, { ...podInfo(current), nodeName: b.nodeName, assumed: true });
  dropPending(ctx, key);
}

/**
 * Bind failed: the assumption is forgotten (its capacity freed, so parked pods are retried),
 * then: retried at once if the pod changed meanwhile, forgotten if gone (NotFound), else parked.
 */
function bindFailed(ctx: SchedulerContext, key: string, error: unknown): void {
  const b = ctx.binding.get(key);
  if (!b) return;
  ctx.binding.delete(key);
  const prior = ctx.placed[key];
  if (prior?.assumed && prior.uid === b.pod.metadata?.uid) {
    unplace(ctx, key);
    unpark(ctx);
  }
  const current = ctx.pending[key];
  if (!current) return;
  if (current.metadata?.resourceVersion !== b.pod.metadata?.resourceVersion || current.metadata?.uid !== b.pod.metadata?.uid) return void ctx.queue.add(key);
  if (errorReason(error) === 'NotFound') return dropPending(ctx, key);
  ctx.parked[key] = 'bindFailed';
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
    /** NODE_UPSERT / NODE_DELETE / POD_UPSERT / POD_DELETE / VOLUME_OBJECT. */
    applyWatchEvent: assign(({ context, event }) => {
      applyWatchEvent(context, event as WatchFedEvent);
      return {};
    }),
    applyBatch: assign(({ context, event }) => {
      for (const e of (event as BatchEvent).events) applyWatchEvent(context, e);
      return {};
    }),
    requeueParked: assign(({ context }) => {
      unpark(context);
      return {};
    }),
    decide: assign(({ context }) => decide(context)),
    park: assign(({ context }) => {
      const a = context.attempt!;
      context.parked[a.key] = 'unschedulable';
      context.reported[a.key] = a.message!;
      return { attempt: undefined };
    }),
    /** The decided pod is assumed on its node now, while its bind runs. */
    startBind: assign(({ context }) => startBind(context)),
    bindSucceeded: assign(({ context, event }) => {
      bindSucceeded(context, bindKeyOf(event) ?? '');
      return {};
    }),
    bindFailed: assign(({ context, event }) => {
      bindFailed(context, bindKeyOf(event) ?? '', (event as { error?: unknown }).error);
      return {};
    }),
  },
  guards: {
    /** A pod is queued and a bind slot is free. */
    canDecide: ({ context }) => context.queue.size > 0 && context.binding.size < context.maxInFlightBinds,
    isBind: ({ context, event }) => {
      const key = bindKeyOf(event);
      return key !== undefined && context.binding.has(key);
    },
    hasParked: ({ context }) => !isEmpty(context.parked),
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
    byNode: new Map(),
    nodeList: undefined,
    groupTotals: new Map(),
    pending: {},
    prioritized: new Set(),
    queue: new Set(),
    parked: {},
    reported: {},
    binding: new Map(),
    nextStartNodeIndex: 0,
    attempt: undefined,
  }),
  on: {
    NODE_UPSERT: { actions: 'applyWatchEvent' },
    NODE_DELETE: { actions: 'applyWatchEvent' },
    VOLUME_OBJECT: { actions: 'applyWatchEvent' },
    POD_UPSERT: { actions: 'applyWatchEvent' },
    POD_DELETE: { actions: 'applyWatchEvent' },
    BATCH: { actions: 'applyBatch' },
    // Results of the `bindPod` children (spawned as `bind:<namespace>/<name>`).
    'xstate.done.actor.*': {
      guard: 'isBind',
      actions: [
        { type: 'reportScheduled', params: ({ context, event }: { context: SchedulerContext; event: { type: string } }) => bindInput(context.binding.get(bindKeyOf(event)!)!) },
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
