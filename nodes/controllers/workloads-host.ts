/** The ReplicaSet and Deployment controllers together, with their periodic resync. */
import type { ApiClient } from '../../protocol/client.js';
import type { KubeObject } from '../../protocol/objects.js';
import type { EventRecorder } from '../shared/events.js';
import type { Logger } from '../shared/logger.js';
import { DeploymentController } from './deployment-controller.js';
import type { Informer } from './informer.js';
import { ReplicaSetController } from './replicaset-controller.js';
import type { SnapshotStore } from './snapshots.js';
import type { InspectCapture } from '../inspect/capture.js';

export interface WorkloadsHostOptions {
  client: ApiClient;
  pods: Informer<KubeObject>;
  replicaSets: Informer<KubeObject>;
  deployments: Informer<KubeObject>;
  events: EventRecorder;
  snapshots: SnapshotStore;
  logger: Logger;
  resyncMs?: number;
  /** Inspector capture: the actors report their transitions (none: not inspected). */
  inspect?: InspectCapture;
}

export class WorkloadsHost {
  private readonly rs: ReplicaSetController;
  private readonly deploy: DeploymentController;
  private timer?: NodeJS.Timeout;

  constructor(private readonly opts: WorkloadsHostOptions) {
    this.rs = new ReplicaSetController(opts);
    this.deploy = new DeploymentController(opts);
  }

  async start(): Promise<void> {
    await this.rs.start();
    await this.deploy.start();
    const tick = () => {
      this.rs.resync();
      this.deploy.resync();
      this.timer = setTimeout(tick, this.opts.resyncMs ?? 1000);
    };
    this.timer = setTimeout(tick, this.opts.resyncMs ?? 1000);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.rs.stop();
    this.deploy.stop();
  }
}
