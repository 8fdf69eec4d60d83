/**
 * Container probes, as the kubelet's prober worker runs them: one `probeMachine` per probe of
 * a running container instance, invoked by the container machine (startup while starting,
 * readiness and liveness once started), stopped with the state that invoked it.
 *
 * Pure: the worker only keeps time (XState delays, so a SimulatedClock drives it) and counts
 * results. To probe it asks its parent container (`PROBE_REQUEST`), which asks the pod, which
 * runs the host-provided `runProbe` actor and answers with `PROBE_DONE` (through the
 * container). The worker tells the container about every failure (`PROBE_FAILED`, for the
 * `Unhealthy` Event) and about the result once a threshold is crossed (`PROBE_RESULT`,
 * like the kubelet's results manager: only changes).
 *
 * Timing (kubelet): nothing until `initialDelaySeconds` after the worker starts (after the
 * container started; for readiness/liveness after the startup probe passed, as documented);
 * then one probe right away and one every `periodSeconds` from the start of the previous one.
 * A period that ends while a probe is still in flight is kept (Go's ticker buffers one tick):
 * the next probe starts as soon as that one answers. Timeouts (`timeoutSeconds`) are the
 * host's: `runProbe` must settle within them.
 */
import { and, assign, enqueueActions, raise, sendParent, setup } from 'xstate';
import type { Probe, ProbeConfig, ProbeKind } from './types.js';

/** The kubelet's defaults for probe fields. */
export const PROBE_DEFAULTS = { initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 } as const;

/** A probe spec with its defaults applied (successThreshold is always 1 for liveness and startup). */
export function probeConfig(spec: Probe, kind: ProbeKind): ProbeConfig {
  const positive = (v: number | undefined, dflt: number) => (typeof v === 'number' && Number.isFinite(v) && v >= 1 ? Math.floor(v) : dflt);
  const delay = spec.initialDelaySeconds;
  const config: ProbeConfig = {
    spec,
    initialDelayMs: (typeof delay === 'number' && delay > 0 ? Math.floor(delay) : PROBE_DEFAULTS.initialDelaySeconds) * 1000,
    periodMs: positive(spec.periodSeconds, PROBE_DEFAULTS.periodSeconds) * 1000,
    timeoutMs: positive(spec.timeoutSeconds, PROBE_DEFAULTS.timeoutSeconds) * 1000,
    successThreshold: kind === 'readiness' ? positive(spec.successThreshold, PROBE_DEFAULTS.successThreshold) : 1,
    failureThreshold: positive(spec.failureThreshold, PROBE_DEFAULTS.failureThreshold),
  };
  if (kind !== 'readiness' && typeof spec.terminationGracePeriodSeconds === 'number' && spec.terminationGracePeriodSeconds >= 0) {
    config.terminationGraceMs = spec.terminationGracePeriodSeconds * 1000;
  }
  return config;
}

/** The probes a container spec declares, configured. */
export function containerProbes(container: { startupProbe?: Probe; readinessProbe?: Probe; livenessProbe?: Probe } | undefined): Partial<Record<ProbeKind, ProbeConfig>> {
  const out: Partial<Record<ProbeKind, ProbeConfig>> = {};
  if (container?.startupProbe) out.startup = probeConfig(container.startupProbe, 'startup');
  if (container?.readinessProbe) out.readiness = probeConfig(container.readinessProbe, 'readiness');
  if (container?.livenessProbe) out.liveness = probeConfig(container.livenessProbe, 'liveness');
  return out;
}

/** `Readiness`, `Liveness`, `Startup`: the kubelet's words in Event messages. */
export function probeLabel(kind: ProbeKind): string {
  return kind[0].toUpperCase() + kind.slice(1);
}

/** The id under which a container invokes the worker of one of its probes. */
export const probeWorkerId = (kind: ProbeKind) => `probe:${kind}`;

export type ProbeResult = 'Success' | 'Failure';

export interface ProbeWorkerInput {
  probe: ProbeKind;
  config: ProbeConfig;
}

