/**
 * One HorizontalPodAutoscaler as an XState v5 machine. Every sync period it observes (the
 * target's replica count, its pods and their metrics: an injected promise actor), decides with
 * the pure `decide` (decide.ts), then applies (scale write, status, Events: another injected
 * actor). Stabilization and rate-limit history lives in the context.
 *
 *   Observing --done: decide--> Applying --done/error--> Waiting --after syncPeriod--> Observing
 *   Observing --error--> Waiting           HPA_UPDATED anywhere: new spec (next sync uses it)
 *   SYNC in Waiting → Observing            HPA_DELETED → Deleted (final)
 */
import { assign, fromPromise, setup } from 'xstate';
import { decide, type Decision, type History, type HpaSpec, type Observation } from './decide.js';

/** Kubernetes' defaults: 15 s sync period, 0.1 tolerance, 300 s scale-down stabilization. */
export const DEFAULT_SYNC_PERIOD_MS = 15_000;
export const DEFAULT_TOLERANCE = 0.1;
export const DEFAULT_DOWNSCALE_STABILIZATION_SECONDS = 300;

/** The HPA object, as far as the machine reads it. */
export interface HpaObject {
  metadata?: { name?: string; namespace?: string; generation?: number };
  spec: HpaSpec & { scaleTargetRef: { kind: string; name: string; apiVersion?: string } };
}

export interface HpaInput {
  hpa: HpaObject;
  syncPeriodMs?: number;
  tolerance?: number;
  downscaleStabilizationSeconds?: number;
}
export interface HpaContext {
  hpa: HpaObject;
  syncPeriodMs: number;
  tolerance: number;
  downscaleStabilizationSeconds: number;
  history: History;
  /** The last decision (what status shows). */
  decision?: Decision;
  /** Why the last sync failed, when it did. */
  error?: string;
}
export type HpaMachineEvent = { type: 'HPA_UPDATED'; hpa: HpaObject } | { type: 'HPA_DELETED' } | { type: 'SYNC' };

export interface ApplyInput {
  hpa: HpaObject;
  decision: Decision;
}

export const hpaMachine = setup({
  types: {
    context: {} as HpaContext,
    events: {} as HpaMachineEvent,
    input: {} as HpaInput,
  },
  actors: {
    /** Reads the target's scale, its pods and their metrics. */
    observe: fromPromise<Observation, { hpa: HpaObject }>(async () => {
      throw new Error('observe not provided');
    }),
    /** Writes the target's replicas (when the decision rescales), the status and the Events. */
    apply: fromPromise<void, ApplyInput>(async () => {
      throw new Error('apply not provided');
    }),
  },
  delays: {
    syncPeriod: ({ context }) => context.syncPeriodMs,
  },
}).createMachine({
  id: 'hpa',
  context: ({ input }) => ({
    hpa: input.hpa,
    syncPeriodMs: input.syncPeriodMs ?? DEFAULT_SYNC_PERIOD_MS,
    tolerance: input.tolerance ?? DEFAULT_TOLERANCE,
    downscaleStabilizationSeconds: input.downscaleStabilizationSeconds ?? DEFAULT_DOWNSCALE_STABILIZATION_SECONDS,
    history: { recommendations: [], scaleUpEvents: [], scaleDownEvents: [] },
  }),
  initial: 'Observing',
  on: {
    HPA_UPDATED: { actions: assign({ hpa: ({ event }) => event.hpa }) },
    HPA_DELETED: '.Deleted',
  },
  states: {
    Observing: {
      invoke: {
        id: 'observe',
        src: 'observe',
        input: ({ context }) => ({ hpa: context.hpa }),
        onDone: {
          target: 'Applying',
          actions: assign({
            decision: ({ context, event }) =>
              decide(context.hpa.spec, event.output, context.history, { tolerance: context.tolerance, downscaleStabilizationSeconds: context.downscaleStabilizationSeconds }),
            error: undefined,
          }),
        },
        onError: { target: 'Waiting', actions: assign({ error: ({ event }) => (event.error as Error)?.message ?? String(event.error) }) },
      },
    },
    Applying: {
      invoke: {
        id: 'apply',
        src: 'apply',
        input: ({ context }) => ({ hpa: context.hpa, decision: context.decision! }),
        // The history only counts a rescale once it was written.
        onDone: { target: 'Waiting', actions: assign({ history: ({ context }) => context.decision!.history }) },
        onError: { target: 'Waiting', actions: assign({ error: ({ event }) => (event.error as Error)?.message ?? String(event.error) }) },
      },
    },
    Waiting: {
      after: { syncPeriod: 'Observing' },
      on: { SYNC: 'Observing' },
    },
    Deleted: { type: 'final' },
  },
});
