/**
 * The scheduler as an XState v5 machine. It holds a cache of nodes and of pods placed on
 * them (including "assumed" pods it bound but has not seen back yet), a queue of pods
 * waiting for a node and a set of parked (unschedulable) pods. It does no I/O: binding is
 * the injected long-lived `binder` actor, reporting the injected `reportScheduled` /
 * `reportUnschedulable` actions. The decision itself is `scheduleOnNodes` (scoring.ts).
 *
 * Like kube-scheduler, the scheduling cycle never waits for a bind: a pod placed on a node is
 * assumed there at once (later decisions count it) and its bind runs in the background, up to
 * `maxInFlightBinds` at a time. The binds decided in one step go to the binder as ONE `BIND`
 * event; the binder answers with `BIND_RESULTS` events (one per batch it sent), each applied
 * in one step — no actor and no event per pod.
 *
 * Two parallel regions:
 *   pipeline: idle   (while pods are queued and bind slots are free, decide them all in one step)
 *   retry:    quiet → armed --after retryInterval--> quiet (requeues parked pods)
 */
import { assign, enqueueActions, fromCallback, setup } from 'xstate';
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

/** The binds decided in one step, for the binder actor (id `binder`). */
export type BindEvent = { type: 'BIND'; binds: BindPodInput[] };
/** How one bind ended: `error` set when it failed (an ApiError; `reason: 'NotFound'` forgets the pod). */
export interface BindResult extends BindPodInput {
  error?: unknown;
}
/**
 * The binder's answer for binds it sent (any number, in any grouping; one per `bindMany` reply
 * in the host). A result that matches no bind in flight (same key, uid and node) is ignored.
 */
export type BindResultsEvent = { type: 'BIND_RESULTS'; results: readonly BindResult[] };

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
export type SchedulerEvent = WatchFedEvent | BatchEvent | BindResultsEvent;

export interface SchedulerInput {
  retryIntervalMs?: number;
  /** At most this many binds run at once (default 64, at least 1). */
  maxInFlightBinds?: number;
}

/** Why a pending pod is parked: it fits nowhere, or its bind failed (retried on any news of it). */
export type ParkReason = 'unschedulable' | 'bindFailed';

/** A bind in flight: the version of the pod it was decided for, and the node. */
export interface Binding {
  pod: Pod;
  nodeName: string;
}

