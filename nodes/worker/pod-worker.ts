/**
 * Hosts one Pod actor on the kubelet: provides its effects (the container runtime, status
 * writes, Events) and translates pod objects into the actor's events. The actor decides;
 * this file only executes.
 */
import type { InspectCapture } from '../inspect/capture.js';
import { createActor, fromPromise, type Actor, type ActorSystem } from 'xstate';

type AnyActorSystem = ActorSystem<any>;
import {
  podMachine,
  type PodEventRecord,
  type RunProbeInput,
  type RunProbeOutput,
  type StartContainerInput,
  type StartContainerOutput,
  type StopContainerInput,
  type WaitContainerInput,
} from '../../actors/pod/index.js';
import type { ApiClient } from '../../protocol/client.js';
import { ApiError, Reason } from '../../protocol/errors.js';
import type { KubeObject, Pod, PodStatus } from '../../protocol/objects.js';
import type { EventRecorder } from '../shared/events.js';
import type { Logger } from '../shared/logger.js';
import { buildContainerConfig } from './container-config.js';
import type { PodDns, PodDnsFiles } from './pod-dns.js';
import { probeContainer } from './probes.js';
import { fetchSources, type ConfigSources } from './config-sources.js';
import { PodVolumes, containerMounts, ensureSubPaths, type VolumePaths } from './pod-volumes.js';
import { resolveClaimPath } from './claims.js';
import type { LimitedEmptyDir } from './emptydir-eviction.js';
import { RuntimeError, type ContainerRuntime, type ExitStatus, type Mount } from './runtime/types.js';
import type { StatusWriteLimiter } from './status-write-limiter.js';

export interface PodWorkerTuning {
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  backoffResetMs?: number;
  /**
   * Wait this long before writing a changed status, so the changes of a quick start collapse
   * into one write (simulated nodes: ContainerCreating and Running within milliseconds would
   * otherwise be two writes per pod). 0: write at once.
   */
  statusCoalesceMs?: number;
}

export interface PodWorkerOptions {
  pod: Pod;
  podIP: string;
  hostIP: string;
  nodeName: string;
  client: ApiClient;
  runtime: ContainerRuntime;
  events: EventRecorder;
  logger: Logger;
  /** Bindings of this pod's log lines; its child logger is made at the first line (a pino child per pod costs KBs). */
  logBindings?: Record<string, string>;
  tuning?: PodWorkerTuning;
  /**
   * The Service variables for this pod (service-env.ts), asked once, when its first container
   * starts: the pod sees the Services that existed then, and keeps them across restarts.
   */
  serviceEnv?: (pod: Pod) => Record<string, string>;
  /** The pod's DNS files (pod-dns.ts), prepared once, before its first container starts. */
  podDns?: PodDns;
  /** Inspector capture: the actors report their transitions (none: not inspected). */
  inspect?: InspectCapture;
  /** Where the pod's volumes live (`<dir>/<podUid>/volumes/…`); none: pods get no volumes. */
  volumesDir?: string;
  /** How often configMap/secret volumes of a running pod are compared with their objects, ms. */
  volumeRefreshMs?: number;
  /** Called once the pod is fully stopped and its object removed (or gone already). */
  onDone: () => void;
  /** The process-wide bound on status writes in flight (none: unbounded). */
  statusWrites?: StatusWriteLimiter;
  /** Called once, when the pod first reports phase Running: seconds since this worker was created (pod start latency). */
  onRunning?: (seconds: number) => void;
}

export class PodWorker {
  readonly uid: string;
  private readonly actor: Actor<typeof hostedPodMachine>;
  private readonly placement: { nodeName: string; podIP: string; hostIP: string };
  private pod: Pod;
  private deleting = false;
  private evicting = false;
  private detached = false;
  private latestStatus?: PodStatus;
  private writtenStatus?: PodStatus;
  private writing?: Promise<void>;
  private objectGone = false;
  private serviceEnv?: Record<string, string>;
  private dnsFiles?: Promise<PodDnsFiles>;
  private readonly volumes?: PodVolumes;
  private volumePaths?: Promise<VolumePaths>;
  private refreshTimer?: NodeJS.Timeout;
  private readonly createdAt = performance.now();
  private runningReported = false;
  /** Container name → id of its latest instance (what the metrics sampler asks the runtime about). */
  readonly containerIds = new Map<string, string>();

