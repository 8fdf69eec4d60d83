/**
 * A kubelet in the test's process on the simulated runtime (no containers run), registered as
 * node `name` against a test API server: for tests of what a kubelet writes and keeps.
 */
import { Kubelet, type KubeletOptions } from '../../nodes/worker/kubelet.js';
import { SimulatedRuntime } from '../../nodes/worker/runtime/simulated.js';
import { silentLogger } from '../../nodes/shared/logger.js';
import type { TestApiServer } from './apiserver.js';
import type { Block } from './blocks.js';

export async function startSimulatedKubelet(api: TestApiServer, block: Block, name: string, extra: Partial<KubeletOptions> = {}): Promise<Kubelet> {
  const kubelet = new Kubelet({
    nc: api.nc,
    client: api.client,
    runtime: new SimulatedRuntime(),
    logger: silentLogger(),
    metricsMs: 0,
    ...extra,
    config: {
      name,
      nodeIP: block.nodeNetwork.split('/')[0].replace(/\.0$/, '.1'),
      podCIDR: block.podNetwork,
      cpu: '4',
      memory: '8Gi',
      maxPods: 10,
      labels: {},
      runtimeVersion: 'simulated://test',
      heartbeatMs: 1000,
      statusEvery: 30,
    },
  });
  await kubelet.start();
  return kubelet;
}
