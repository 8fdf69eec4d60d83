/**
 * The pod actor: one per pod bound to this node. Pure: every side effect is an actor or an
 * action the host provides with `podMachine.provide({ actors, actions })`.
 *
 * Structure (see README.md): the pod spawns one container machine per container
 * (`container:<name>`, with `syncSnapshot`). Container machines decide; the pod executes the
 * effects they ask for by spawning the host-provided `startContainer` / `waitContainer` /
 * `stopContainer` actors (`start:<name>:<restartCount>`, …) and routes each result back to
 * the container it belongs to. The pod's own states follow the phase computed from the
 * containers' snapshots, and every status change is handed to `publishStatus`.
 */
import { assign, enqueueActions, fromPromise, not, setup, type ActorRefFrom } from 'xstate';
import { jsonEqual } from '../../protocol/json-equal.js';
import { nowTimestamp, type Pod, type PodStatus } from '../../protocol/objects.js';
import type { ExitStatus } from '../../nodes/worker/runtime/types.js';
import { podLabel } from './backoff.js';
import { containerMachine, containerView, type ContainerEvent, type ContainerMessage, type ContainerSnapshot } from './container.js';
import { containerProbes } from './probe.js';
import { computePodStatus, conditionStates, podPhase, type PodPhase } from './status.js';
import {
  DEFAULT_BACKOFF,
  type ContainerView,
  type PodContext,
  type PodEventRecord,
  type PodInput,
  type ProbeKind,
  type RestartPolicy,
  type RunProbeInput,
  type RunProbeOutput,
  type StartContainerInput,
  type StartContainerOutput,
  type StopContainerInput,
  type WaitContainerInput,
} from './types.js';

/** Events the host sends to a pod actor. */
export type PodHostEvent =
  /** metadata.deletionTimestamp appeared: stop everything, then `podFinished`. Default grace: the pod's terminationGracePeriodSeconds. */
  | { type: 'DELETE'; graceMs?: number }
  /**
   * The kubelet evicts the pod (e.g. an emptyDir over its sizeLimit): containers are killed at
   * once, nothing restarts, the pod ends Failed with this reason and message; the object stays.
   */
  | { type: 'EVICT'; reason: string; message: string }
  /** A newer version of the pod object. */
  | { type: 'POD_UPDATED'; pod: Pod };

/** Events from the pod's own children (container machines and effect actors). */
export type PodInternalEvent =
  | ContainerMessage
  | { type: `xstate.snapshot.${string}`; snapshot: ContainerSnapshot }
  | { type: `xstate.done.actor.${string}`; output: unknown; actorId: string }
  | { type: `xstate.error.actor.${string}`; error: unknown; actorId: string };

export type PodEvent = PodHostEvent | PodInternalEvent;

type EffectKind = 'start' | 'wait' | 'stop';

export const containerActorId = (container: string) => `container:${container}`;
export const effectActorId = (kind: EffectKind, container: string, restartCount: number) => `${kind}:${container}:${restartCount}`;

function parseEffectActorId(id: string): { kind: EffectKind; container: string; restartCount: number } | undefined {
  const m = /^(start|wait|stop):([^:]+):(\d+)$/.exec(id);
  return m ? { kind: m[1] as EffectKind, container: m[2], restartCount: Number(m[3]) } : undefined;
}

/** The id of one run of the host's `runProbe`: `probe:<container>:<restartCount>:<probe>:<seq>`. */
export const probeActorId = (container: string, restartCount: number, probe: ProbeKind, seq: number) => `probe:${container}:${restartCount}:${probe}:${seq}`;

function parseProbeActorId(id: string): { container: string; restartCount: number; probe: ProbeKind; seq: number } | undefined {
  const m = /^probe:([^:]+):(\d+):(startup|readiness|liveness):(\d+)$/.exec(id);
  return m ? { container: m[1], restartCount: Number(m[2]), probe: m[3] as ProbeKind, seq: Number(m[4]) } : undefined;
}

/** A probe outcome as the container expects it (a malformed host answer is a failure). */
function probeOutcome(output: unknown): { ok: boolean; message?: string } {
  const o = output as Partial<RunProbeOutput> | null | undefined;
  const message = typeof o?.message === 'string' ? o.message : undefined;
  return { ok: o?.ok === true, ...(message !== undefined ? { message } : {}) };
}