  /** The options but the first pod object: kept, it would hold a stale copy of the pod for the pod's whole life. */
  private readonly opts: Omit<PodWorkerOptions, 'pod'>;

  constructor(options: PodWorkerOptions) {
    const { pod, ...opts } = options;
    this.opts = opts;
    this.pod = pod;
    this.uid = pod.metadata!.uid!;
    if (opts.volumesDir) this.volumes = new PodVolumes(opts.volumesDir, pod);
    this.placement = { nodeName: opts.nodeName, podIP: opts.podIP, hostIP: opts.hostIP };
    const meta = pod.metadata!;
    // The actor keeps its input for its life: the pod is read through the worker, so the input
    // holds the latest object (the one the worker keeps anyway), not the first.
    const worker = this;
    this.actor = createActor(hostedPodMachine, {
      inspect: opts.inspect?.observer({ kind: 'Pod', namespace: meta.namespace ?? 'default', name: meta.name!, uid: meta.uid }),
      input: {
        get pod() {
          return worker.pod;
        },
        nodeName: opts.nodeName,
        podIP: opts.podIP,
        hostIP: opts.hostIP,
        backoffInitialMs: opts.tuning?.backoffInitialMs,
        backoffMaxMs: opts.tuning?.backoffMaxMs,
        backoffResetMs: opts.tuning?.backoffResetMs,
      },
    });
    hosts.set(this.actor.system, this);
    this.actor.subscribe({ error: (err) => this.log.error({ err }, 'pod actor failed') });
  }

  /** The pod actor's startContainer effect: env, DNS files, ConfigMaps/Secrets, volumes, then the runtime. */
  async startContainer(input: StartContainerInput): Promise<StartContainerOutput> {
    const { opts } = this;
    this.serviceEnv ??= opts.serviceEnv?.(input.pod) ?? {};
    this.dnsFiles ??= opts.podDns?.prepare(input.pod) ?? Promise.resolve({ env: {}, mounts: [] });
    const dns = await this.dnsFiles.catch((e) => {
      this.dnsFiles = undefined; // tried again by the next start
      throw new RuntimeError('StartError', `writing the pod's resolv.conf failed: ${(e as Error).message}`);
    });
    const sources = await fetchSources(opts.client, input.pod).catch((e: Error) => {
      throw new RuntimeError('CreateContainerConfigError', `reading the pod's ConfigMaps and Secrets failed: ${e.message}`);
    });
    const config = buildContainerConfig(input.pod, input.container, input.restartCount, this.placement, { ...this.serviceEnv, ...dns.env }, sources);
    const mounts = await this.volumeMounts(input.pod, input.container, sources);
    config.mounts = [...mounts, ...dns.mounts];
    // After a kubelet restart: the container still running from before is this one.
    const handle = (await opts.runtime.adopt?.(config.podUid, config.name)) ?? (await opts.runtime.start(config));
    this.containerIds.set(input.container, handle.id);
    return { containerId: handle.id, startedAt: handle.startedAt };
  }

  /** One probe, once; the actor aborts `signal` when it abandons the probe (container stopped, pod deleted). */
  runProbe(input: RunProbeInput, signal: AbortSignal): Promise<RunProbeOutput> {
    return probeContainer(input, { placement: this.placement, signal, serviceEnv: this.serviceEnv });
  }

  recordEvent(record: PodEventRecord): void {
    this.opts.events.record(this.pod as KubeObject, record.type, record.reason, record.message);
  }

  get runtime(): ContainerRuntime {
    return this.opts.runtime;
  }

  private childLog?: Logger;
  private get log(): Logger {
    return (this.childLog ??= this.opts.logBindings ? this.opts.logger.child(this.opts.logBindings) : this.opts.logger);
  }

  /** The latest pod object this worker was given. */
  get object(): Pod {
    return this.pod;
  }

  start(): void {
    this.actor.start();
    if (this.pod.metadata?.deletionTimestamp) this.update(this.pod);
  }

