/**
 * The kubelet of one node: registers the Node, heartbeats, and keeps one Pod actor per pod
 * bound to it. Pod sync is level-based: every watch event and every periodic resync runs the
 * same `syncPod`, so a lost or repeated event does no harm.
 */
import type { NatsConnection } from 'nats';
import type { ApiClient, Watch } from '../../protocol/client.js';
import { ownString } from '../../protocol/codec.js';
import { ApiError, Reason } from '../../protocol/errors.js';
import type { KubeObject, Pod, WatchEvent } from '../../protocol/objects.js';
import { subjects } from '../../protocol/subjects.js';
import type { Service } from 'kubernetes-types/core/v1.js';
import { Informer } from '../controllers/informer.js';
import { IpAllocator, parseCidr } from '../shared/cidr.js';
import { EventRecorder } from '../shared/events.js';
import type { Logger } from '../shared/logger.js';
import type { StaggeredTicker } from '../shared/staggered-ticker.js';
import { LocalVolumeServer } from './local-volumes.js';
import { LogsServer } from './logs-server.js';
import { MetricsSampler } from './metrics-sampler.js';
import { EmptyDirEviction } from './emptydir-eviction.js';
import { Heartbeat, registerNode, type NodeConfig } from './node-status.js';
import type { HeartbeatSink } from './heartbeat-host.js';
import type { StatusWriteLimiter } from './status-write-limiter.js';
import { PodWorker, type PodWorkerTuning } from './pod-worker.js';
import type { PodDns } from './pod-dns.js';
import { serviceEnvVars } from './service-env.js';
import type { InspectCapture } from '../inspect/capture.js';
import type { ContainerRuntime } from './runtime/types.js';

export interface KubeletOptions {
  nc: NatsConnection;
  client: ApiClient;
  runtime: ContainerRuntime;
  config: NodeConfig;
  logger: Logger;
  tuning?: PodWorkerTuning;
  /** Bound on pod status writes in flight, shared with the other kubelets of the process (none: unbounded). */
  statusWrites?: StatusWriteLimiter;
  /** Inspector capture: the actors report their transitions (none: not inspected). */
  inspect?: InspectCapture;
  /** Full relist of this node's pods (safety net for lost events), ms. */
  resyncMs?: number;
  /** Per-pod resolv.conf files (dnsPolicy, `--cluster-dns`); none: containers get no DNS files. */
  podDns?: PodDns;
  /** Root of the pods' volumes (`<dir>/<podUid>/volumes/…`); none: pods with volumes get none. */
  volumesDir?: string;
  /** Where this node keeps local-path provisioned volumes (none: the node does not serve them). */
  localVolumesDir?: string;
  /** How often container and node usage is sampled and published, ms (0: never). */
  metricsMs?: number;
  /** How often emptyDirs with a sizeLimit are measured (eviction over the limit), ms (0: never). */
  volumeStatsMs?: number;
  /**
   * A Service informer shared by many kubelets of one process (simulated nodes); started and
   * stopped by its owner. Without it the kubelet runs its own.
   */
  services?: Informer<KubeObject>;
  /** Shared timers of many kubelets in one process (simulated nodes); none: each has its own. */
  heartbeatTicker?: StaggeredTicker;
  metricsTicker?: StaggeredTicker;
  /** Renews this node's Lease instead of the kubelet (simulated nodes: their heartbeat thread). */
  heartbeats?: HeartbeatSink;
  /**
   * The owner relists for many kubelets at once (one list instead of one per node) and hands
   * each its pods (`syncListed`, `stopUnlisted`); the kubelet then runs no resync timer.
   */
  sharedResync?: boolean;
  /**
   * Runs the handling of each watch event and relisted pod (a host's SlicedQueue, shared by its
   * kubelets: a burst is handled a slice at a time, the socket read in between). None: at once,
   * in the NATS callback. Order is kept either way.
   */
  dispatch?: (task: () => void) => void;
  /**
   * Keys each of this kubelet's Event caches holds (the repeats it bumps, the spam filter's
   * buckets); default client-go's 4096. Simulated nodes keep fewer: a thousand kubelets of 4096
   * each were no bound at all, every pod's Events stayed cached (~3 KB a pod).
   */
  eventCacheSize?: number;
  /** Told each pod's start latency: from the kubelet taking the pod on to phase Running, seconds. */
  onPodRunning?: (seconds: number) => void;
}

export class Kubelet {
  private readonly workers = new Map<string, PodWorker>();
  /** When each worker was created (a relist that began later and lacks its pod means the pod is gone). */
  private readonly createdAt = new WeakMap<PodWorker, number>();
  private readonly ips: IpAllocator;
  private readonly heartbeat: Pick<Heartbeat, 'start' | 'stop'>;
  private readonly logs: LogsServer;
  private readonly localVolumes?: LocalVolumeServer;
  private readonly events: EventRecorder;
  private readonly emptyDirEviction: EmptyDirEviction;
  readonly metrics: MetricsSampler;
  /** Every Service (the kubelet's view, for the pods' discovery variables). */
  private readonly services: Informer<KubeObject>;
  private watch?: Watch;
  private resyncTimer?: NodeJS.Timeout;
  private stopping = false;
  private readonly log: Logger;

