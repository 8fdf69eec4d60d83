/**
 * The controller-manager: shared informers, and the controllers that keep the cluster at
 * its desired state — ReplicaSet and Deployment actors, node lifecycle, garbage collection,
 * Endpoints of Services, LoadBalancer addresses, HorizontalPodAutoscalers.
 * Runs inside the control-plane process; every controller is level-based.
 */
import type { NatsConnection } from 'nats';
import type { ApiClient } from '../../protocol/client.js';
import type { Kind } from '../../protocol/kinds.js';
import type { KubeObject } from '../../protocol/objects.js';
import { EventRecorder } from '../shared/events.js';
import type { Logger } from '../shared/logger.js';
import type { InspectCapture } from '../inspect/capture.js';
import { EndpointsController } from './endpoints-controller.js';
import { GarbageCollector } from './garbage-collector.js';
import { HpaHost } from './hpa-host.js';
import { Informer, type InformerSource } from './informer.js';
import { LoadBalancerController } from './load-balancer.js';
import { NodeLifecycleHost } from './node-lifecycle-host.js';
import { SnapshotStore } from './snapshots.js';
import { ensureDefaultStorageClass } from './storage-class-default.js';
import { VolumeBinder } from './volume-binder.js';
import { WorkloadsHost } from './workloads-host.js';

export interface ControllerManagerOptions {
  nc: NatsConnection;
  client: ApiClient;
  logger: Logger;
  /** No lease renewal for this long → the node is unreachable (Kubernetes: 40 s). */
  nodeMonitorGraceMs?: number;
  /** Unreachable this long → its pods are evicted (Kubernetes: 300 s toleration). */
  podEvictionTolerationMs?: number;
  resyncMs?: number;
  /** `--load-balancer-pool`: LoadBalancer Services get their address from this block (none: they stay pending). */
  loadBalancerPool?: string;
  /** Inspector capture: the actors report their transitions (none: not inspected). */
  inspect?: InspectCapture;
  /** HorizontalPodAutoscaler controller: sync period, default scale-down window, tolerance. */
  hpa?: { syncPeriodMs?: number; downscaleStabilizationMs?: number; tolerance?: number };
  /** The API server's cache in this process (nodes/controlplane/local-sources.ts): informers share its objects instead of watching over NATS. */
  sources?: (kind: Kind) => InformerSource;
  /** Create the default `local-path` StorageClass at start when missing (default true). */
  defaultStorageClass?: boolean;
}

export class ControllerManager {
  readonly pods: Informer<KubeObject>;
  readonly nodes: Informer<KubeObject>;
  readonly leases: Informer<KubeObject>;
  readonly replicaSets: Informer<KubeObject>;
  readonly deployments: Informer<KubeObject>;
  readonly services: Informer<KubeObject>;
  readonly endpoints: Informer<KubeObject>;
  readonly claims: Informer<KubeObject>;
  readonly volumes: Informer<KubeObject>;
  readonly storageClasses: Informer<KubeObject>;
  private readonly volumeBinder: VolumeBinder;
  private readonly events: EventRecorder;
  private readonly endpointsController: EndpointsController;
  private readonly loadBalancers?: LoadBalancerController;
  private readonly nodeLifecycle: NodeLifecycleHost;
  private readonly gc: GarbageCollector;
  readonly snapshots: SnapshotStore;
  private readonly workloads: WorkloadsHost;
  private readonly hpa: HpaHost;