  /** A newer version of the pod object (level-based: repeating one is harmless). */
  update(pod: Pod): void {
    // A version older than the one this worker holds (its own status write's reply can overtake
    // a watch event still queued on the host) says nothing new: taking it would make the next
    // write's compare-and-set fail and its stale status look like somebody else's change.
    if (isOlderVersion(pod, this.pod)) return;
    this.pod = pod;
    // A new version from the watch or the resync proves the API server answers again: a status
    // write backing off after failures goes now instead of after the rest of its delay.
    this.wakeRetry?.();
    // Someone else changed what this kubelet wrote (the node-lifecycle controller marks the pods
    // of a node that renewed late not Ready): written again, as kubelet's status manager does.
    const mine = this.latestStatus;
    if (mine && mine === this.writtenStatus && !this.writing && !this.objectGone && !this.detached && statusDiverged(pod.status, mine)) {
      this.writtenStatus = undefined;
      this.kick();
    }
    this.actor.send({ type: 'POD_UPDATED', pod });
    if (pod.metadata?.deletionTimestamp && !this.deleting) {
      this.deleting = true;
      const graceMs = (pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000;
      this.log.info({ graceMs }, 'stopping pod (deleted)');
      this.actor.send({ type: 'DELETE', graceMs });
    }
  }

  /** The object is gone (force-deleted, or rebound elsewhere): stop at once. */
  forceStop(): void {
    this.objectGone = true;
    this.deleting = true;
    this.actor.send({ type: 'DELETE', graceMs: 0 });
  }

  /** Not being deleted nor evicted, not finished: the kubelet may still evict it. */
  get evictable(): boolean {
    return !this.deleting && !this.evicting && !this.finished;
  }

  /** The pod's emptyDirs that have a sizeLimit (none without a volumes directory). */
  limitedEmptyDirs(): LimitedEmptyDir[] {
    if (!this.volumes) return [];
    return (this.pod.spec?.volumes ?? [])
      .filter((v) => v.emptyDir?.sizeLimit !== undefined)
      .map((v) => ({ name: v.name, path: this.volumes!.pluginDir('empty-dir', v.name), sizeLimit: String(v.emptyDir!.sizeLimit) }));
  }

  /** Kubelet eviction: containers killed, pod Failed with the reason (the actor records the Event). */
  evict(reason: string, message: string): void {
    if (!this.evictable) return;
    this.evicting = true;
    this.log.info({ reason, message }, 'evicting pod');
    this.actor.send({ type: 'EVICT', reason, message });
  }

  /** Every container of the evicted pod is stopped: its volumes go (the space is what eviction frees). */
  async evicted(): Promise<void> {
    this.stopRefresh();
    await this.volumes?.tearDown().catch((e) => this.log.warn({ err: (e as Error).message }, "removing the evicted pod's volumes failed"));
  }

  /**
   * The container's mounts; the pod's volumes are set up by its first start (a failure is tried
   * again by the next), and its configMap/secret volumes then follow their objects.
   */
  private async volumeMounts(pod: Pod, containerName: string, sources: ConfigSources): Promise<Mount[]> {
    const container = pod.spec?.containers.find((c) => c.name === containerName);
    if (!this.volumes || !container || !(pod.spec?.volumes ?? []).length) return [];
    this.volumePaths ??= this.volumes.setUp(sources, (claim) => resolveClaimPath(this.opts.client, pod, claim));
    const paths = await this.volumePaths.catch((e) => {
      this.volumePaths = undefined;
      throw e instanceof RuntimeError ? e : new RuntimeError('CreateContainerConfigError', `setting up the pod's volumes failed: ${(e as Error).message}`);
    });
    if (!this.refreshTimer && this.volumes.hasConfigVolumes()) {
      this.refreshTimer = setInterval(() => void this.refreshVolumes(), this.opts.volumeRefreshMs ?? 2000);
      this.refreshTimer.unref();
    }
    const mounts = containerMounts(container, paths);
    await ensureSubPaths(mounts, container);
    return mounts;
  }

  private refreshing = false;
  private async refreshVolumes(): Promise<void> {
    if (this.refreshing || !this.volumes) return;
    this.refreshing = true;
    try {
      await this.volumes.refresh(await fetchSources(this.opts.client, this.pod));
    } catch (e) {
      this.log.debug({ err: (e as Error).message }, 'refreshing configMap/secret volumes failed; next round retries');
    } finally {
      this.refreshing = false;
    }
  }

  private stopRefresh(): void {
    clearInterval(this.refreshTimer);
    this.refreshTimer = undefined;
  }

  /** Kubelet shutdown: the actor stops; the runtime stops the containers; the pod stays bound. */
  detach(): void {
    this.stopRefresh();
    this.detached = true;
    this.actor.stop();
  }

  /** The pod's status as its actor last published it (not yet written, maybe). */
  get status(): PodStatus | undefined {
    return this.latestStatus ?? this.pod.status;
  }

  publish(status: PodStatus): void {
    if (!this.runningReported && status.phase === 'Running') {
      this.runningReported = true;
      this.opts.onRunning?.((performance.now() - this.createdAt) / 1000);
    }
    this.latestStatus = status;
    this.kick();
  }

  /** Starts the writer unless it runs; a status published while it was finishing starts it again. */
  private kick(): void {
    if (this.writing) return;
    const delay = this.opts.tuning?.statusCoalesceMs ?? 0;
    const loop = delay > 0 ? new Promise((r) => setTimeout(r, delay)).then(() => this.writeLoop()) : this.writeLoop();
    this.writing = loop.finally(() => {
      this.writing = undefined;
      if (this.wantsWrite()) this.kick();
    });
  }

  /** Cuts a failed status write's back-off short (set while it waits). */
  private wakeRetry?: () => void;

  /** One writer per pod; bursts of changes collapse into the latest status (compare-and-set, retried on Conflict). */
  private async writeLoop(): Promise<void> {
    let failures = 0;
    while (this.wantsWrite()) {
      // Waiting for a slot holds no status: the one written is the latest when the slot comes.
      const release = await this.opts.statusWrites?.acquire();
      if (!this.wantsWrite()) {
        release?.();
        return;
      }
      const status = this.latestStatus!;
      let failed: unknown;
      try {
        const written = await this.writeStatus(status);
        if (!written || written.metadata?.uid !== this.uid) this.objectGone = true;
        else if (Number(written.metadata?.resourceVersion) > Number(this.pod.metadata?.resourceVersion ?? 0)) this.pod = written as Pod;
        this.writtenStatus = status;
        failures = 0;
      } catch (e) {
        failed = e;
      } finally {
        release?.(); // never held through the back-off below
      }
      if (failed === undefined) continue;
      if (failed instanceof ApiError && failed.reason === Reason.NotFound) {
        this.objectGone = true;
        return;
      }
      this.log.warn({ err: (failed as Error).message }, 'status write failed; retrying');
      // Exponential back-off with jitter: an overloaded API server timing out a thousand pods'
      // writes must not get them all back every 200 ms (measured: 12k retries in 90 s at 1,000
      // simulated nodes, until the control plane stopped answering).
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, statusRetryDelayMs(failures++));
        this.wakeRetry = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeRetry = undefined;
    }
  }

