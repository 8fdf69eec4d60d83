/**
 * Node lifecycle: one actor per Node, in the controller-manager. It watches the node's
 * heartbeat (its Lease renewals) and, like kube-controller-manager's node lifecycle
 * controller with taint-based eviction:
 *   - no renewal for `gracePeriodMs` → the node is Unreachable: Ready=Unknown and the
 *     `node.kubernetes.io/unreachable:NoExecute` taint (injected `markUnreachable`);
 *   - still unreachable after `evictionTolerationMs` → its pods are evicted (injected
 *     `evictPods`), so their controllers replace them on healthy nodes;
 *   - a renewal again → Healthy (injected `markReachable`: the taint goes away; the kubelet
 *     writes Ready=True itself, and stops the evicted pods it still runs).
 * Health is timed on the controller's own clock, as kube's probeTimestamp: a renewal counts
 * when the controller OBSERVES a lease whose renewTime is newer than the last one it saw, and
 * the grace period runs from that observation — never from renewTime itself. A renewal that
 * waited seconds in an overloaded API server, or a kubelet whose clock is behind, is still a
 * sign of life; a renewTime in the future buys no extra time.
 * Pure: time comes in with events (`now`) and through `after` delays; the context is plain
 * data so the actor can be persisted and restored.
 */
import { assign, setup } from 'xstate';

export interface NodeLifecycleInput {
  name: string;
  now: number;
  /** When this controller last observed a renewal, on its own clock (default `now`: first sight). */
  renewedAt?: number;
  /** The renewTime of the last lease observed (the kubelet's clock), if any. */
  leaseRenewTime?: number;
  gracePeriodMs?: number;
  evictionTolerationMs?: number;
}

export interface NodeLifecycleContext {
  name: string;
  lastNow: number;
  /** Controller clock of the last observed renewal (kube's probeTimestamp): the grace period counts from here. */
  renewedAt: number;
  /** renewTime of the last observed lease: only a newer one is a renewal. */
  leaseRenewTime?: number;
  gracePeriodMs: number;
  evictionTolerationMs: number;
  /** When the node was found unreachable (for Events and the condition). */
  unreachableSince?: number;
}

export type NodeLifecycleEvent =
  /**
   * The controller observed the node's Lease at `now` (its clock); `renewTime` is the lease's (ms).
   * Older or equal renewTimes are ignored. `observedAt`: when the controller observed it, if
   * that was before `now` (the host hands a healthy node's renewals over late, see
   * node-lifecycle-host.ts): the grace period runs from then, not from `now`.
   */
  | { type: 'LEASE_RENEWED'; renewTime: number; now: number; observedAt?: number }
  /** Periodic check from the host, carrying the time. */
  | { type: 'TICK'; now: number };

export interface NodeRef {
  name: string;
}

/** A lease counts as a renewal when its renewTime is newer than the last one observed (or it is the first). */
function isNewRenewal(context: NodeLifecycleContext, renewTime: number): boolean {
  return context.leaseRenewTime === undefined || renewTime > context.leaseRenewTime;
}

export const DEFAULT_GRACE_MS = 3000;
export const DEFAULT_EVICTION_TOLERATION_MS = 1000;

