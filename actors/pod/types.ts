/**
 * Shared shapes of the pod actor: its input, its context, the container views it keeps,
 * the records it hands to the host. No logic here.
 */
import type { Probe } from 'kubernetes-types/core/v1.js';
import type { Pod, PodStatus } from '../../protocol/objects.js';
import type { ExitStatus } from '../../nodes/worker/runtime/types.js';

export type { Probe };

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

/** CrashLoopBackOff tuning (kubelet: 10s initial, doubling, 5 min cap, reset after 10 min of running). */
export interface BackoffConfig {
  initialMs: number;
  maxMs: number;
  resetMs: number;
}

export const DEFAULT_BACKOFF: BackoffConfig = { initialMs: 10_000, maxMs: 300_000, resetMs: 600_000 };

/** What the host passes to `createActor(podMachine.provide(...), { input })`. */
export interface PodInput {
  pod: Pod;
  nodeName: string;
  podIP: string;
  hostIP: string;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  backoffResetMs?: number;
  /** Clock for timestamps (ms since epoch); defaults to Date.now. Delays use XState's clock instead. */
  now?: () => number;
}

/** One finished run of a container (Kubernetes' ContainerStateTerminated, plus the instance id). */
export interface Termination extends ExitStatus {
  /** Runtime id of the instance that ended (absent when it never started: StartError). */
  containerId?: string;
}

/** The state of a container machine, as a flat name (the child's statechart state). */
export type ContainerPhase = 'ContainerCreating' | 'CrashLoopBackOff' | 'Running' | 'Stopping' | 'Terminated';

/**
 * What the pod knows about one of its containers: derived from the container machine's
 * snapshot (see `containerView` in container.ts), kept in the pod's context in spec order.
 */
export interface ContainerView {
  name: string;
  image: string;
  phase: ContainerPhase;
  restartCount: number;
  /** Runtime id of the current instance (Running/Stopping), or of the last one. */
  containerId?: string;
  /** RFC 3339; when the current instance started (Running/Stopping). */
  startedAt?: string;
  /** Shown as `state.waiting` while ContainerCreating / CrashLoopBackOff. */
  waiting?: { reason: string; message?: string };
  /** Most recent finished run. */
  lastTerminated?: Termination;
  /** The finished run before that (shown as `lastState` once the container is Terminated for good). */
  priorTerminated?: Termination;
  /** Readiness: running, started, and the readiness probe passed (or there is none). */
  ready: boolean;
  /** `false` while the startup probe has not passed yet; absent or `true`: started (no startup probe, or it passed). */
  started?: boolean;
  /** Has run at least once (started, or ended with a StartError): kubelet's "not pending any more". */
  hasRun: boolean;
}

export interface ConditionState {
  status: 'True' | 'False';
  lastTransitionTime: string;
}

export interface PodContext {
  pod: Pod;
  nodeName: string;
  podIP: string;
  hostIP: string;
  backoff: BackoffConfig;
  now: () => number;
  /** RFC 3339: when this kubelet acknowledged the pod (status.startTime). */
  startTime: string;
  /** Spec order. */
  containers: ContainerView[];
  /** Condition type → last reported status and when it last flipped. */
  conditions: Record<string, ConditionState>;
  /** Set once DELETE arrived. */
  deletion?: { graceMs: number };
  /** Set once EVICT arrived: the pod ends Failed with this reason and message (kubelet eviction). */
  eviction?: { reason: string; message: string };
  /**
   * The status last handed to `publishStatus` (to publish only changes). The object itself, not
   * its JSON: the host keeps it anyway, a JSON copy was ~1 KB more per pod.
   */
  lastPublished?: PodStatus;
}

/** A kubelet Event about the pod (Pulled/Created/Started/Killing/BackOff/Failed…). */
export interface PodEventRecord {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  /** The container it is about, when it is about one (involvedObject.fieldPath `spec.containers{<name>}`). */
  container?: string;
}

export interface StartContainerInput {
  pod: Pod;
  container: string;
  restartCount: number;
}
export interface StartContainerOutput {
  containerId: string;
  /** RFC 3339. */
  startedAt: string;
}
export interface WaitContainerInput {
  containerId: string;
}
export interface StopContainerInput {
  containerId: string;
  graceMs: number;
}

/** The three container probes, by the kubelet's names for them. */
export type ProbeKind = 'startup' | 'readiness' | 'liveness';

/** A probe of a container spec with its defaults applied, in milliseconds (see probe.ts `probeConfig`). */
export interface ProbeConfig {
  spec: Probe;
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  successThreshold: number;
  failureThreshold: number;
  /** Probe-level terminationGracePeriodSeconds (liveness/startup), in ms; the pod's applies when absent. */
  terminationGraceMs?: number;
}

/** Input of the host's `runProbe` actor: run one probe of one container, once. */
export interface RunProbeInput {
  /** The latest pod object (exec probes build the container's environment from it). */
  pod: Pod;
  container: string;
  probe: ProbeKind;
  spec: Probe;
  podIP: string;
}
/** What `runProbe` resolves with: `ok` is success; `message` is the kubelet-style output/failure reason. */
export interface RunProbeOutput {
  ok: boolean;
  message?: string;
}

/** A side effect a container machine asks its pod to run (the pod owns the host-provided actors). */
export type ContainerEffect =
  | { kind: 'start'; restartCount: number }
  | { kind: 'wait'; restartCount: number; containerId: string }
  | { kind: 'stop'; restartCount: number; containerId: string; graceMs: number }
  /** Run probe number `seq` of this instance (answered with PROBE_DONE). */
  | { kind: 'probe'; restartCount: number; probe: ProbeKind; seq: number; spec: Probe }
  /** The instance stopped running: abandon its probes still in flight. */
  | { kind: 'cancelProbes'; restartCount: number };