  /** A newer status than the one written, and someone to write it to. */
  private wantsWrite(): boolean {
    return !!this.latestStatus && this.latestStatus !== this.writtenStatus && !this.objectGone && !this.detached;
  }

  /**
   * One status write. First a compare-and-set against the latest version of the pod this worker
   * knows (from the kubelet's watch or its own last write): one round trip, no read. A Conflict
   * (the object moved on, or was replaced by a namesake) falls back to read-modify-write with the
   * uid check.
   */
  private async writeStatus(status: PodStatus): Promise<KubeObject | undefined> {
    const known = this.pod;
    if (known.metadata?.uid === this.uid && known.metadata?.resourceVersion) {
      try {
        return await this.opts.client.updateStatus<KubeObject>({ ...(known as KubeObject), status });
      } catch (e) {
        if (!(e instanceof ApiError && e.reason === Reason.Conflict)) throw e;
      }
    }
    return this.opts.client.modify<KubeObject>(
      'Pod',
      known.metadata!.name!,
      known.metadata!.namespace,
      (obj) => {
        if (obj.metadata?.uid !== this.uid) return false;
        obj.status = status;
      },
      { status: true },
    );
  }

  /** All containers stopped after deletion: write the last status, remove the object, free what it held. */
  /** Every container is stopped; only the object's removal is left (the kubelet may retry it). */
  finished = false;