  constructor(private readonly opts: KubeletOptions) {
    this.log = opts.logger;
    this.ips = new IpAllocator(parseCidr(opts.config.podCIDR));
    this.heartbeat = opts.heartbeats ? handedTo(opts.heartbeats, opts.config) : new Heartbeat(opts.client, opts.config, opts.logger, opts.heartbeatTicker);
    this.logs = new LogsServer(opts.nc, opts.client, opts.runtime, opts.config.name, opts.logger);
    if (opts.localVolumesDir) this.localVolumes = new LocalVolumeServer(opts.nc, opts.config.name, opts.localVolumesDir, opts.logger);
    this.events = new EventRecorder(opts.client, { component: 'kubelet', host: opts.config.name }, opts.logger, { cacheSize: opts.eventCacheSize });
    this.metrics = new MetricsSampler({
      nc: opts.nc,
      runtime: opts.runtime,
      nodeName: opts.config.name,
      pods: () => this.workers.values(),
      intervalMs: opts.metricsMs ?? 5000,
      logger: opts.logger,
      ticker: opts.metricsTicker,
    });
    this.emptyDirEviction = new EmptyDirEviction({ pods: () => this.workers.values(), intervalMs: opts.volumeStatsMs ?? 10_000, logger: opts.logger });
    this.services = opts.services ?? new Informer<KubeObject>(opts.client, 'Service', { resyncMs: 30_000, logger: opts.logger });
  }

  get nodeName(): string {
    return this.opts.config.name;
  }

  /** The pods this kubelet runs now (Prometheus reads its gauges from them). */
  pods(): Iterable<PodWorker> {
    return this.workers.values();
  }

  get podCount(): number {
    return this.workers.size;
  }

  async start(): Promise<void> {
    const leftovers = await this.opts.runtime.recover();
    if (leftovers.length) this.log.info({ containers: leftovers.length }, 'stopped containers left by a previous kubelet');
    await this.untilApiAnswers(() => registerNode(this.opts.client, this.opts.config, this.log));
    if (leftovers.length && this.opts.runtime.removeOrphans) await this.removeOrphans();
    this.heartbeat.start();
    this.logs.start();
    this.localVolumes?.start();
    this.metrics.start();
    if (this.opts.volumesDir) this.emptyDirEviction.start();
    // Services before pods, as the kubelet waits for its service informer: a pod's first
    // container gets the variables of the Services that exist (service-env.ts).
    if (!this.opts.services) await this.untilApiAnswers(() => this.services.start());
    this.watch = await this.untilApiAnswers(() => this.opts.client.watch<KubeObject>(
      'Pod',
      // Shared resync: the owner relists for every node at once, also after an API server restart.
      { fieldSelector: `spec.nodeName=${this.nodeName}`, subject: subjects.nodePods(this.nodeName), relistOnApiServerStart: !this.opts.sharedResync },
      (ev) => this.onEvent(ev),
    ));
    if (this.opts.sharedResync) {
      this.log.info({ node: this.nodeName, podCIDR: this.opts.config.podCIDR }, 'kubelet ready');
      return;
    }
    const resync = async () => {
      if (this.stopping) return;
      await this.resync().catch((e) => this.log.warn({ err: (e as Error).message }, 'resync failed'));
      if (!this.stopping) this.resyncTimer = setTimeout(resync, this.opts.resyncMs ?? 10_000);
    };
    this.resyncTimer = setTimeout(resync, this.opts.resyncMs ?? 10_000);
    this.log.info({ node: this.nodeName, podCIDR: this.opts.config.podCIDR }, 'kubelet ready');
  }