/** The exit reported when the runtime cannot tell how a container ended (wait/stop rejected). */
function unknownExit(error: unknown, at: string): ExitStatus {
  return { exitCode: 137, reason: 'ContainerStatusUnknown', message: errorMessage(error), finishedAt: at };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function initialView(name: string, image: string): ContainerView {
  return { name, image, phase: 'ContainerCreating', restartCount: 0, waiting: { reason: 'ContainerCreating' }, ready: false, hasRun: false };
}

function initialContext(input: PodInput): PodContext {
  const now = input.now ?? Date.now;
  return {
    pod: input.pod,
    nodeName: input.nodeName,
    podIP: input.podIP,
    hostIP: input.hostIP,
    backoff: {
      initialMs: input.backoffInitialMs ?? DEFAULT_BACKOFF.initialMs,
      maxMs: input.backoffMaxMs ?? DEFAULT_BACKOFF.maxMs,
      resetMs: input.backoffResetMs ?? DEFAULT_BACKOFF.resetMs,
    },
    now,
    startTime: nowTimestamp(now()),
    containers: (input.pod.spec?.containers ?? []).map((c) => initialView(c.name, c.image ?? '')),
    conditions: {},
  };
}

const notProvided = (name: string) => () => Promise.reject(new Error(`${name} not provided`));

export const podMachine = setup({
  types: {
    context: {} as PodContext,
    events: {} as PodEvent,
    input: {} as PodInput,
  },
  actors: {
    /** Host: resolve env and `$(VAR)`s, build the ContainerConfig, `runtime.start(...)`. Rejects with RuntimeError on StartError. */
    startContainer: fromPromise<StartContainerOutput, StartContainerInput>(notProvided('startContainer')),
    /** Host: `runtime.wait(containerId)`. */
    waitContainer: fromPromise<ExitStatus, WaitContainerInput>(notProvided('waitContainer')),
    /** Host: `runtime.stop(containerId, graceMs)` (signal, then SIGKILL after the grace). */
    stopContainer: fromPromise<ExitStatus, StopContainerInput>(notProvided('stopContainer')),
    /**
     * Host: run one probe of a running container, once (httpGet / tcpSocket / exec), settling
     * within the probe's timeoutSeconds. Resolves `{ ok, message }`; a rejection counts as a failure.
     */
    runProbe: fromPromise<RunProbeOutput, RunProbeInput>(notProvided('runProbe')),
    container: containerMachine,
  },
  actions: {
    /** Host: write the status to the API server (coalescing). Receives the full PodStatus. */
    publishStatus: (_args, _status: PodStatus) => {},
    /** Host: record a Kubernetes Event about the pod. */
    recordEvent: (_args, _record: PodEventRecord) => {},
    /** Host: every container is stopped after DELETE: delete the object with grace 0, drop the actor. Called once. */
    podFinished: () => {},
    /** Host: every container is stopped after EVICT: free what the pod held on the node (its volumes). Called once. */
    podEvicted: () => {},

    storePod: assign(({ event }) => (event.type === 'POD_UPDATED' ? { pod: event.pod } : {})),
    storeContainerView: assign(({ context, event }) => {
      if (!event.type.startsWith('xstate.snapshot.') || !('snapshot' in event)) return {};
      const view = containerView(event.snapshot);
      return { containers: context.containers.map((c) => (c.name === view.name ? view : c)) };
    }),
    assignEviction: assign(({ event }) => (event.type === 'EVICT' ? { eviction: { reason: event.reason, message: event.message } } : {})),
    assignDeletion: assign(({ context, event }) => {
      if (event.type !== 'DELETE') return {};
      const graceMs = event.graceMs ?? (context.pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000;
      return { deletion: { graceMs } };
    }),
  },
  guards: {
    phaseIs: ({ context }, params: { phase: PodPhase }) => podPhase(context.containers) === params.phase,
    deleting: ({ context }) => context.deletion !== undefined,
    /** Only a Pending or Running pod, not being deleted nor evicted already, is evicted. */
    evictable: ({ context }) => !context.deletion && !context.eviction && ['Pending', 'Running'].includes(podPhase(context.containers)),
    allContainersStopped: ({ context }) => context.containers.every((c) => c.phase === 'Terminated'),
  },
})
  // Actions that enqueue other actions or spawn the actors above: declared after them so their types are known.
  .extend<{
    spawnContainers: undefined;
    syncStatus: undefined;
    runEffect: undefined;
    deliverEffectResult: undefined;
    deliverEffectError: undefined;
    stopContainers: undefined;
  }>({
    actions: {
      spawnContainers: enqueueActions(({ context, enqueue }) => {
        const meta = context.pod.metadata ?? {};
        const pod = podLabel(meta.name ?? '', meta.namespace ?? 'default', meta.uid ?? '');
        const restartPolicy = (context.pod.spec?.restartPolicy ?? 'Always') as RestartPolicy;
        const terminationGraceMs = (context.pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000;
        for (const c of context.pod.spec?.containers ?? []) {
          enqueue.spawnChild('container', {
            id: containerActorId(c.name),
            syncSnapshot: true,
            input: { name: c.name, image: c.image ?? '', pod, restartPolicy, backoff: context.backoff, probes: containerProbes(c), terminationGraceMs },
          });
        }
      }),
      /** Computes the status; publishes it when it differs from the last one published. */
      syncStatus: enqueueActions(({ context, enqueue }) => {
        const status = computePodStatus(context, context.now());
        if (context.lastPublished && jsonEqual(status, context.lastPublished)) return;
        enqueue.assign({ conditions: conditionStates(status), lastPublished: status });
        enqueue({ type: 'publishStatus', params: status });
      }),
      /** Runs an effect a container asked for, as a child actor named after it. */
      runEffect: enqueueActions(({ context, event, enqueue, self }) => {
        if (event.type !== 'CONTAINER_EFFECT') return;
        const { container, effect } = event;
        switch (effect.kind) {
          case 'start':
            enqueue.spawnChild('startContainer', { id: effectActorId('start', container, effect.restartCount), input: { pod: context.pod, container, restartCount: effect.restartCount } });
            break;
          case 'wait':
            enqueue.spawnChild('waitContainer', { id: effectActorId('wait', container, effect.restartCount), input: { containerId: effect.containerId } });
            break;
          case 'stop':
            enqueue.spawnChild('stopContainer', { id: effectActorId('stop', container, effect.restartCount), input: { containerId: effect.containerId, graceMs: effect.graceMs } });
            break;
          case 'probe':
            enqueue.spawnChild('runProbe', {
              id: probeActorId(container, effect.restartCount, effect.probe, effect.seq),
              input: { pod: context.pod, container, probe: effect.probe, spec: effect.spec, podIP: context.podIP },
            });
            break;
          case 'cancelProbes': {
            // Stopping a probe actor aborts its signal: the host drops the request / kills the command.
            const prefix = `probe:${container}:${effect.restartCount}:`;
            for (const id of Object.keys(self.getSnapshot().children)) if (id.startsWith(prefix)) enqueue.stopChild(id);
            break;
          }
        }
      }),
      /** An effect actor resolved: tell its container. */
      deliverEffectResult: enqueueActions(({ event, enqueue }) => {
        if (!('output' in event)) return;
        const probe = parseProbeActorId(event.actorId);
        if (probe) {
          enqueue.stopChild(event.actorId);
          const { container, ...about } = probe;
          enqueue.sendTo(containerActorId(container), { type: 'PROBE_DONE', ...about, ...probeOutcome(event.output) } satisfies ContainerEvent);
          return;
        }
        const effect = parseEffectActorId(event.actorId);
        if (!effect) return;
        enqueue.stopChild(event.actorId);
        const { kind, container, restartCount } = effect;
        let answer: ContainerEvent;
        if (kind === 'start') {
          const out = event.output as StartContainerOutput;
          answer = { type: 'STARTED', restartCount, containerId: out.containerId, startedAt: out.startedAt };
        } else {
          answer = { type: kind === 'wait' ? 'EXITED' : 'STOPPED', restartCount, exit: event.output as ExitStatus };
        }
        enqueue.sendTo(containerActorId(container), answer);
      }),
      /** An effect actor rejected: tell its container (a failed start is a StartError; a failed wait/stop an unknown exit). */
      deliverEffectError: enqueueActions(({ context, event, enqueue }) => {
        if (!('error' in event)) return;
        const probe = parseProbeActorId(event.actorId);
        if (probe) {
          enqueue.stopChild(event.actorId);
          const { container, ...about } = probe;
          enqueue.sendTo(containerActorId(container), { type: 'PROBE_DONE', ...about, ok: false, message: errorMessage(event.error) } satisfies ContainerEvent);
          return;
        }
        const effect = parseEffectActorId(event.actorId);
        if (!effect) return;
        enqueue.stopChild(event.actorId);
        const { kind, container, restartCount } = effect;
        const at = nowTimestamp(context.now());
        let answer: ContainerEvent;
        if (kind === 'start') {
          answer = { type: 'START_FAILED', restartCount, code: errorCode(event.error), message: errorMessage(event.error), at };
        } else {
          if (kind === 'stop') {
            enqueue({
              type: 'recordEvent',
              params: { type: 'Warning', reason: 'FailedKillPod', message: `error killing container ${container}: ${errorMessage(event.error)}`, container },
            });
          }
          answer = { type: kind === 'wait' ? 'EXITED' : 'STOPPED', restartCount, exit: unknownExit(event.error, at) };
        }
        enqueue.sendTo(containerActorId(container), answer);
      }),
      /** STOP to every container not already terminated (each stops its running instance, or cancels its restart). */
      stopContainers: enqueueActions(({ context, enqueue }) => {
        const graceMs = context.deletion?.graceMs ?? 0;
        for (const c of context.containers) {
          if (c.phase !== 'Terminated') enqueue.sendTo(containerActorId(c.name), { type: 'STOP', graceMs } satisfies ContainerEvent);
        }
      }),
    },
  })
  .createMachine({
    id: 'pod',
    context: ({ input }) => initialContext(input),
    entry: ['spawnContainers', 'syncStatus'],
    initial: 'Pending',
    on: {
      // Image changes would need the container restarted (kubelet does that); ignored for now:
      // the latest object is kept, and used for the next (re)start.
      POD_UPDATED: { actions: 'storePod' },
      DELETE: { guard: not('deleting'), target: '.Terminating', actions: 'assignDeletion' },
      EVICT: {
        guard: 'evictable',
        target: '.Evicting',
        actions: ['assignEviction', { type: 'recordEvent', params: ({ event }) => ({ type: 'Warning' as const, reason: event.reason, message: event.message }) }, 'syncStatus'],
      },
      'xstate.snapshot.*': { actions: ['storeContainerView', 'syncStatus'] },
      CONTAINER_EFFECT: { actions: 'runEffect' },
      CONTAINER_EVENT: { actions: { type: 'recordEvent', params: ({ event }) => event.record } },
      'xstate.done.actor.*': { actions: 'deliverEffectResult' },
      'xstate.error.actor.*': { actions: 'deliverEffectError' },
    },
    states: {
      Pending: {
        always: [
          { guard: { type: 'phaseIs', params: { phase: 'Succeeded' } }, target: 'Succeeded' },
          { guard: { type: 'phaseIs', params: { phase: 'Failed' } }, target: 'Failed' },
          { guard: { type: 'phaseIs', params: { phase: 'Running' } }, target: 'Running' },
        ],
      },
      Running: {
        always: [
          { guard: { type: 'phaseIs', params: { phase: 'Succeeded' } }, target: 'Succeeded' },
          { guard: { type: 'phaseIs', params: { phase: 'Failed' } }, target: 'Failed' },
        ],
      },
      // Terminal phases: nothing restarts; only DELETE leads on.
      Succeeded: {},
      Failed: {},
      // EVICT arrived (only a Pending or Running pod is evicted): containers are killed, nothing restarts.
      Evicting: {
        entry: 'stopContainers',
        always: { guard: 'allContainersStopped', target: 'Evicted' },
      },
      // Failed for good, object kept (as the kubelet leaves evicted pods); only DELETE leads on.
      Evicted: {
        entry: ['syncStatus', 'podEvicted'],
      },
      // DELETE arrived: containers are being stopped, restarts cancelled. Later DELETEs are ignored.
      Terminating: {
        entry: 'stopContainers',
        always: { guard: 'allContainersStopped', target: 'Terminated' },
      },
      Terminated: {
        type: 'final',
        entry: ['syncStatus', 'podFinished'],
      },
    },
  });

export type PodActorRef = ActorRefFrom<typeof podMachine>;