interface ProbeWorkerContext extends ProbeWorkerInput {
  /** Number of the probe in flight (or of the last one); answers about another are ignored. */
  seq: number;
  /** The last outcome and how many times in a row it came (kubelet's lastResult / resultRun). */
  last?: ProbeResult;
  run: number;
  /** The result last reported to the container (only changes are reported). */
  reported?: ProbeResult;
  /** A period ended while a probe was in flight: probe again as soon as it answers. */
  tickPending: boolean;
}

/** Sent by the container (from the pod): the outcome of probe `seq`. */
export type ProbeWorkerEvent =
  | { type: 'PROBE_DONE'; probe: ProbeKind; seq: number; ok: boolean; message?: string }
  | { type: 'TICK' };

/** Sent to the container. */
export type ProbeWorkerMessage =
  | { type: 'PROBE_REQUEST'; probe: ProbeKind; seq: number }
  | { type: 'PROBE_FAILED'; probe: ProbeKind; message: string }
  | { type: 'PROBE_RESULT'; probe: ProbeKind; result: ProbeResult };

const toParent = (build: (context: ProbeWorkerContext) => ProbeWorkerMessage) =>
  sendParent<ProbeWorkerContext, ProbeWorkerEvent, undefined, ProbeWorkerMessage, ProbeWorkerEvent>(({ context }) => build(context));

export const probeMachine = setup({
  types: {
    context: {} as ProbeWorkerContext,
    events: {} as ProbeWorkerEvent,
    input: {} as ProbeWorkerInput,
  },
  actions: {
    nextProbe: assign(({ context }) => ({ seq: context.seq + 1, tickPending: false })),
    requestProbe: toParent((c) => ({ type: 'PROBE_REQUEST', probe: c.probe, seq: c.seq })),
    markTickPending: assign({ tickPending: true }),
    tick: raise({ type: 'TICK' }),
    /** Counts the outcome; reports the failure, and the result when its threshold is reached and it changed. */
    countResult: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'PROBE_DONE') return;
      const result: ProbeResult = event.ok ? 'Success' : 'Failure';
      const run = context.last === result ? context.run + 1 : 1;
      enqueue.assign({ last: result, run });
      if (!event.ok) {
        enqueue.sendParent({ type: 'PROBE_FAILED', probe: context.probe, message: event.message ?? '' } satisfies ProbeWorkerMessage);
      }
      const threshold = event.ok ? context.config.successThreshold : context.config.failureThreshold;
      if (run < threshold || context.reported === result) return;
      enqueue.assign({ reported: result });
      enqueue.sendParent({ type: 'PROBE_RESULT', probe: context.probe, result } satisfies ProbeWorkerMessage);
    }),
  },
  guards: {
    noInitialDelay: ({ context }) => context.config.initialDelayMs <= 0,
    isCurrentProbe: ({ context, event }) => event.type === 'PROBE_DONE' && event.seq === context.seq,
    tickPending: ({ context }) => context.tickPending,
  },
  delays: {
    initialDelay: ({ context }) => context.config.initialDelayMs,
    period: ({ context }) => context.config.periodMs,
  },
}).createMachine({
  id: 'probe',
  context: ({ input }) => ({ ...input, seq: 0, run: 0, tickPending: false }),
  initial: 'InitialDelay',
  states: {
    InitialDelay: {
      always: { guard: 'noInitialDelay', target: 'Active' },
      after: { initialDelay: 'Active' },
    },
    Active: {
      type: 'parallel',
      states: {
        // One TICK every period, from the first probe on.
        ticker: {
          initial: 'Counting',
          states: {
            Counting: { after: { period: { target: 'Counting', reenter: true, actions: 'tick' } } },
          },
        },
        prober: {
          initial: 'Probing',
          states: {
            Idle: { on: { TICK: 'Probing' } },
            Probing: {
              entry: ['nextProbe', 'requestProbe'],
              on: {
                TICK: { actions: 'markTickPending' },
                PROBE_DONE: [
                  { guard: and(['isCurrentProbe', 'tickPending']), target: 'Probing', reenter: true, actions: 'countResult' },
                  { guard: 'isCurrentProbe', target: 'Idle', actions: 'countResult' },
                ],
              },
            },
          },
        },
      },
    },
  },
});
