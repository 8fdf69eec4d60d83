/**
 * The container machine: the lifecycle of one container of a pod, as the kubelet runs it
 * (start, wait for exit, restart policy, CrashLoopBackOff, stop on deletion).
 *
 * It decides and never acts: each side effect is a `CONTAINER_EFFECT` request sent to its
 * parent pod machine, which owns the host-provided actors (startContainer, waitContainer,
 * stopContainer) and answers with STARTED / START_FAILED / EXITED / STOPPED. Those answers
 * carry the `restartCount` of the instance they are about, so a late answer about an
 * earlier instance is ignored. Kubelet Events go up as `CONTAINER_EVENT`; the pod reads
 * everything else from this machine's snapshot (spawned with `syncSnapshot`).
 *
 * Probes (probe.ts): while Running, the container invokes one probe worker per probe it
 * declares: startup first (Running.Starting), then readiness and liveness (Running.Started).
 * It relays their requests to the pod and the pod's answers back to them; it acts on their
 * results: readiness moves Ready/NotReady, a failed liveness or startup probe kills the
 * instance (Killing), which then restarts by the restart policy like any exit.
 */
import { and, assign, enqueueActions, sendParent, setup, type SnapshotFrom } from 'xstate';
import type { ExitStatus } from '../../nodes/worker/runtime/types.js';
import { crashLoopMessage, nextBackoff, restartPolicyRestarts } from './backoff.js';
import { probeLabel, probeMachine, probeWorkerId, type ProbeResult, type ProbeWorkerEvent, type ProbeWorkerMessage } from './probe.js';
import type { BackoffConfig, ContainerEffect, ContainerPhase, ContainerView, PodEventRecord, ProbeConfig, ProbeKind, RestartPolicy, Termination } from './types.js';

export interface ContainerInput {
  name: string;
  image: string;
  /** `<pod>_<namespace>(<uid>)`, for messages. */
  pod: string;
  restartPolicy: RestartPolicy;
  backoff: BackoffConfig;
  /** The probes the container declares (defaults applied). */
  probes?: Partial<Record<ProbeKind, ProbeConfig>>;
  /** The pod's terminationGracePeriodSeconds in ms: the grace of a kill after a failed liveness/startup probe. */
  terminationGraceMs?: number;
}

export interface ContainerContext extends ContainerInput {
  /** Restarts so far; also identifies the current instance. */
  restartCount: number;
  /** The delay to apply before the next restart. */
  backoffMs: number;
  containerId?: string;
  startedAt?: string;
  waiting?: { reason: string; message?: string };
  lastTerminated?: Termination;
  priorTerminated?: Termination;
  /** Set when STOP arrived (the pod is being deleted): the grace to stop with. */
  stopGraceMs?: number;
  hasRun: boolean;
  /** The current instance passed its startup probe (or has none). */
  started: boolean;
  /** Set while the instance is killed for a failed liveness/startup probe. */
  kill?: { probe: ProbeKind; graceMs: number };
  /** The image pull back-off (kubelet keeps it apart from the crash-loop one); set after a failed pull. */
  pullBackoffMs?: number;
}

/** Sent by the pod (answers to effects, and STOP on deletion). */
export type ContainerEvent =
  | { type: 'STARTED'; restartCount: number; containerId: string; startedAt: string }
  | { type: 'START_FAILED'; restartCount: number; code?: string; message: string; at: string }
  | { type: 'EXITED'; restartCount: number; exit: ExitStatus }
  | { type: 'STOPPED'; restartCount: number; exit: ExitStatus }
  | { type: 'STOP'; graceMs: number }
  /** The outcome of probe `seq` of instance `restartCount` (relayed to the probe's worker). */
  | { type: 'PROBE_DONE'; restartCount: number; probe: ProbeKind; seq: number; ok: boolean; message?: string }
  /** From the probe workers. */
  | ProbeWorkerMessage;

