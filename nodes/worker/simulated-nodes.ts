/**
 * Many simulated nodes in one process (kwok-style): each has its own kubelet — Node object,
 * Lease heartbeats, pod actors, logs endpoint — over one shared NATS connection, one shared
 * Service informer and one SimulatedRuntime per node; no container process runs anywhere.
 * Node i is `<prefix><first + i>`, its address the i-th host of `nodeNetwork`, its pod IPs
 * the i-th `/podPrefix` block of `podNetwork`.
 *
 * Shared by all nodes, so the host's cost grows with its pods rather than its nodes: one timer
 * for the Lease renewals and one for the metrics samples (each spreads the nodes evenly over
 * its period, see staggered-ticker.ts), and one paged relist of all pods per resync period
 * handed out by node, instead of one list per node (each of which the API server answers by
 * scanning every pod), and one more after each NATS reconnect.
 */
import type { NatsConnection } from 'nats';
import { ApiClient } from '../../protocol/client.js';
import { ApiError, Reason } from '../../protocol/errors.js';
import type { KubeObject } from '../../protocol/objects.js';
import { Informer } from '../controllers/informer.js';
import { formatCidr, hostAddress, parseCidr, subnet } from '../shared/cidr.js';
import type { Logger } from '../shared/logger.js';
import { StaggeredTicker } from '../shared/staggered-ticker.js';
import { SlicedQueue } from '../shared/sliced-queue.js';
import type { Pod } from '../../protocol/objects.js';
import { Kubelet } from './kubelet.js';
import { StatusWriteLimiter } from './status-write-limiter.js';
import type { PodWorkerTuning } from './pod-worker.js';
import { SimulatedRuntime, type SimulatedRuntimeOptions } from './runtime/simulated.js';
import { RelistSchedule } from '../shared/relist-schedule.js';
import { HeartbeatThread } from './heartbeat-host.js';
import { LatenessWindow, logLateness } from './heartbeat-lateness.js';

export const DEFAULT_SIM_NODE_NETWORK = '127.124.0.0/16';
export const DEFAULT_SIM_POD_NETWORK = '127.128.0.0/10';

export interface SimulatedNodesOptions {
  nc: NatsConnection;
  logger: Logger;
  count: number;
  namePrefix?: string;
  /** Number of the first node (names are `<prefix><first>` ...). */
  first?: number;
  nodeNetwork?: string;
  podNetwork?: string;
  /** Size of each node's pod block (default /24: 254 pods). */
  podPrefix?: number;
  cpu?: string;
  memory?: string;
  maxPods?: number;
  labels?: Record<string, string>;
  heartbeatMs?: number;
  statusEvery?: number;
  resyncMs?: number;
  tuning?: PodWorkerTuning;
  runtime?: SimulatedRuntimeOptions;
  /** Kubelets started at once (registration is one API call each). */
  startConcurrency?: number;
  /** How often each node publishes its metrics sample, ms (0: never). */
  metricsMs?: number;
  /**
   * Renew the Leases from a worker thread with its own connection to this NATS URL, so pod
   * work on the main thread cannot make them late (see heartbeat-thread.ts); none: on the
   * main thread, over `nc`.
   */
  heartbeatThreadNats?: string;
  /**
   * Pod watch events are handled in slices of this many ms, the NATS socket read in between
   * (default DEFAULT_SIM_EVENT_SLICE_MS; 0: in the NATS callbacks, as before).
   */
  eventSliceMs?: number;
  /** Where the `heartbeat lateness` lines of main-thread renewals go (default: logger). */
  latenessLogger?: Logger;
  /**
   * Pod status writes in flight at once, over all the nodes of this host (default
   * DEFAULT_SIM_STATUS_WRITES_INFLIGHT; 0: unbounded). See status-write-limiter.ts.
   */
  statusWritesInflight?: number;
  /** The API client's per-request timeout, ms (default 5000, ApiClient's). */
  apiTimeoutMs?: number;
}

/**
 * Half the API server's default workload seats (400): this host's status writes can never fill
 * its queue, and leave seats to the creates, binds and Events; at ~20 ms a write under load this
 * is still ~10,000 writes/s, far above what the control plane binds.
 */
