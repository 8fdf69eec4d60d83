/**
 * The garbage collector (nodes/controllers/garbage-collector.ts) against a real nats-server
 * and API server: owned objects whose owner the informers hold cost no API read per sweep
 * (holding 100,000 owned pods, they would be 20,000 reads a second), and a deleted owner's
 * dependents are still collected.
 */
import t from 'tap';
import { GarbageCollector } from '../nodes/controllers/garbage-collector.js';
import { Informer } from '../nodes/controllers/informer.js';
import { silentLogger } from '../nodes/shared/logger.js';
import type { ApiClient } from '../protocol/client.js';
import type { KubeObject } from '../protocol/objects.js';
import { subjects } from '../protocol/subjects.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';

let api: TestApiServer;
let client: ApiClient;

t.before(async () => {
  api = await startTestApiServer({ serviceCidr: '127.100.14.0/24' });
  client = api.client;
});

t.teardown(() => api.stop());

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

t.test('held owned pods cost no API reads per sweep; a deleted owner still takes its pods', async (t) => {
  const rs = await client.create<KubeObject>({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'web', namespace: 'default' },
    spec: { replicas: 0, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
  } as KubeObject);
  const owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata!.uid!, controller: true };
  const names = Array.from({ length: 40 }, (_, i) => `web-${i}`);
  for (const name of names) {
    await client.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app: 'web' }, ownerReferences: [owner] }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } as KubeObject);
  }
  // Every read the API server answers for ReplicaSets (a plain subscriber sees what the service's queue group gets).
  let rsReads = 0;
  const reads = api.nc.subscribe(subjects.api('get', 'replicasets'), { callback: () => rsReads++ });
  t.teardown(() => reads.unsubscribe());

  const inf = (kind: 'Pod' | 'ReplicaSet' | 'Deployment' | 'Node') => new Informer<KubeObject>(client, kind, { resyncMs: 60_000 });
  const [pods, replicaSets, deployments, nodes] = [inf('Pod'), inf('ReplicaSet'), inf('Deployment'), inf('Node')];
  for (const i of [pods, replicaSets, deployments, nodes]) await i.start();
  t.teardown(() => [pods, replicaSets, deployments, nodes].forEach((i) => i.stop()));
  const gc = new GarbageCollector({ client, dependents: [replicaSets, pods], owners: [replicaSets, deployments], nodes, logger: silentLogger(), sweepMs: 100 });
  gc.start();
  t.teardown(() => gc.stop());
  replicaSets.on({ delete: (o) => gc.ownerDeleted(o) });

  await until(() => gc.sweeps >= 5, 'five sweeps');
  await api.nc.flush();
  t.equal(rsReads, 0, 'no ReplicaSet read over five sweeps of 40 owned pods');
  const left = await client.list('Pod', { namespace: 'default' });
  t.equal(left.items.length, names.length, 'every owned pod kept');

  await client.delete('ReplicaSet', 'web', { namespace: 'default' });
  await until(async () => (await client.list('Pod', { namespace: 'default' })).items.every((p) => p.metadata?.deletionTimestamp), 'every pod of the deleted ReplicaSet deleted');
  t.ok(rsReads > 0, 'the owner\'s absence was confirmed with the API server before deleting');
});