/** Sent to the pod. */
export type ContainerMessage =
  | { type: 'CONTAINER_EFFECT'; container: string; effect: ContainerEffect }
  | { type: 'CONTAINER_EVENT'; record: PodEventRecord };

/** Exit code the kubelet reports for a container that could not be started. */
export const START_ERROR_EXIT_CODE = 128;

/** Reason shown in `state.waiting` after a failed start (kubelet: RunContainerError, or the pull error). */
export function startFailureWaitingReason(code: string | undefined): string {
  return isPullFailure(code) ? code! : 'RunContainerError';
}

/** The image could not be had: no container was created, so no restart is counted (kubelet's image back-off). */
export function isPullFailure(code: string | undefined): boolean {
  return code === 'ErrImagePull' || code === 'ErrImageNeverPull' || code === 'ImagePullBackOff';
}

/** How long ErrImagePull shows before ImagePullBackOff: until the kubelet's next look at the pod. */
export function pullErrorShownMs(backoffMs: number): number {
  return Math.min(1000, Math.floor(backoffMs / 2));
}

/** Reason shown in `state.terminated` for a failed start. */
export function startFailureTerminatedReason(code: string | undefined): string {
  return code === 'ContainerCannotRun' ? 'ContainerCannotRun' : 'StartError';
}

/** Asks the pod to run an effect. */
const effect = (build: (context: ContainerContext) => ContainerEffect) =>
  sendParent<ContainerContext, ContainerEvent, undefined, ContainerMessage, ContainerEvent>(({ context }) => ({
    type: 'CONTAINER_EFFECT',
    container: context.name,
    effect: build(context),
  }));

/** Asks the pod to record a kubelet Event about this container. */
const record = (build: (context: ContainerContext) => Omit<PodEventRecord, 'container'>) =>
  sendParent<ContainerContext, ContainerEvent, undefined, ContainerMessage, ContainerEvent>(({ context }) => ({
    type: 'CONTAINER_EVENT',
    record: { ...build(context), container: context.name },
  }));

