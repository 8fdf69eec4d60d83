/**
 * Simulated nodes end to end: `kubeact up` with 50 simulated nodes (one extra process, no
 * container processes) and a real control plane; a Deployment's pods are scheduled across
 * them and reach Running, `kubeact get nodes` lists them Ready, and scaling to zero removes
 * every pod. The host relists every 1.5 s here (one shared paged list handed out by node), so
 * pods created and deleted while it lists must come through it unharmed. Waits are on watch
 * events with deadlines.
 */
import t from 'tap';
import type { KubeObject, Pod } from '../protocol/objects.js';
import { startCluster } from './helpers/cluster.js';

const NODES = 50;
const REPLICAS = 100;
const started = Date.now();
const cluster = await startCluster({
  nodes: 0,
  simulatedNodes: NODES,
  // startCluster gives them the test's own loopback block: addresses from its /24, pod IPs a /26 per node of its /20.
  simulatedPodPrefix: 26,
  simulatedArgs: ['--heartbeat-ms', '2000', '--start-delay-ms', '20', '--resync-ms', '1500'],
  timeoutMs: 90_000,
});
t.teardown(cluster.stop);
t.teardown(() => t.comment(`simulated-nodes: ${((Date.now() - started) / 1000).toFixed(1)} s including cluster start`));
const { client, kubeact } = cluster;

/** Resolves with the pods once `predicate` holds for the pods labelled app=<app> (watch-based). */
async function waitForPods(app: string, predicate: (pods: Pod[]) => boolean, timeoutMs: number): Promise<Pod[]> {
  const pods = new Map<string, Pod>();
  let settle!: () => void;
  const done = new Promise<void>((r) => (settle = r));
  const watch = await client.watch<KubeObject>('Pod', { namespace: 'default', labelSelector: `app=${app}` }, (ev) => {
    if (ev.type === 'DELETED') pods.delete(ev.object.metadata!.name!);
    else pods.set(ev.object.metadata!.name!, ev.object as Pod);
    if (predicate([...pods.values()])) settle();
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    if (!predicate([...pods.values()])) {
      await Promise.race([
        done,
        new Promise((_, reject) => {
          const phases = () => JSON.stringify([...pods.values()].reduce<Record<string, number>>((m, p) => ((m[p.status?.phase ?? 'none'] = (m[p.status?.phase ?? 'none'] ?? 0) + 1), m), {}));
          timer = setTimeout(() => reject(new Error(`timed out; pods by phase: ${phases()}`)), timeoutMs);
        }),
      ]);
    }
    return [...pods.values()];
  } finally {
    clearTimeout(timer);
    watch.stop();
  }
}

t.test('simulated nodes register, are Ready and say they are simulated', async (t) => {
  const res = await kubeact(['get', 'nodes', '-o', 'wide']);
  t.equal(res.code, 0, res.stderr);
  const lines = res.stdout.trim().split('\n');
  t.equal(lines.length, NODES + 1, 'a header and one line per node');
  const rows = lines.slice(1).map((l) => l.split(/\s+/));
  t.equal(rows.filter((r) => r[1] === 'Ready').length, NODES, 'every simulated node is Ready');
  t.match(res.stdout, /simulated:\/\/0\.1\.0/, 'CONTAINER-RUNTIME shows the simulated runtime');
  const node = await client.get<KubeObject>('Node', 'sim-node-1');
  t.equal(node.metadata?.labels?.['kubeact.io/simulated'], 'true');
  t.equal(node.spec?.podCIDR, `${cluster.block.podNetwork.split('/')[0]}/26`, 'pod IPs come from the test\'s block');
});

t.test('every node renews its own Lease (one shared timer in the host)', async (t) => {
  const leases = (await client.list<KubeObject>('Lease', { namespace: 'kube-node-lease' })).items.filter((l) => l.metadata!.name!.startsWith('sim-node-'));
  t.equal(leases.length, NODES, 'a Lease per simulated node');
  t.ok(leases.every((l) => l.spec?.holderIdentity === l.metadata?.name && l.spec?.leaseDurationSeconds === 8), 'held by its node, 4 heartbeats long');
  const renewed = (await client.get<KubeObject>('Lease', 'sim-node-1', 'kube-node-lease')).spec?.renewTime;
  const later = await client.waitFor<KubeObject>('Lease', 'sim-node-1', 'kube-node-lease', (l) => l?.spec?.renewTime !== renewed, 20_000);
  t.ok(Date.parse(later!.spec!.renewTime) > Date.parse(renewed), 'renewed again');
});

t.test(`a Deployment of ${REPLICAS} pods runs on the simulated nodes and scales to zero`, async (t) => {
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'sim', namespace: 'default' },
    spec: {
      replicas: REPLICAS,
      selector: { matchLabels: { app: 'sim' } },
      template: {
        metadata: { labels: { app: 'sim' } },
        spec: { containers: [{ name: 'main', image: 'nginx:1.27', resources: { requests: { cpu: '100m', memory: '64Mi' } } }] },
      },
    },
  };
  await client.create(deployment as KubeObject);
  const pods = await waitForPods('sim', (ps) => ps.length === REPLICAS && ps.every((p) => p.status?.phase === 'Running'), 45_000);
  const nodes = new Set(pods.map((p) => p.spec?.nodeName));
  t.ok(nodes.size >= 25, `pods spread over ${nodes.size} of ${NODES} nodes`);
  t.ok(pods.every((p) => p.status?.podIP?.startsWith(cluster.block.podNetwork.split('.').slice(0, 2).join('.'))), 'pod IPs are in the test\'s pod block');
  const notRunning = pods.filter((p) => !p.status?.containerStatuses?.[0]?.state?.running);
  t.same(notRunning.map((p) => p.status), [], 'every container reports running');

  const res = await kubeact(['scale', 'deployment', 'sim', '--replicas', '0']);
  t.equal(res.code, 0, res.stderr);
  await waitForPods('sim', (ps) => ps.length === 0, 45_000);
  t.pass('every pod is gone');
});
