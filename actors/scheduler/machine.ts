/**
 * The scheduler as an XState v5 machine. It holds a cache of nodes and of pods placed on
 * them (including "assumed" pods it bound but has not seen back yet), a queue of pods
 * waiting for a node and a set of parked (unschedulable) pods. It does no I/O: binding
 * is the injected `bindPod` actor, reporting the injected `reportScheduled` /
 * `reportUnschedulable` actions. The decision itself is `schedulePod` (scoring.ts).
 *
 * Two parallel regions:
 *   pipeline: idle → scheduling → binding → idle   (one pod at a time)
 *   retry:    quiet → armed --after retryInterval--> quiet (requeues parked pods)
 */
import { assign, fromPromise, setup } from 'xstate';
import type { Node, Pod } from '../../protocol/objects.js';
import { isTerminal, keyOf, needsScheduling, podInfo, podKey, type PodInfo } from './predicates.js';
import { schedulePod } from './scoring.js';

export const DEFAULT_RETRY_INTERVAL_MS = 5000;

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
export type SchedulerEvent = NodeUpsertEvent | NodeDeleteEvent | PodUpsertEvent | PodDeleteEvent;

export interface SchedulerInput {
  retryIntervalMs?: number;
}

/** Why a pending pod is parked: it fits nowhere, or its bind failed (retried on any news of it). */
export type ParkReason = 'unschedulable' | 'bindFailed';

/** The pod being decided and bound right now. */
export interface Attempt {
  key: string;
  pod: Pod;
  nodeName?: string;
  message?: string;
}

export interface SchedulerContext {
  retryIntervalMs: number;
  nodes: Record<string, Node>;
  /** Pods holding a node: seen bound in the API, or assumed after our own bind. */
  placed: Record<string, PodInfo>;
  /** Latest version of each pod waiting for a node; each key is queued, parked or `attempt`. */
  pending: Record<string, Pod>;
  /** Keys to try next (kube-scheduler's activeQ). */
  queue: string[];
  /** Keys waiting for a cluster change or the retry timer (unschedulableQ). */
  parked: Record<string, ParkReason>;
  /** Last FailedScheduling message reported per pod, so the same one is not reported twice. */
  reported: Record<string, string>;
  attempt: Attempt | undefined;
}

// ---------------------------------------------------------------------------------------
// Context bookkeeping (pure helpers)

function without<T>(record: Record<string, T>, key: string): Record<string, T> {
  if (!(key in record)) return record;
  const { [key]: _, ...rest } = record;
  return rest;
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
    const placed = isTerminal(info.phase) ? without(ctx.placed, key) : { ...ctx.placed, [key]: info };
    const next: Partial<SchedulerContext> = { ...dropPending(ctx, key), placed };
    const freed = before && !isTerminal(before.phase) && isTerminal(info.phase);
    return freed ? { ...next, ...unpark({ ...ctx, ...next }) } : next;
  }
  const assumed = ctx.placed[key];
  if (assumed?.assumed && assumed.uid === uid) return {}; // a stale, pre-bind version of a pod we bound
  const placed = assumed && assumed.uid !== uid ? without(ctx.placed, key) : ctx.placed; // recreated under the same name
  if (!needsScheduling(pod)) return { ...dropPending(ctx, key), placed };
  const pending = { ...ctx.pending, [key]: pod };
  if (ctx.attempt?.key === key || ctx.queue.includes(key)) return { pending, placed };
  const parked = ctx.parked[key];
  if (parked) {
    const specChanged = JSON.stringify(ctx.pending[key]?.spec) !== JSON.stringify(pod.spec);
    if (parked === 'unschedulable' && !specChanged) return { pending, placed };
    return { pending, placed, parked: without(ctx.parked, key), queue: [...ctx.queue, key] };
  }
  return { pending, placed, queue: [...ctx.queue, key] };
}

/** Takes the next key (highest `spec.priority`, then first in) and decides for it. */
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
  if (!pod) return { queue, attempt: undefined };
  const podsByNode = new Map<string, PodInfo[]>();
  for (const p of Object.values(ctx.placed)) {
    if (!p.nodeName) continue;
    const list = podsByNode.get(p.nodeName);
    if (list) list.push(p);
    else podsByNode.set(p.nodeName, [p]);
  }
  const result = schedulePod(pod, Object.values(ctx.nodes), podsByNode);
  return { queue, attempt: 'nodeName' in result ? { key, pod, nodeName: result.nodeName } : { key, pod, message: result.unschedulable } };
}

function bindInput(a: Attempt): BindPodInput {
  return { namespace: a.pod.metadata?.namespace || 'default', name: a.pod.metadata?.name ?? '', uid: a.pod.metadata?.uid, nodeName: a.nodeName ?? '' };
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
    decide: assign(({ context }) => decide(context)),
    park: assign(({ context }) => {
      const a = context.attempt!;
      return {
        parked: { ...context.parked, [a.key]: 'unschedulable' as const },
        reported: { ...context.reported, [a.key]: a.message! },
        attempt: undefined,
      };
    }),
    /** Bind succeeded: the pod now holds its node in our cache until its bound version comes back. */
    assume: assign(({ context }) => {
      const a = context.attempt!;
      const current = context.pending[a.key];
      if (context.placed[a.key] || !current) return { attempt: undefined }; // already seen bound, or deleted meanwhile
      if (current.metadata?.uid !== a.pod.metadata?.uid) return { attempt: undefined, queue: [...context.queue, a.key] }; // recreated
      const info: PodInfo = { ...podInfo(current), nodeName: a.nodeName, assumed: true };
      return { ...dropPending(context, a.key), placed: { ...context.placed, [a.key]: info }, attempt: undefined };
    }),
    /** Bind failed: retry at once if the pod changed meanwhile, forget it if gone, else park it. */
    bindFailed: assign(({ context, event }) => {
      const a = context.attempt!;
      const current = context.pending[a.key];
      if (!current) return { attempt: undefined };
      if (current.metadata?.resourceVersion !== a.pod.metadata?.resourceVersion || current.metadata?.uid !== a.pod.metadata?.uid)
        return { attempt: undefined, queue: [...context.queue, a.key] };
      if (errorReason((event as { error?: unknown }).error) === 'NotFound') return { ...dropPending(context, a.key), attempt: undefined };
      return { attempt: undefined, parked: { ...context.parked, [a.key]: 'bindFailed' as const } };
    }),
  },
  guards: {
    hasQueued: ({ context }) => context.queue.length > 0,
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
    nodes: {},
    placed: {},
    pending: {},
    queue: [],
    parked: {},
    reported: {},
    attempt: undefined,
  }),
  on: {
    NODE_UPSERT: { actions: 'upsertNode' },
    NODE_DELETE: { actions: 'deleteNode' },
    POD_UPSERT: { actions: 'upsertPod' },
    POD_DELETE: { actions: 'deletePod' },
  },
  states: {
    pipeline: {
      initial: 'idle',
      states: {
        idle: {
          always: { guard: 'hasQueued', target: 'scheduling' },
        },
        /** Filter and score for the next queued pod (a transient state). */
        scheduling: {
          entry: 'decide',
          always: [
            { guard: 'placed', target: 'binding' },
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
        binding: {
          invoke: {
            src: 'bindPod',
            input: ({ context }) => bindInput(context.attempt!),
            onDone: {
              target: 'idle',
              actions: [{ type: 'reportScheduled', params: ({ context }) => bindInput(context.attempt!) }, 'assume'],
            },
            onError: { target: 'idle', actions: 'bindFailed' },
          },
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
