/** cordon, uncordon and drain through the CLI against a real 2-node cluster. */
import t from 'tap';
import type { KubeObject } from '../protocol/objects.js';
import { startCluster, type TestCluster } from './helpers/cluster.js';

let cluster: TestCluster;

t.before(async () => {
  cluster = await startCluster({ nodes: 2 });
});
t.teardown(() => cluster?.stop());

const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'drained' },
  spec: {
    replicas: 4,
    selector: { matchLabels: { app: 'drained' } },
    template: { metadata: { labels: { app: 'drained' } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'x:1', command: ['sleep', '3600'] }] } },
  },
};

const bare = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bare' }, spec: { nodeName: 'node-1', terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'x:1', command: ['sleep', '3600'] }] } };

function running(pods: KubeObject[], node?: string): KubeObject[] {
  return pods.filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp && (!node || p.spec?.nodeName === node));
}

t.test('cordon keeps new pods off a node; drain evicts managed pods and refuses unmanaged ones without --force', async (t) => {
  const { client, kubeact } = cluster;
  const cordon = await kubeact(['cordon', 'node-2']);
  t.equal(cordon.stdout.trim(), 'node/node-2 cordoned');
  t.equal((await kubeact(['cordon', 'node-2'])).stdout.trim(), 'node/node-2 already cordoned');
  t.match((await kubeact(['get', 'nodes'])).stdout, /node-2\s+Ready,SchedulingDisabled/);

  await client.create(deployment);
  await client.waitFor('Deployment', 'drained', 'default', (d) => d?.status?.availableReplicas === 4, 30_000);
  let pods = (await client.list('Pod', { labelSelector: 'app=drained' })).items;
  t.equal(running(pods, 'node-1').length, 4, 'all replicas on the schedulable node');

  t.equal((await kubeact(['uncordon', 'node-2'])).stdout.trim(), 'node/node-2 uncordoned');
  await client.create(bare);
  await client.waitFor('Pod', 'bare', 'default', (p) => p?.status?.phase === 'Running', 20_000);

  const refused = await kubeact(['drain', 'node-1']);
  t.equal(refused.code, 1);
  t.match(refused.stderr, /cannot delete Pods declare no controller \(use --force to override\): default\/bare/);
  t.match(refused.stdout, /node\/node-1 cordoned/, 'drain cordons first, as kubectl does');

  const drained = await kubeact(['drain', 'node-1', '--force'], { timeoutMs: 90_000 });
  t.equal(drained.code, 0, drained.stderr);
  t.match(drained.stdout, /evicting pod default\/bare/);
  t.match(drained.stdout, /node\/node-1 drained/);
  t.notOk(await client.find('Pod', 'bare', 'default'), 'the unmanaged pod is gone for good');
  await client.waitFor('Deployment', 'drained', 'default', (d) => d?.status?.availableReplicas === 4 && d?.status?.replicas === 4, 30_000);
  pods = (await client.list('Pod', { labelSelector: 'app=drained' })).items;
  t.equal(running(pods, 'node-2').length, 4, 'the replicas were replaced on the other node');
  t.equal(running(pods, 'node-1').length, 0, 'nothing runs on the drained node');
  const node = await client.get('Node', 'node-1');
  t.equal(node.spec?.unschedulable, true, 'the drained node stays cordoned');
});
