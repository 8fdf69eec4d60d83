/**
 * Many simulated nodes in one process (kwok-style): each has its own kubelet — Node object,
 * Lease heartbeats, pod actors, logs endpoint — over one shared NATS connection, one shared
 * Service informer and one SimulatedRuntime per node; no container process runs anywhere.
 * Node i is `<prefix><first + i>`, its address the i-th host of `nodeNetwork`, its pod IPs
 * the i-th `/podPrefix` block of `podNetwork`.
 */
import type { NatsConnection } from 'nats';
import { ApiClient } from '../../protocol/client.js';
import { ApiError, Reason } from '../../protocol/errors.js';
import type { KubeObject } from '../../protocol/objects.js';
import { Informer } from '../controllers/informer.js';
import { formatCidr, hostAddress, parseCidr, subnet } from '../shared/cidr.js';
import type { Logger } from '../shared/logger.js';
import { Kubelet } from './kubelet.js';
import type { PodWorkerTuning } from './pod-worker.js';
import { SimulatedRuntime, type SimulatedRuntimeOptions } from './runtime/simulated.js';

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
}

export class SimulatedNodes {
  readonly kubelets: Kubelet[] = [];
  readonly runtimes: SimulatedRuntime[] = [];
  private readonly services: Informer<KubeObject>;
  private readonly client: ApiClient;

  constructor(private readonly opts: SimulatedNodesOptions) {
    if (!Number.isInteger(opts.count) || opts.count < 0) throw new RangeError(`node count must be a whole number, got ${opts.count}`);
    this.client = new ApiClient(opts.nc);
    this.services = new Informer<KubeObject>(this.client, 'Service', { resyncMs: 30_000, logger: opts.logger });
    const nodeNet = parseCidr(opts.nodeNetwork ?? DEFAULT_SIM_NODE_NETWORK);
    const podNet = parseCidr(opts.podNetwork ?? DEFAULT_SIM_POD_NETWORK);
    const podPrefix = opts.podPrefix ?? 24;
    const first = opts.first ?? 1;
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
          resyncMs: opts.resyncMs ?? 60_000,
          tuning: opts.tuning,
          config: {
            name,
            nodeIP: hostAddress(nodeNet, i),
            podCIDR: formatCidr(subnet(podNet, podPrefix, i)),
            cpu: opts.cpu ?? '4',
            memory: opts.memory ?? '8Gi',
            maxPods: opts.maxPods ?? 110,
            labels: { 'kubeact.io/simulated': 'true', ...(opts.labels ?? {}) },
            runtimeVersion: 'simulated://0.1.0',
            heartbeatMs: opts.heartbeatMs ?? 5000,
            statusEvery: opts.statusEvery ?? 6,
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
    const width = this.opts.startConcurrency ?? 50;
    for (let i = 0; i < this.kubelets.length; i += width) {
      await Promise.all(this.kubelets.slice(i, i + width).map((k) => k.start()));
    }
  }

  /** Pods with a pod actor, over all nodes. */
  get podCount(): number {
    return this.kubelets.reduce((n, k) => n + k.podCount, 0);
  }

  async stop(): Promise<void> {
    await Promise.all(this.kubelets.map((k) => k.stop()));
    this.services.stop();
  }
}