/** What the last step produced for the outside world: drained into actions by `flushOutbox` in the same step. */
export interface Outbox {
  binds: BindPodInput[];
  scheduled: ScheduledReport[];
  unschedulable: UnschedulableReport[];
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
  /** Binds in flight by pod key (sent to the binder, no result yet); each has an assumed entry in `placed`. */
  binding: Map<string, Binding>;
  /** Where the next decision starts filtering nodes (kube-scheduler's nextStartNodeIndex). */
  nextStartNodeIndex: number;
  /** Decisions taken so far (kube-scheduler's schedule_attempts_total, all results). */
  attempts: number;
  outbox: Outbox;
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

function canDecide(ctx: SchedulerContext): boolean {
  return ctx.queue.size > 0 && ctx.binding.size < ctx.maxInFlightBinds;
}

/**
 * Decides for queued pods while bind slots are free, all in one step: a pod that fits is
 * assumed on its node and its bind goes to the outbox; one that fits nowhere is parked (and
 * reported when its message is news).
 */
function scheduleQueued(ctx: SchedulerContext): void {
  ctx.outbox = emptyOutbox();
  while (canDecide(ctx)) {
    const key = nextKey(ctx)!;
    ctx.queue.delete(key);
    const pod = ctx.pending[key];
    if (!pod || ctx.binding.has(key)) continue;
    ctx.attempts++;
    const nodes = nodeList(ctx);
    const stats = { evaluated: 0 };
    const placed = ctx.placed[key];
    const self = placed?.nodeName ? { node: ctx.byNode.get(placed.nodeName)!, info: placed } : undefined;
    const result = scheduleOnNodes(pod, nodes, ctx.groupTotals, self, ctx.volumes, { start: ctx.nextStartNodeIndex, stats });
    ctx.nextStartNodeIndex = nodes.length ? (ctx.nextStartNodeIndex + stats.evaluated) % nodes.length : 0;
    if ('nodeName' in result) startBind(ctx, key, pod, result.nodeName);
    else park(ctx, key, pod, result.unschedulable);
  }
}

/** Assumes the decided pod on its node and records its bind as in flight. */
function startBind(ctx: SchedulerContext, key: string, pod: Pod, nodeName: string): void {
  place(ctx, key, { ...podInfo(pod), nodeName, assumed: true });
  ctx.binding.set(key, { pod, nodeName });
  ctx.outbox.binds.push(bindInput(pod, nodeName));
}

/** Parks a pod that fits nowhere; the message is reported once (not again while it stays the same). */
function park(ctx: SchedulerContext, key: string, pod: Pod, message: string): void {
  ctx.parked[key] = 'unschedulable';
  if (ctx.reported[key] === message) return;
  ctx.reported[key] = message;
  ctx.outbox.unschedulable.push({ namespace: pod.metadata?.namespace || 'default', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid, message });
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

function bindInput(pod: Pod, nodeName: string): BindPodInput {
  return { namespace: pod.metadata?.namespace || 'default', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid, nodeName };
}

function emptyOutbox(): Outbox {
  return { binds: [], scheduled: [], unschedulable: [] };
}

/**
 * Applies a batch of bind results in order. A result counts only for the bind in flight it
 * answers (same key, uid and node): a late, repeated or foreign one changes nothing.
 * Failed binds free their assumed capacity, which sends the parked pods back to the queue
 * once — but not the pods whose binds failed in this same batch (a failed request fails all
 * its binds; they are parked, not retried by each other in a loop).
 */
function applyBindResults(ctx: SchedulerContext, results: readonly BindResult[]): void {
  ctx.outbox = emptyOutbox();
  const failed: { key: string; binding: Binding; error: unknown }[] = [];
  let freed = false;
  for (const r of results) {
    const key = podKey(r.namespace, r.name);
    const b = ctx.binding.get(key);
    if (!b || b.nodeName !== r.nodeName || b.pod.metadata?.uid !== r.uid) continue;
    ctx.binding.delete(key);
    if (r.error === undefined) {
      ctx.outbox.scheduled.push(bindInput(b.pod, b.nodeName));
      bindSucceeded(ctx, key, b);
    } else {
      freed = forgetAssumption(ctx, key, b) || freed;
      failed.push({ key, binding: b, error: r.error });
    }
  }
  if (freed) unpark(ctx);
  for (const f of failed) bindFailed(ctx, f.key, f.binding, f.error);
}

/** Bind succeeded: the pod stays assumed on its node until its bound version comes back. */
function bindSucceeded(ctx: SchedulerContext, key: string, b: Binding): void {
  const current = ctx.pending[key];
  if (!current) return; // already seen bound, deleted, or no longer to be scheduled
  if (current.metadata?.uid !== b.pod.metadata?.uid) return void ctx.queue.add(key); // recreated
  if (!ctx.placed[key]) place(ctx, key, { ...podInfo(current), nodeName: b.nodeName, assumed: true });
  dropPending(ctx, key);
}

/** A failed bind's assumption goes (kube-scheduler's ForgetPod); true when it held capacity. */
function forgetAssumption(ctx: SchedulerContext, key: string, b: Binding): boolean {
  const prior = ctx.placed[key];
  return prior?.assumed === true && prior.uid === b.pod.metadata?.uid && unplace(ctx, key);
}

/** After a failed bind: retried at once if the pod changed meanwhile, forgotten if gone (NotFound), else parked. */
function bindFailed(ctx: SchedulerContext, key: string, b: Binding, error: unknown): void {
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

const schedulerSetup = setup({
  types: {
    context: {} as SchedulerContext,
    events: {} as SchedulerEvent,
    input: {} as SchedulerInput,
  },
  actors: {
    /**
     * Provided by the host: receives `BIND {binds}`, writes each binding (spec.nodeName, with a
     * uid precondition) and sends back `BIND_RESULTS` with every bind's outcome.
     */
    binder: fromCallback<BindEvent>(() => {
      throw new Error('binder not provided');
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
    applyBindResults: assign(({ context, event }) => {
      applyBindResults(context, (event as BindResultsEvent).results);
      return {};
    }),
    requeueParked: assign(({ context }) => {
      unpark(context);
      return {};
    }),
    scheduleQueued: assign(({ context }) => {
      scheduleQueued(context);
      return {};
    }),
  },
  guards: {
    /** A pod is queued and a bind slot is free. */
    canDecide: ({ context }) => canDecide(context),
    hasParked: ({ context }) => !isEmpty(context.parked),
  },
  delays: {
    retryInterval: ({ context }) => context.retryIntervalMs,
  },
});

/** The outbox of the step as actions: reports, then one BIND for the binder. */
const flushOutbox = schedulerSetup.enqueueActions(({ context: { outbox }, enqueue }) => {
  for (const params of outbox.scheduled) enqueue({ type: 'reportScheduled', params });
  for (const params of outbox.unschedulable) enqueue({ type: 'reportUnschedulable', params });
  if (outbox.binds.length) enqueue.sendTo('binder', { type: 'BIND', binds: outbox.binds } satisfies BindEvent);
});

export const schedulerMachine = schedulerSetup.createMachine({
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
    attempts: 0,
    outbox: emptyOutbox(),
  }),
  invoke: { id: 'binder', src: 'binder' },
  on: {
    NODE_UPSERT: { actions: 'applyWatchEvent' },
    NODE_DELETE: { actions: 'applyWatchEvent' },
    VOLUME_OBJECT: { actions: 'applyWatchEvent' },
    POD_UPSERT: { actions: 'applyWatchEvent' },
    POD_DELETE: { actions: 'applyWatchEvent' },
    BATCH: { actions: 'applyBatch' },
    BIND_RESULTS: { actions: ['applyBindResults', flushOutbox] },
  },
  states: {
    pipeline: {
      initial: 'idle',
      states: {
        /** After any event, the queued pods are decided in the same step (as many as bind slots allow). */
        idle: {
          always: { guard: 'canDecide', actions: ['scheduleQueued', flushOutbox] },
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