export const DEFAULT_SIM_STATUS_WRITES_INFLIGHT = 200;

/** Kubernetes' kubelet defaults: Lease renewed every 10 s, Node status reported every 5 min when unchanged. */
export const DEFAULT_SIM_HEARTBEAT_MS = 10_000;
export const DEFAULT_SIM_STATUS_EVERY = 30;
/**
 * The relist of every pod, a safety net for lost watch events: every 5 min (holding 100,000
 * pods, a relist each minute was 1,700 pods a second for the API server to encode), and at
 * once after a NATS reconnect, when events were most likely lost.
 */
export const DEFAULT_SIM_RESYNC_MS = 300_000;
const RELIST_PAGE = 500;
/**
 * Keys in each simulated kubelet's Event caches: enough to bump the repeats of a node's few
 * crash-looping pods, while a thousand nodes hold at most 64,000 keys instead of every Event
 * of every pod.
 */
export const SIM_EVENT_CACHE = 64;
/**
 * Pod events are handled in slices of this many ms. Measured in-process, 5,000 pods: 10 ms
 * slices cost ~0.1 ms more CPU per pod than none, 50 ms about none; 50 ms still reads the socket
 * many times a second (nats-server's write deadline is 10 s).
 */
export const DEFAULT_SIM_EVENT_SLICE_MS = 50;

export class SimulatedNodes {
  readonly kubelets: Kubelet[] = [];
  readonly runtimes: SimulatedRuntime[] = [];
  private readonly services: Informer<KubeObject>;
  private readonly client: ApiClient;
  /** The main thread's Lease renewals (none: the heartbeat thread renews them). */
  private readonly heartbeats?: StaggeredTicker;
  private readonly heartbeatThread?: HeartbeatThread;
  private readonly stopLatenessLog?: () => void;
  private readonly metrics?: StaggeredTicker;
  private readonly byName = new Map<string, Kubelet>();
  /** Every kubelet's watch events and relisted pods, handled a slice at a time (sliced-queue.ts). */
  readonly podEvents: SlicedQueue;
  /** The periodic relist of every pod, and one after each reconnect. */
  private resyncs?: RelistSchedule;
  private stopping = false;
  /** The bound on status writes shared by every kubelet here (none: unbounded). */
  readonly statusWrites?: StatusWriteLimiter;

  constructor(private readonly opts: SimulatedNodesOptions) {
    if (!Number.isInteger(opts.count) || opts.count < 0) throw new RangeError(`node count must be a whole number, got ${opts.count}`);
    this.client = new ApiClient(opts.nc, { timeoutMs: opts.apiTimeoutMs });
    const writes = opts.statusWritesInflight ?? DEFAULT_SIM_STATUS_WRITES_INFLIGHT;
    if (writes > 0) this.statusWrites = new StatusWriteLimiter(writes);
    this.services = new Informer<KubeObject>(this.client, 'Service', { resyncMs: 30_000, logger: opts.logger });
    const nodeNet = parseCidr(opts.nodeNetwork ?? DEFAULT_SIM_NODE_NETWORK);
    const podNet = parseCidr(opts.podNetwork ?? DEFAULT_SIM_POD_NETWORK);
    const podPrefix = opts.podPrefix ?? 24;
    const first = opts.first ?? 1;
    const heartbeatMs = opts.heartbeatMs ?? DEFAULT_SIM_HEARTBEAT_MS;
    const metricsMs = opts.metricsMs ?? 5000;
    const onError = (e: unknown) => opts.logger.warn({ err: (e as Error).message }, 'periodic node job failed');
    if (opts.heartbeatThreadNats) {
      this.heartbeatThread = new HeartbeatThread(opts.heartbeatThreadNats, heartbeatMs, opts.logger);
    } else {
      const lateness = new LatenessWindow();
      this.stopLatenessLog = logLateness(lateness, opts.latenessLogger ?? opts.logger);
      this.heartbeats = new StaggeredTicker({ periodMs: heartbeatMs, onError, onLate: (ms) => lateness.record(ms) });
    }
    if (metricsMs > 0) this.metrics = new StaggeredTicker({ periodMs: metricsMs, onError });
    this.podEvents = new SlicedQueue({ sliceMs: opts.eventSliceMs ?? DEFAULT_SIM_EVENT_SLICE_MS, onError: (e) => opts.logger.error({ err: (e as Error).message }, 'handling a pod event failed') });
    const dispatch = (task: () => void) => this.podEvents.push(task);
    for (let i = 0; i < opts.count; i++) {
      const name = `${opts.namePrefix ?? 'sim-node-'}${first + i}`;
      const runtime = new SimulatedRuntime(opts.runtime);
      this.runtimes.push(runtime);
      this.kubelets.push(
        new Kubelet({
          nc: opts.nc,
          client: this.client,
          runtime,
          logger: opts.logger.child({ node: name }),
          services: this.services,
          resyncMs: opts.resyncMs ?? DEFAULT_SIM_RESYNC_MS,
          sharedResync: true,
          eventCacheSize: SIM_EVENT_CACHE,
          dispatch: opts.eventSliceMs === 0 ? undefined : dispatch,
          heartbeatTicker: this.heartbeats,
          heartbeats: this.heartbeatThread,
          metricsTicker: this.metrics,
          metricsMs,
          tuning: opts.tuning,
          statusWrites: this.statusWrites,
          config: {
            name,
            nodeIP: hostAddress(nodeNet, i),
            podCIDR: formatCidr(subnet(podNet, podPrefix, i)),
            cpu: opts.cpu ?? '4',
            memory: opts.memory ?? '8Gi',
            maxPods: opts.maxPods ?? 110,
            labels: { 'kubeact.io/simulated': 'true', ...(opts.labels ?? {}) },
            runtimeVersion: 'simulated://0.1.0',
            heartbeatMs,
            statusEvery: opts.statusEvery ?? DEFAULT_SIM_STATUS_EVERY,
          },
        }),
      );
    }
  }