  constructor(private readonly opts: ControllerManagerOptions) {
    const { client, logger } = opts;
    const resyncMs = opts.resyncMs ?? 30_000;
    const inf = (kind: 'Pod' | 'Node' | 'Lease' | 'ReplicaSet' | 'Deployment' | 'Service' | 'Endpoints' | 'PersistentVolumeClaim' | 'PersistentVolume' | 'StorageClass') => new Informer<KubeObject>(client, kind, { resyncMs, logger, source: opts.sources?.(kind) });
    this.pods = inf('Pod');
    this.nodes = inf('Node');
    this.leases = inf('Lease');
    this.replicaSets = inf('ReplicaSet');
    this.deployments = inf('Deployment');
    this.services = inf('Service');
    this.endpoints = inf('Endpoints');
    this.claims = inf('PersistentVolumeClaim');
    this.volumes = inf('PersistentVolume');
    this.storageClasses = inf('StorageClass');
    this.events = new EventRecorder(client, { component: 'controller-manager' }, logger);
    this.snapshots = new SnapshotStore(logger.child({ component: 'snapshots' }));
    this.nodeLifecycle = new NodeLifecycleHost({
      client,
      nodes: this.nodes,
      leases: this.leases,
      pods: this.pods,
      events: this.events,
      logger: logger.child({ controller: 'node-lifecycle' }),
      gracePeriodMs: opts.nodeMonitorGraceMs ?? 3000,
      evictionTolerationMs: opts.podEvictionTolerationMs ?? 1000,
      inspect: opts.inspect,
    });
    this.gc = new GarbageCollector({ client, dependents: [this.replicaSets, this.pods], owners: [this.replicaSets, this.deployments], nodes: this.nodes, logger: logger.child({ controller: 'garbage-collector' }) });
    this.endpointsController = new EndpointsController({
      client,
      services: this.services,
      pods: this.pods,
      endpoints: this.endpoints,
      events: this.events,
      logger: logger.child({ controller: 'endpoints' }),
    });
    if (opts.loadBalancerPool) {
      this.loadBalancers = new LoadBalancerController({
        client,
        pool: opts.loadBalancerPool,
        services: this.services,
        events: this.events,
        logger: logger.child({ controller: 'load-balancer' }),
      });
    }
    this.volumeBinder = new VolumeBinder({
      client,
      claims: this.claims,
      volumes: this.volumes,
      classes: this.storageClasses,
      pods: this.pods,
      nodes: this.nodes,
      events: this.events,
      logger: logger.child({ controller: 'persistentvolume' }),
    });
    this.workloads = new WorkloadsHost({
      client,
      pods: this.pods,
      replicaSets: this.replicaSets,
      deployments: this.deployments,
      events: this.events,
      snapshots: this.snapshots,
      logger,
      inspect: opts.inspect,
    });
    // Its Events come `From horizontal-pod-autoscaler`, as kube-controller-manager's HPA controller names itself.
    const hpaEvents = new EventRecorder(client, { component: 'horizontal-pod-autoscaler' }, logger);
    this.hpa = new HpaHost({ client, pods: this.pods, events: hpaEvents, snapshots: this.snapshots, logger, resyncMs, inspect: opts.inspect, ...opts.hpa });
  }

  async start(): Promise<void> {
    await this.snapshots.open(this.opts.nc.jetstream());
    // Informers first (each lists before it resolves), so every controller starts from a full cache.
    await Promise.all(this.informers().map((i) => i.start()));
    this.deployments.on({ delete: (d) => this.gc.ownerDeleted(d) });
    this.replicaSets.on({ delete: (rs) => this.gc.ownerDeleted(rs) });
    await this.workloads.start();
    await this.hpa.start();
    this.nodeLifecycle.start();
    this.gc.start();
    this.endpointsController.start();
    await this.loadBalancers?.start();
    if (this.opts.defaultStorageClass !== false) await ensureDefaultStorageClass(this.opts.client, this.opts.logger);
    this.volumeBinder.start();
    this.opts.logger.info('controller-manager ready');
  }

  async stop(): Promise<void> {
    this.gc.stop();
    this.endpointsController.stop();
    this.volumeBinder.stop();
    this.loadBalancers?.stop();
    this.nodeLifecycle.stop();
    await this.hpa.stop();
    await this.workloads.stop();
    for (const i of this.informers()) i.stop();
    await this.snapshots.flush();
    await this.events.flush();
  }

  private informers(): Informer<KubeObject>[] {
    return [this.nodes, this.leases, this.pods, this.replicaSets, this.deployments, this.services, this.endpoints, this.claims, this.volumes, this.storageClasses];
  }

  nodeStates(): Record<string, string> {
    return this.nodeLifecycle.states();
  }
}