  /**
   * Containers a previous kubelet left running for pods that are gone (or being deleted) are
   * removed; the others wait for their pod's worker to adopt them (runtime.adopt).
   */
  private async removeOrphans(): Promise<void> {
    try {
      const list = await this.untilApiAnswers(() => this.opts.client.list<KubeObject>('Pod', { fieldSelector: `spec.nodeName=${this.nodeName}` }));
      const keep = new Set(list.items.filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.metadata!.uid!));
      await this.opts.runtime.removeOrphans!(keep);
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'removing orphaned containers failed');
    }
  }

  /** The control plane may start after us, or be restarting: wait for it, saying so. */
  private async untilApiAnswers<T>(call: () => Promise<T>): Promise<T> {
    for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
      try {
        return await call();
      } catch (e) {
        const unavailable = e instanceof ApiError && (e.reason === Reason.ServiceUnavailable || e.reason === Reason.Timeout);
        if (!unavailable || this.stopping) throw e;
        this.log.info({ retryInMs: delay }, 'waiting for the API server');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** Kubelet shutdown (not node deletion): containers stop, the pods stay bound to the node. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.resyncTimer);
    this.watch?.stop();
    if (!this.opts.services) this.services.stop();
    this.heartbeat.stop();
    this.logs.stop();
    this.localVolumes?.stop();
    this.metrics.stop();
    await this.emptyDirEviction.stop();
    for (const w of this.workers.values()) w.detach();
    await this.opts.runtime.close();
    await this.events.flush();
  }

  private onEvent(ev: WatchEvent<KubeObject>): void {
    if (this.stopping) return;
    this.dispatch(() => {
      if (this.stopping) return;
      const pod = ev.object as Pod;
      if (ev.type === 'DELETED') this.podGone(pod);
      else this.syncPod(pod);
    });
  }

  private dispatch(task: () => void): void {
    if (this.opts.dispatch) this.opts.dispatch(task);
    else task();
  }

  /** Brings one pod's actor in line with the pod object (create, update, delete). */
  private syncPod(pod: Pod): void {
    const uid = pod.metadata!.uid!;
    const found = podKey(pod);
    const existing = this.workers.get(found);
    if (existing && existing.uid !== uid) {
      // Same name, new pod: the old one is gone from the store.
      existing.forceStop();
    }
    if (pod.spec?.nodeName !== this.nodeName) {
      if (existing?.uid === uid) existing.forceStop();
      return;
    }
    const worker = existing?.uid === uid ? existing : undefined;
    if (worker && !(worker.finished && pod.metadata?.deletionTimestamp)) {
      worker.update(pod);
      return;
    }
    const phase = pod.status?.phase;
    if (pod.metadata?.deletionTimestamp) {
      // Nothing runs here for it (e.g. after a kubelet restart): finish the deletion.
      void this.opts.client.delete('Pod', pod.metadata.name!, { namespace: pod.metadata.namespace, gracePeriodSeconds: 0, preconditions: { uid } })
        .catch((e) => this.log.debug({ pod: found, err: (e as Error).message }, 'removing a stopped pod failed; the next sync retries'));
      return;
    }
    if (phase === 'Succeeded' || phase === 'Failed') return; // finished pods are not run again
    // Kept for the pod's life (map key, log bindings): not a rope over this message's strings.
    const key = ownString(found);
    const podIP = this.ips.allocate(pod.status?.podIP);
    const created = new PodWorker({
      pod,
      podIP,
      hostIP: this.opts.config.nodeIP,
      nodeName: this.nodeName,
      client: this.opts.client,
      runtime: this.opts.runtime,
      events: this.events,
      logger: this.log,
      logBindings: { pod: key },
      tuning: this.opts.tuning,
      statusWrites: this.opts.statusWrites,
      podDns: this.opts.podDns,
      inspect: this.opts.inspect,
      volumesDir: this.opts.volumesDir,
      serviceEnv: (p) => serviceEnvVars(this.services.list() as Service[], p.metadata?.namespace ?? 'default', p.spec?.enableServiceLinks),
      onRunning: this.opts.onPodRunning,
      onDone: () => {
        if (this.workers.get(key) === created) this.workers.delete(key);
        this.ips.release(podIP);
      },
    });
    this.workers.set(key, created);
    this.createdAt.set(created, Date.now());
    created.start();
  }

  private podGone(pod: Pod): void {
    const w = this.workers.get(podKey(pod));
    if (w && w.uid === pod.metadata?.uid) w.forceStop();
  }

  private async resync(): Promise<void> {
    const since = Date.now();
    const list = await this.opts.client.list<KubeObject>('Pod', { fieldSelector: `spec.nodeName=${this.nodeName}` });
    const seen = new Set<string>();
    for (const obj of list.items) seen.add(this.syncListed(obj as Pod));
    this.stopUnlisted(seen, since);
  }

  /** A pod from a relist (shared or own): synced as a watch event would be; returns its key. */
  syncListed(pod: Pod): string {
    if (!this.stopping) this.dispatch(() => !this.stopping && this.syncPod(pod));
    return podKey(pod);
  }

  /**
   * After a relist that began at `since`: pods it did not list are gone. A worker created after
   * `since` is left alone — a paged list reads the live cache, so a pod created meanwhile may
   * be behind its cursor.
   */
  stopUnlisted(listed: ReadonlySet<string>, since: number): void {
    // Dispatched: after the listed pods (and the watch events queued before them) are handled.
    this.dispatch(() => {
      if (this.stopping) return;
      for (const [key, w] of this.workers) if (!listed.has(key) && (this.createdAt.get(w) ?? 0) < since) w.forceStop();
    });
  }
}

/** The heartbeat of a node handed to someone else (a heartbeat thread). */
function handedTo(sink: HeartbeatSink, config: NodeConfig): Pick<Heartbeat, 'start' | 'stop'> {
  let remove: (() => void) | undefined;
  return {
    start: () => void (remove ??= sink.add(config)),
    stop: () => {
      remove?.();
      remove = undefined;
    },
  };
}

function podKey(pod: Pod): string {
  return `${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name}`;
}