export const nodeLifecycleMachine = setup({
  types: {
    input: {} as NodeLifecycleInput,
    context: {} as NodeLifecycleContext,
    events: {} as NodeLifecycleEvent,
  },
  actions: {
    /** Host: Ready=Unknown (NodeStatusUnknown) and the unreachable NoExecute taint; an Event. */
    markUnreachable: (_, _params: NodeRef & { since: number }) => {},
    /** Host: remove the unreachable taint; an Event. */
    markReachable: (_, _params: NodeRef) => {},
    /** Host: evict (gracefully delete) every pod bound to the node. Idempotent. */
    evictPods: (_, _params: NodeRef) => {},
    observe: assign(({ context, event }) => {
      const lastNow = Math.max(context.lastNow, event.now);
      if (event.type !== 'LEASE_RENEWED' || !isNewRenewal(context, event.renewTime)) return { lastNow };
      const observedAt = Math.min(lastNow, event.observedAt ?? lastNow);
      return { lastNow, renewedAt: Math.max(context.renewedAt, observedAt), leaseRenewTime: event.renewTime };
    }),
    noteUnreachable: assign(({ context }) => ({ unreachableSince: context.lastNow })),
    clearUnreachable: assign({ unreachableSince: undefined }),
    /** A delayed transition fired: time has moved on by that delay at least. */
    advanceTo: assign(({ context }, params: { at: number }) => ({ lastNow: Math.max(context.lastNow, params.at) })),
  },
  guards: {
    renewalIsNew: ({ context, event }) => event.type === 'LEASE_RENEWED' && isNewRenewal(context, event.renewTime),
    graceExpired: ({ context, event }) => Math.max(context.lastNow, event.now) - context.renewedAt >= context.gracePeriodMs,
    tolerationExpired: ({ context, event }) => Math.max(context.lastNow, event.now) - (context.unreachableSince ?? context.lastNow) >= context.evictionTolerationMs,
  },
  delays: {
    untilGraceExpires: ({ context }) => Math.max(0, context.renewedAt + context.gracePeriodMs - context.lastNow),
    untilTolerationExpires: ({ context }) => Math.max(0, (context.unreachableSince ?? context.lastNow) + context.evictionTolerationMs - context.lastNow),
  },
}).createMachine({
  id: 'nodeLifecycle',
  context: ({ input }) => ({
    name: input.name,
    lastNow: input.now,
    renewedAt: input.renewedAt ?? input.now,
    leaseRenewTime: input.leaseRenewTime,
    gracePeriodMs: input.gracePeriodMs ?? DEFAULT_GRACE_MS,
    evictionTolerationMs: input.evictionTolerationMs ?? DEFAULT_EVICTION_TOLERATION_MS,
  }),
  initial: 'Healthy',
  states: {
    Healthy: {
      // Re-entering restarts the timer from the latest renewal.
      after: {
        untilGraceExpires: {
          target: 'Unreachable',
          actions: { type: 'advanceTo', params: ({ context }) => ({ at: context.renewedAt + context.gracePeriodMs }) },
        },
      },
      on: {
        LEASE_RENEWED: { guard: 'renewalIsNew', target: 'Healthy', reenter: true, actions: 'observe' },
        TICK: [
          { guard: 'graceExpired', target: 'Unreachable', actions: 'observe' },
          { actions: 'observe' },
        ],
      },
    },
    Unreachable: {
      entry: ['noteUnreachable', { type: 'markUnreachable', params: ({ context }) => ({ name: context.name, since: context.lastNow }) }],
      after: {
        untilTolerationExpires: {
          target: 'Evicted',
          actions: { type: 'advanceTo', params: ({ context }) => ({ at: (context.unreachableSince ?? context.lastNow) + context.evictionTolerationMs }) },
        },
      },
      on: {
        LEASE_RENEWED: [{ guard: 'renewalIsNew', target: 'Recovered', actions: 'observe' }, { actions: 'observe' }],
        TICK: [{ guard: 'tolerationExpired', target: 'Evicted', actions: 'observe' }, { actions: 'observe' }],
      },
    },
    Evicted: {
      entry: { type: 'evictPods', params: ({ context }) => ({ name: context.name }) },
      on: {
        LEASE_RENEWED: [{ guard: 'renewalIsNew', target: 'Recovered', actions: 'observe' }, { actions: 'observe' }],
        // Pods bound to the node later (e.g. by a stale scheduler decision) are evicted too.
        TICK: { actions: ['observe', { type: 'evictPods', params: ({ context }) => ({ name: context.name }) }] },
      },
    },
    Recovered: {
      entry: ['clearUnreachable', { type: 'markReachable', params: ({ context }) => ({ name: context.name }) }],
      always: 'Healthy',
    },
  },
});