  /** Registers every node; resolves when all kubelets are running. */
  async start(): Promise<void> {
    // The control plane may still be starting (the kubelets wait the same way).
    for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
      try {
        await this.services.start();
        break;
      } catch (e) {
        const unavailable = e instanceof ApiError && (e.reason === Reason.ServiceUnavailable || e.reason === Reason.Timeout);
        if (!unavailable) throw e;
        this.opts.logger.info({ retryInMs: delay }, 'waiting for the API server');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    await this.heartbeatThread?.start();
    const width = this.opts.startConcurrency ?? 50;
    for (let i = 0; i < this.kubelets.length; i += width) {
      await Promise.all(this.kubelets.slice(i, i + width).map((k) => k.start()));
    }
    for (const k of this.kubelets) this.byName.set(k.nodeName, k);
    this.resyncs = new RelistSchedule({
      nc: this.opts.nc,
      periodMs: this.opts.resyncMs ?? DEFAULT_SIM_RESYNC_MS,
      relist: () => this.resync(),
      onError: (e, retryInMs) => this.opts.logger.warn({ err: e.message, retryInMs }, 'relist of pods failed'),
    });
  }

  /** One relist of every pod, page by page, each handed to its node's kubelet (a safety net for lost watch events). */
  async resync(): Promise<void> {
    const since = Date.now();
    const listed = new Map<Kubelet, Set<string>>([...this.byName.values()].map((k) => [k, new Set<string>()]));
    let cont: string | undefined;
    do {
      const page = await this.client.list<KubeObject>('Pod', { limit: RELIST_PAGE, continue: cont });
      for (const obj of page.items) {
        const kubelet = this.byName.get((obj as Pod).spec?.nodeName ?? '');
        if (kubelet) listed.get(kubelet)!.add(kubelet.syncListed(obj as Pod));
      }
      cont = page.metadata?.continue;
    } while (cont && !this.stopping);
    if (this.stopping) return;
    for (const [kubelet, keys] of listed) kubelet.stopUnlisted(keys, since);
  }

  /** Pods with a pod actor, over all nodes. */
  get podCount(): number {
    return this.kubelets.reduce((n, k) => n + k.podCount, 0);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.resyncs?.stop();
    this.podEvents.stop();
    await Promise.all(this.kubelets.map((k) => k.stop()));
    this.heartbeats?.stop();
    this.stopLatenessLog?.();
    await this.heartbeatThread?.stop();
    this.metrics?.stop();
    this.services.stop();
  }
}
