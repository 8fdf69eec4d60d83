/**
 * Heartbeats first: simulated nodes hosted in this process renew their Leases from the heartbeat
 * thread, so a main thread blocked longer than the node-monitor grace period (by pod work, GC)
 * loses no node. A real cluster (nats-server and control plane as processes, grace 3 s); the
 * nodes renew every 500 ms; this test's own event loop is then blocked for 6 s. Renewing on the
 * main thread, the control plane would mark the nodes Ready=Unknown and taint them unreachable.
 */
import t from 'tap';
import type { KubeObject } from '../protocol/objects.js';
import { silentLogger } from '../nodes/shared/logger.js';
import { SimulatedNodes } from '../nodes/worker/simulated-nodes.js';
import { startCluster } from './helpers/cluster.js';

const GRACE_MS = 3000;
const BLOCK_MS = 6000;
const started = Date.now();
const cluster = await startCluster({ nodes: 0, controlPlaneArgs: ['--node-monitor-grace-ms', String(GRACE_MS)], timeoutMs: 60_000 });
t.teardown(cluster.stop);
t.teardown(() => t.comment(`simulated-heartbeat-thread: ${((Date.now() - started) / 1000).toFixed(1)} s including cluster start`));
const { client } = cluster;

const hosts = new SimulatedNodes({
  nc: cluster.nc,
  logger: silentLogger(),
  count: 2,
  namePrefix: 'hb-node-',
  nodeNetwork: cluster.block.nodeNetwork,
  podNetwork: cluster.block.podNetwork,
  podPrefix: 26,
  heartbeatMs: 500,
  statusEvery: 1,
  metricsMs: 0,
  heartbeatThreadNats: cluster.ctx.natsUrl,
});
t.teardown(() => hosts.stop());

const ready = (n: KubeObject | undefined) => (n?.status?.conditions as { type: string; status: string; lastTransitionTime: string }[] | undefined)?.find((c) => c.type === 'Ready');

t.test('a main thread blocked past the grace period loses no node', async (t) => {
  await hosts.start();
  const names = ['hb-node-1', 'hb-node-2'];
  const before = await Promise.all(names.map((n) => client.waitFor<KubeObject>('Node', n, undefined, (node) => ready(node)?.status === 'True', 30_000)));
  const blockedAt = Date.now();
  while (Date.now() - blockedAt < BLOCK_MS); // the pod work of a host at its limit, in one piece
  const after = await Promise.all(names.map((n) => client.get<KubeObject>('Node', n)));
  for (const [i, node] of after.entries()) {
    t.equal(ready(node)?.status, 'True', `${names[i]} is still Ready`);
    t.equal(ready(node)?.lastTransitionTime, ready(before[i])?.lastTransitionTime, `${names[i]} never left Ready`);
    t.notOk((node.spec?.taints as { key: string }[] | undefined)?.some((x) => x.key === 'node.kubernetes.io/unreachable'), `${names[i]} is not tainted unreachable`);
  }
});