  async finish(): Promise<void> {
    while (this.writing) await this.writing;
    this.finished = true; // after the last status is written: users see how the containers ended
    // As the kubelet: the object goes only once the pod's volumes are cleaned up.
    this.stopRefresh();
    await this.volumes?.tearDown().catch((e) => this.log.warn({ err: (e as Error).message }, "removing the pod's volumes failed"));
    if (!this.objectGone) {
      try {
        await this.opts.client.delete('Pod', this.pod.metadata!.name!, { namespace: this.pod.metadata!.namespace, gracePeriodSeconds: 0, preconditions: { uid: this.uid } });
      } catch (e) {
        if (!(e instanceof ApiError && (e.reason === Reason.NotFound || e.reason === Reason.Conflict))) {
          // Everything is stopped; the object stays Terminating. Once this worker is gone, the
          // kubelet's next sync of the pod (a watch event or the resync) finishes the deletion.
          this.log.warn({ err: (e as Error).message }, 'removing the stopped pod failed; the next sync retries');
        }
      }
    }
    await this.opts.runtime.removePod(this.uid).catch((e) => this.log.warn({ err: (e as Error).message }, 'removing pod files failed'));
    await this.opts.podDns?.remove(this.uid).catch((e) => this.log.warn({ err: (e as Error).message }, 'removing the pod\'s resolv.conf failed'));
    this.actor.stop();
    this.log.info('pod stopped');
    this.opts.onDone();
  }
}

/**
 * The pod machine with the kubelet's effects, built once for every pod: `provide` copies the
 * whole machine definition, so one per pod cost tens of KB each at 100,000 simulated pods.
 * Each effect finds its PodWorker through the actor system of the pod actor (one per pod; its
 * children share it).
 */
const hosts = new WeakMap<AnyActorSystem, PodWorker>();
const host = (system: AnyActorSystem): PodWorker => {
  const w = hosts.get(system);
  if (!w) throw new Error('pod actor without its PodWorker');
  return w;
};
const hostedPodMachine = podMachine.provide({
  actors: {
    startContainer: fromPromise<StartContainerOutput, StartContainerInput>(({ input, system }) => host(system).startContainer(input)),
    waitContainer: fromPromise<ExitStatus, WaitContainerInput>(({ input, system }) => host(system).runtime.wait(input.containerId)),
    stopContainer: fromPromise<ExitStatus, StopContainerInput>(({ input, system }) => host(system).runtime.stop(input.containerId, input.graceMs)),
    runProbe: fromPromise<RunProbeOutput, RunProbeInput>(({ input, signal, system }) => host(system).runProbe(input, signal)),
  },
  actions: {
    publishStatus: ({ system }, status) => host(system).publish(status),
    recordEvent: ({ system }, record) => host(system).recordEvent(record),
    podFinished: ({ system }) => void host(system).finish(),
    podEvicted: ({ system }) => void host(system).evicted(),
  },
});

/**
 * Whether the stored status lost what the kubelet wrote: another phase, or a condition of
 * another truth (compared field by field: cheap on every watch event of every pod).
 */
export function statusDiverged(stored: PodStatus | undefined, mine: PodStatus): boolean {
  if (stored?.phase !== mine.phase) return true;
  for (const c of mine.conditions ?? []) if (stored?.conditions?.find((x) => x.type === c.type)?.status !== c.status) return true;
  return false;
}

/** Delay before the (n+1)-th retry of a failed status write: 200 ms doubling to 10 s, ±50% jitter. */
export function statusRetryDelayMs(failures: number, random: () => number = Math.random): number {
  return Math.min(200 * 2 ** failures, 10_000) * (0.5 + random());
}

/** Whether `pod` is an older version of the same object than `held` (resourceVersions compared as numbers, the store's revisions). */
export function isOlderVersion(pod: Pod, held: Pod): boolean {
  if (pod.metadata?.uid !== held.metadata?.uid) return false;
  const rv = Number(pod.metadata?.resourceVersion);
  const heldRv = Number(held.metadata?.resourceVersion);
  return Number.isFinite(rv) && Number.isFinite(heldRv) && rv < heldRv;
}
