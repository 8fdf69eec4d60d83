/**
 * The HPA controller on a test API server, wired as the control plane wires it: a metrics
 * server, a pod informer, actor snapshots, an Event recorder and the HpaHost. stop() stops
 * what it started (not the API server).
 */
import { HpaHost, type HpaHostOptions } from '../../nodes/controllers/hpa-host.js';
import { Informer } from '../../nodes/controllers/informer.js';
import { SnapshotStore } from '../../nodes/controllers/snapshots.js';
import { MetricsServer } from '../../nodes/metrics/server.js';
import { EventRecorder } from '../../nodes/shared/events.js';
import { silentLogger } from '../../nodes/shared/logger.js';
import type { KubeObject } from '../../protocol/objects.js';
import type { TestApiServer } from './apiserver.js';

export interface TestHpaController {
  host: HpaHost;
  stop(): Promise<void>;
}

export async function startHpaController(
  api: TestApiServer,
  opts: Pick<HpaHostOptions, 'syncPeriodMs' | 'downscaleStabilizationMs' | 'tolerance' | 'inspect'> = {},
): Promise<TestHpaController> {
  const { nc, client } = api;
  const metrics = new MetricsServer({ nc, logger: silentLogger() });
  metrics.start();
  const pods = new Informer<KubeObject>(client, 'Pod', { resyncMs: 60_000 });
  await pods.start();
  const snapshots = new SnapshotStore(silentLogger());
  await snapshots.open(nc.jetstream());
  const events = new EventRecorder(client, { component: 'horizontal-pod-autoscaler' });
  const host = new HpaHost({ client, pods, events, snapshots, logger: silentLogger(), ...opts });
  await host.start();
  return {
    host,
    async stop() {
      await host.stop();
      pods.stop();
      metrics.stop();
    },
  };
}