export const containerMachine = setup({
  types: {
    context: {} as ContainerContext,
    events: {} as ContainerEvent,
    input: {} as ContainerInput,
  },
  actions: {
    requestStart: effect((c) => ({ kind: 'start', restartCount: c.restartCount })),
    requestWait: effect((c) => ({ kind: 'wait', restartCount: c.restartCount, containerId: c.containerId! })),
    requestStop: effect((c) => ({ kind: 'stop', restartCount: c.restartCount, containerId: c.containerId!, graceMs: c.stopGraceMs ?? 0 })),
    requestKill: effect((c) => ({ kind: 'stop', restartCount: c.restartCount, containerId: c.containerId!, graceMs: c.kill?.graceMs ?? c.terminationGraceMs ?? 30_000 })),
    /** A probe worker wants to probe: ask the pod (it runs the host's `runProbe`). */
    requestProbe: sendParent<ContainerContext, ContainerEvent, undefined, ContainerMessage, ContainerEvent>(({ context, event }) => {
      const { probe, seq } = event as Extract<ProbeWorkerMessage, { type: 'PROBE_REQUEST' }>;
      return {
        type: 'CONTAINER_EFFECT',
        container: context.name,
        effect: { kind: 'probe', restartCount: context.restartCount, probe, seq, spec: context.probes![probe]!.spec },
      };
    }),
    /** Leaving Running: probes of this instance still in flight are abandoned. */
    cancelProbes: enqueueActions(({ context, enqueue }) => {
      if (!Object.keys(context.probes ?? {}).length) return;
      enqueue.sendParent({
        type: 'CONTAINER_EFFECT',
        container: context.name,
        effect: { kind: 'cancelProbes', restartCount: context.restartCount },
      } satisfies ContainerMessage);
    }),
    /** The pod's answer to a probe: to the worker that asked, if it still runs (and it is about this instance). */
    relayProbeDone: enqueueActions(({ context, event, enqueue, self }) => {
      if (event.type !== 'PROBE_DONE' || event.restartCount !== context.restartCount) return;
      const id = probeWorkerId(event.probe);
      if (!self.getSnapshot().children[id]) return;
      const { probe, seq, ok, message } = event;
      enqueue.sendTo(id, { type: 'PROBE_DONE', probe, seq, ok, message } satisfies ProbeWorkerEvent);
    }),

    recordPulled: record((c) => ({ type: 'Normal', reason: 'Pulled', message: `Container image "${c.image}" already present on machine` })),
    recordCreated: record((c) => ({ type: 'Normal', reason: 'Created', message: `Created container ${c.name}` })),
    recordStarted: record((c) => ({ type: 'Normal', reason: 'Started', message: `Started container ${c.name}` })),
    recordFailed: record((c) => ({ type: 'Warning', reason: 'Failed', message: `Error: ${c.waiting?.message ?? 'failed to start container'}` })),
    /** kubelet: `Failed to pull image …` then `Error: ErrImagePull` (or ErrImageNeverPull's own). */
    recordPullFailed: enqueueActions(({ context, enqueue }) => {
      const reason = context.waiting?.reason ?? 'ErrImagePull';
      const message = context.waiting?.message ?? '';
      const first: PodEventRecord =
        reason === 'ErrImageNeverPull'
          ? { type: 'Warning', reason: 'ErrImageNeverPull', message, container: context.name }
          : { type: 'Warning', reason: 'Failed', message: message.startsWith('failed to pull') ? `F${message.slice(1)}` : `Failed to pull image "${context.image}": ${message}`, container: context.name };
      enqueue.sendParent({ type: 'CONTAINER_EVENT', record: first } satisfies ContainerMessage);
      enqueue.sendParent({ type: 'CONTAINER_EVENT', record: { type: 'Warning', reason: 'Failed', message: `Error: ${reason}`, container: context.name } } satisfies ContainerMessage);
    }),
    /** Not for ErrImageNeverPull, which shows no back-off (kubelet). */
    recordPullBackOff: enqueueActions(({ context, enqueue }) => {
      if (context.waiting?.reason !== 'ImagePullBackOff') return;
      enqueue.sendParent({ type: 'CONTAINER_EVENT', record: { type: 'Normal', reason: 'BackOff', message: `Back-off pulling image "${context.image}"`, container: context.name } } satisfies ContainerMessage);
      enqueue.sendParent({ type: 'CONTAINER_EVENT', record: { type: 'Warning', reason: 'Failed', message: 'Error: ImagePullBackOff', container: context.name } } satisfies ContainerMessage);
    }),
    recordBackOff: record((c) => ({ type: 'Warning', reason: 'BackOff', message: `Back-off restarting failed container ${c.name} in pod ${c.pod}` })),
    recordKilling: record((c) => ({ type: 'Normal', reason: 'Killing', message: `Stopping container ${c.name}` })),
    recordProbeKilling: record((c) => ({
      type: 'Normal',
      reason: 'Killing',
      message: `Container ${c.name} failed ${c.kill?.probe ?? 'liveness'} probe${c.restartPolicy === 'Never' ? '' : ', will be restarted'}`,
    })),
    recordUnhealthy: sendParent<ContainerContext, ContainerEvent, undefined, ContainerMessage, ContainerEvent>(({ context, event }) => {
      const { probe, message } = event as Extract<ProbeWorkerMessage, { type: 'PROBE_FAILED' }>;
      return {
        type: 'CONTAINER_EVENT',
        record: { type: 'Warning', reason: 'Unhealthy', message: `${probeLabel(probe)} probe failed: ${message}`, container: context.name },
      };
    }),

    // A retried config error keeps showing its reason until the start succeeds or fails otherwise.
    markCreating: assign(({ context }) => (context.waiting?.reason === 'CreateContainerConfigError' ? {} : { waiting: { reason: 'ContainerCreating' } })),
    assignStarted: assign(({ event }) => {
      if (event.type !== 'STARTED') return {};
      return { containerId: event.containerId, startedAt: event.startedAt, waiting: undefined, hasRun: true, started: false };
    }),
    markStarted: assign({ started: true }),
    assignKill: assign(({ context, event }) => {
      if (event.type !== 'PROBE_RESULT') return {};
      const graceMs = context.probes?.[event.probe]?.terminationGraceMs ?? context.terminationGraceMs ?? 30_000;
      return { kill: { probe: event.probe, graceMs } };
    }),
    clearKill: assign({ kill: undefined }),
    assignExit: assign(({ context, event }) => {
      if (event.type !== 'EXITED' && event.type !== 'STOPPED') return {};
      const ended: Termination = { ...event.exit, containerId: context.containerId };
      if (!ended.startedAt && context.startedAt) ended.startedAt = context.startedAt;
      return { lastTerminated: ended, priorTerminated: context.lastTerminated, startedAt: undefined };
    }),
    assignStartFailure: assign(({ context, event }) => {
      if (event.type !== 'START_FAILED') return {};
      const ended: Termination = {
        exitCode: START_ERROR_EXIT_CODE,
        reason: startFailureTerminatedReason(event.code),
        message: event.message,
        startedAt: event.at,
        finishedAt: event.at,
      };
      return {
        lastTerminated: ended,
        priorTerminated: context.lastTerminated,
        containerId: undefined,
        startedAt: undefined,
        waiting: { reason: startFailureWaitingReason(event.code), message: event.message },
        hasRun: true,
      };
    }),
    assignPullFailure: assign(({ context, event }) => {
      if (event.type !== 'START_FAILED') return {};
      return {
        waiting: { reason: startFailureWaitingReason(event.code), message: event.message },
        pullBackoffMs: context.pullBackoffMs === undefined ? context.backoff.initialMs : nextBackoff(context.pullBackoffMs, context.backoff),
      };
    }),
    /** ErrImagePull becomes ImagePullBackOff while waiting; ErrImageNeverPull stays as it is (kubelet). */
    markPullBackOff: assign(({ context }) =>
      context.waiting?.reason === 'ErrImageNeverPull' ? {} : { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${context.image}"` } },
    ),
    assignConfigError: assign(({ event }) => (event.type === 'START_FAILED' ? { waiting: { reason: 'CreateContainerConfigError', message: event.message } } : {})),
    markCrashLoop: assign(({ context }) => ({
      waiting: { reason: 'CrashLoopBackOff', message: crashLoopMessage(context.backoffMs, context.name, context.pod) },
    })),
    countRestart: assign(({ context }) => ({
      restartCount: context.restartCount + 1,
      backoffMs: nextBackoff(context.backoffMs, context.backoff),
    })),
    /**
     * The instance ran `resetMs` or longer before it ended: the back-off starts over. Decided when
     * it ends rather than by a timer while it runs: a timer per running container was one more
     * Timeout and scheduled event per pod for its whole life (100,000 of them on a simulated host).
     */
    resetBackoffIfRanLong: assign(({ context, event }) => {
      if (event.type !== 'EXITED' && event.type !== 'STOPPED') return {};
      const ran = Date.parse(event.exit.finishedAt ?? '') - Date.parse(context.startedAt ?? '');
      return ran >= context.backoff.resetMs ? { backoffMs: context.backoff.initialMs } : {};
    }),
    assignStop: assign(({ context, event }) => (event.type === 'STOP' && context.stopGraceMs === undefined ? { stopGraceMs: event.graceMs } : {})),
    clearWaiting: assign({ waiting: undefined }),
  },
  guards: {
    /** The answer is about the current instance (not a late one about an earlier restart). */
    isCurrentInstance: ({ context, event }) => 'restartCount' in event && event.restartCount === context.restartCount,
    stopRequested: ({ context }) => context.stopGraceMs !== undefined,
    isConfigError: ({ event }) => event.type === 'START_FAILED' && event.code === 'CreateContainerConfigError',
    restartsAfterExit: ({ context, event }) => event.type === 'EXITED' && restartPolicyRestarts(context.restartPolicy, event.exit.exitCode),
    restartsAfterStartFailure: ({ context }) => restartPolicyRestarts(context.restartPolicy, START_ERROR_EXIT_CODE),
    isPullFailure: ({ event }) => event.type === 'START_FAILED' && isPullFailure(event.code),
    /** After a kill for a failed probe: the policy decides on the exit the kill caused. */
    restartsAfterKill: ({ context, event }) =>
      (event.type === 'EXITED' || event.type === 'STOPPED') && restartPolicyRestarts(context.restartPolicy, event.exit.exitCode),
    hasProbe: ({ context }, params: { probe: ProbeKind }) => context.probes?.[params.probe] !== undefined,
    /** A probe worker reported `result` for `probe` (its threshold was reached). */
    probeResultIs: ({ event }, params: { probe: ProbeKind; result: ProbeResult }) =>
      event.type === 'PROBE_RESULT' && event.probe === params.probe && event.result === params.result,
  },
  actors: {
    probeWorker: probeMachine,
  },
  delays: {
    restartBackoff: ({ context }) => context.backoffMs,
    pullErrorShown: ({ context }) => pullErrorShownMs(context.pullBackoffMs ?? context.backoff.initialMs),
    pullBackoffRest: ({ context }) => {
      const total = context.pullBackoffMs ?? context.backoff.initialMs;
      return total - pullErrorShownMs(total);
    },
    configRetry: ({ context }) => context.backoff.initialMs,
  },
}).createMachine({
  id: 'container',
  context: ({ input }) => ({ ...input, restartCount: 0, backoffMs: input.backoff.initialMs, hasRun: false, started: false }),
  initial: 'Waiting',
  states: {
    Waiting: {
      initial: 'ContainerCreating',
      states: {
        ContainerCreating: {
          // `Pulled` is recorded once the runtime had the image (with the start's answer).
          entry: ['markCreating', 'requestStart'],
          on: {
            STARTED: [
              // Deleted while starting: never leak the container, stop it right away.
              { guard: and(['isCurrentInstance', 'stopRequested']), target: '#container.Stopping', actions: ['assignStarted', 'recordPulled', 'recordCreated', 'recordStarted'] },
              { guard: 'isCurrentInstance', target: '#container.Running', actions: ['assignStarted', 'recordPulled', 'recordCreated', 'recordStarted'] },
            ],
            START_FAILED: [
              // No image: nothing was created, nothing is counted; retried with the image back-off, whatever the restart policy.
              { guard: and(['isCurrentInstance', 'isPullFailure', 'stopRequested']), target: '#container.Terminated', actions: 'assignPullFailure' },
              { guard: and(['isCurrentInstance', 'isPullFailure']), target: 'ErrImagePull', actions: ['assignPullFailure', 'recordPullFailed'] },
              { guard: and(['isCurrentInstance', 'stopRequested']), target: '#container.Terminated', actions: ['assignStartFailure', 'recordPulled', 'recordFailed'] },
              // A missing ConfigMap/Secret is no run of the container: it waits and is tried again, whatever the restart policy.
              { guard: and(['isCurrentInstance', 'isConfigError']), target: 'CreateContainerConfigError', actions: ['assignConfigError', 'recordPulled', 'recordFailed'] },
              { guard: and(['isCurrentInstance', 'restartsAfterStartFailure']), target: 'CrashLoopBackOff', actions: ['assignStartFailure', 'recordPulled', 'recordFailed'] },
              { guard: 'isCurrentInstance', target: '#container.Terminated', actions: ['assignStartFailure', 'recordPulled', 'recordFailed'] },
            ],
            // The start is in flight: remember the deletion, act when it resolves.
            STOP: { actions: 'assignStop' },
          },
        },
        // The pull failed (waiting ErrImagePull / ErrImageNeverPull) ...
        ErrImagePull: {
          after: { pullErrorShown: 'ImagePullBackOff' },
          on: { STOP: { target: '#container.Terminated', actions: 'assignStop' } },
        },
        // ... then the back-off (ImagePullBackOff), then the pull is tried again.
        ImagePullBackOff: {
          entry: ['markPullBackOff', 'recordPullBackOff'],
          after: { pullBackoffRest: 'ContainerCreating' },
          on: { STOP: { target: '#container.Terminated', actions: 'assignStop' } },
        },
        CreateContainerConfigError: {
          after: { configRetry: 'ContainerCreating' },
          on: { STOP: { target: '#container.Terminated', actions: 'assignStop' } },
        },
        CrashLoopBackOff: {
          entry: 'recordBackOff',
          after: { restartBackoff: { target: 'ContainerCreating', actions: 'countRestart' } },
          // Leaving the state cancels the pending restart.
          on: { STOP: { target: '#container.Terminated', actions: 'assignStop' } },
        },
      },
    },
    Running: {
      entry: 'requestWait',
      // Probes stop with the instance: the workers with their states, the probes in flight here.
      exit: 'cancelProbes',
      initial: 'Starting',
      states: {
        // Until the startup probe passes, readiness and liveness are not probed.
        Starting: {
          initial: 'Check',
          states: {
            Check: {
              always: [
                { guard: { type: 'hasProbe', params: { probe: 'startup' } }, target: 'Probing' },
                { target: '#container.Running.Started' },
              ],
            },
            Probing: {
              invoke: { src: 'probeWorker', id: probeWorkerId('startup'), input: ({ context }) => ({ probe: 'startup' as const, config: context.probes!.startup! }) },
              on: {
                PROBE_RESULT: [
                  { guard: { type: 'probeResultIs', params: { probe: 'startup', result: 'Success' } }, target: '#container.Running.Started' },
                  { guard: { type: 'probeResultIs', params: { probe: 'startup', result: 'Failure' } }, target: '#container.Killing', actions: 'assignKill' },
                ],
              },
            },
          },
        },
        Started: {
          entry: 'markStarted',
          type: 'parallel',
          states: {
            readiness: {
              initial: 'Check',
              states: {
                Check: {
                  always: [
                    { guard: { type: 'hasProbe', params: { probe: 'readiness' } }, target: 'Probed' },
                    { target: 'Unprobed' },
                  ],
                },
                // No readiness probe: ready as soon as started.
                Unprobed: { tags: 'ready' },
                // Not ready until successThreshold successes; back after failureThreshold failures.
                Probed: {
                  invoke: { src: 'probeWorker', id: probeWorkerId('readiness'), input: ({ context }) => ({ probe: 'readiness' as const, config: context.probes!.readiness! }) },
                  initial: 'NotReady',
                  states: {
                    NotReady: { on: { PROBE_RESULT: { guard: { type: 'probeResultIs', params: { probe: 'readiness', result: 'Success' } }, target: 'Ready' } } },
                    Ready: {
                      tags: 'ready',
                      on: { PROBE_RESULT: { guard: { type: 'probeResultIs', params: { probe: 'readiness', result: 'Failure' } }, target: 'NotReady' } },
                    },
                  },
                },
              },
            },
            liveness: {
              initial: 'Check',
              states: {
                Check: {
                  always: [
                    { guard: { type: 'hasProbe', params: { probe: 'liveness' } }, target: 'Probed' },
                    { target: 'Unprobed' },
                  ],
                },
                Unprobed: {},
                Probed: {
                  invoke: { src: 'probeWorker', id: probeWorkerId('liveness'), input: ({ context }) => ({ probe: 'liveness' as const, config: context.probes!.liveness! }) },
                  on: {
                    PROBE_RESULT: { guard: { type: 'probeResultIs', params: { probe: 'liveness', result: 'Failure' } }, target: '#container.Killing', actions: 'assignKill' },
                  },
                },
              },
            },
          },
        },
      },
      on: {
        EXITED: [
          { guard: and(['isCurrentInstance', 'restartsAfterExit']), target: 'Waiting.CrashLoopBackOff', actions: ['resetBackoffIfRanLong', 'assignExit', 'markCrashLoop'] },
          { guard: 'isCurrentInstance', target: 'Terminated', actions: 'assignExit' },
        ],
        STOP: { target: 'Stopping', actions: 'assignStop' },
        PROBE_REQUEST: { actions: 'requestProbe' },
        PROBE_DONE: { actions: 'relayProbeDone' },
        PROBE_FAILED: { actions: 'recordUnhealthy' },
      },
    },
    // A liveness or startup probe failed: the instance is killed, then restarted by the policy (with back-off).
    Killing: {
      entry: ['recordProbeKilling', 'requestKill'],
      exit: 'clearKill',
      on: {
        STOPPED: [
          { guard: and(['isCurrentInstance', 'stopRequested']), target: 'Terminated', actions: 'assignExit' },
          { guard: and(['isCurrentInstance', 'restartsAfterKill']), target: 'Waiting.CrashLoopBackOff', actions: ['resetBackoffIfRanLong', 'assignExit', 'markCrashLoop'] },
          { guard: 'isCurrentInstance', target: 'Terminated', actions: 'assignExit' },
        ],
        EXITED: [
          { guard: and(['isCurrentInstance', 'stopRequested']), target: 'Terminated', actions: 'assignExit' },
          { guard: and(['isCurrentInstance', 'restartsAfterKill']), target: 'Waiting.CrashLoopBackOff', actions: ['resetBackoffIfRanLong', 'assignExit', 'markCrashLoop'] },
          { guard: 'isCurrentInstance', target: 'Terminated', actions: 'assignExit' },
        ],
        // The pod is deleted meanwhile: the kill in flight stops it; no restart after.
        STOP: { actions: 'assignStop' },
      },
    },
    Stopping: {
      entry: ['recordKilling', 'requestStop'],
      on: {
        // Whichever comes first: the stop's result or the exit it caused.
        STOPPED: { guard: 'isCurrentInstance', target: 'Terminated', actions: 'assignExit' },
        EXITED: { guard: 'isCurrentInstance', target: 'Terminated', actions: 'assignExit' },
      },
    },
    // Not restarting: the policy said no, or the pod is being deleted. STOP is a no-op here.
    Terminated: {
      entry: 'clearWaiting',
    },
  },
});

export type ContainerSnapshot = SnapshotFrom<typeof containerMachine>;

function phaseOf(snapshot: ContainerSnapshot): ContainerPhase {
  if (snapshot.matches({ Waiting: 'ContainerCreating' }) || snapshot.matches({ Waiting: 'CreateContainerConfigError' })) return 'ContainerCreating';
  if (snapshot.matches({ Waiting: 'CrashLoopBackOff' })) return 'CrashLoopBackOff';
  // Still creating: the image is not there yet (waiting ErrImagePull / ImagePullBackOff).
  if (snapshot.matches({ Waiting: 'ErrImagePull' }) || snapshot.matches({ Waiting: 'ImagePullBackOff' })) return 'ContainerCreating';
  if (snapshot.matches('Running')) return 'Running';
  if (snapshot.matches('Stopping') || snapshot.matches('Killing')) return 'Stopping';
  return 'Terminated';
}

/** What the pod keeps of a container machine's snapshot. */
export function containerView(snapshot: ContainerSnapshot): ContainerView {
  const c = snapshot.context;
  const phase = phaseOf(snapshot);
  return {
    name: c.name,
    image: c.image,
    phase,
    restartCount: c.restartCount,
    containerId: c.containerId,
    startedAt: phase === 'Running' || phase === 'Stopping' ? c.startedAt : undefined,
    waiting: phase === 'ContainerCreating' || phase === 'CrashLoopBackOff' ? c.waiting : undefined,
    lastTerminated: c.lastTerminated,
    priorTerminated: c.priorTerminated,
    ready: snapshot.matches('Running') && snapshot.hasTag('ready'),
    started: (phase === 'Running' || phase === 'Stopping') && c.started,
    hasRun: c.hasRun,
  };
}
