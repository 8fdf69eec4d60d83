/**
 * The ReplicaSet controller in the controller-manager against a real nats-server and API
 * server, its informers reading the API server's cache in-process (the control plane's
 * default). No kubelet runs: pods stay Pending, which is all these tests need. Synchronised
 * on watches with deadlines.
 */
import t from 'tap';
import { ControllerManager } from '../nodes/controllers/manager.js';
import { localSources } from '../nodes/controlplane/local-sources.js';
import { silentLogger } from '../nodes/shared/logger.js';
import { ApiClient } from '../protocol/client.js';
import type { KubeObject } from '../protocol/objects.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';
import { allocateBlock } from './helpers/blocks.js';

let api: TestApiServer;
let release: () => void;
const managers: ControllerManager[] = [];

t.before(async () => {
  const block = allocateBlock();
  release = () => block.release();
  api = await startTestApiServer({ serviceCidr: block.serviceNetwork });
});

t.teardown(async () => {
  for (const m of managers) await m.stop().catch(() => {});
  await api.stop();
  release();
});

async function startManager(): Promise<ControllerManager> {
  const m = new ControllerManager({ nc: api.nc, client: api.client, logger: silentLogger(), sources: localSources(api.server), defaultStorageClass: false });
  managers.push(m);
  await m.start();
  return m;
}

async function stopManager(m: ControllerManager): Promise<void> {
  managers.splice(managers.indexOf(m), 1);
  await m.stop();
}

function replicaSet(name: string, replicas: number): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image: 'busybox:1.36' }] } },
    },
  } as KubeObject;
}

t.test('a status write lost when the control plane stopped is repaired by the restored actor', async (t) => {
  let manager = await startManager();
  await api.client.create(replicaSet('lost-status', 2));
  await api.client.waitFor('ReplicaSet', 'lost-status', 'default', (rs) => rs?.status?.replicas === 2, 20_000);
  await stopManager(manager);

  // The actor's snapshot says replicas 2 was published; the stored status says otherwise, as
  // when the control plane dies between saving the snapshot and the status write landing.
  await api.client.modify<KubeObject>('ReplicaSet', 'lost-status', 'default', (rs) => {
    rs.status = { replicas: 0 };
  }, { status: true });

  manager = await startManager();
  const repaired = await api.client.waitFor('ReplicaSet', 'lost-status', 'default', (rs) => rs?.status?.replicas === 2, 20_000);
  t.equal(repaired?.status?.replicas, 2, 'the status is written again after the restart');
  t.equal(repaired?.status?.observedGeneration, repaired?.metadata?.generation, 'observedGeneration too');
  const pods = await api.client.list('Pod', { namespace: 'default', labelSelector: 'app=lost-status' });
  t.equal(pods.items.length, 2, 'no pod was created twice');
  await stopManager(manager);
});

t.test('creates that time out while the API server is stalled are not made twice', async (t) => {
  // The controller's requests time out after 300 ms, as on a loaded machine where they sit in a
  // queue: the API server still makes those pods once it gets to them. nats-server is stopped
  // (SIGSTOP) for 3 s, longer than a timeout plus the 1 s back-off after a failed create.
  const REPLICAS = 24;
  const m = new ControllerManager({ nc: api.nc, client: new ApiClient(api.nc, { timeoutMs: 300 }), logger: silentLogger(), sources: localSources(api.server), defaultStorageClass: false });
  managers.push(m);
  await m.start();
  await api.client.create(replicaSet('stalled', 0));
  await api.client.waitFor('ReplicaSet', 'stalled', 'default', (rs) => rs?.status?.observedGeneration === rs?.metadata?.generation, 20_000);

  // Every pod the ReplicaSet ever had at once (the watch follows them), max kept.
  const live = new Set<string>();
  let max = 0;
  const watch = await api.client.watch('Pod', { namespace: 'default', labelSelector: 'app=stalled' }, (ev) => {
    const name = ev.object.metadata!.name!;
    if (ev.type === 'DELETED' || ev.object.metadata?.deletionTimestamp) live.delete(name);
    else live.add(name);
    max = Math.max(max, live.size);
  });
  t.teardown(() => watch.stop());

  await api.client.modify<KubeObject>('ReplicaSet', 'stalled', 'default', (rs) => {
    rs.spec.replicas = REPLICAS;
  });
  const nats = api.nats.server.pid;
  process.kill(nats, 'SIGSTOP');
  try {
    await new Promise((r) => setTimeout(r, 3_000)); // the stall itself, not a wait for a condition
  } finally {
    process.kill(nats, 'SIGCONT');
  }
  const done = await api.client.waitFor('ReplicaSet', 'stalled', 'default', (rs) => rs?.status?.replicas === REPLICAS && rs.status.availableReplicas === 0, 30_000);
  t.equal(done?.status?.replicas, REPLICAS);
  const pods = await api.client.list('Pod', { namespace: 'default', labelSelector: 'app=stalled' });
  t.equal(pods.items.filter((p) => !p.metadata?.deletionTimestamp).length, REPLICAS, `${REPLICAS} pods`);
  t.equal(max, REPLICAS, `never more than ${REPLICAS} pods at once (max ${max})`);
  await stopManager(m);
});

t.test('a pod deleted while no controller ran is gone for the restored actor too: it is replaced', async (t) => {
  let manager = await startManager();
  await api.client.create(replicaSet('gone-while-down', 2));
  await api.client.waitFor('ReplicaSet', 'gone-while-down', 'default', (rs) => rs?.status?.replicas === 2, 20_000);
  await stopManager(manager);

  // The actor's snapshot still holds both pods (and any deletion it expected of them).
  const before = (await api.client.list('Pod', { namespace: 'default', labelSelector: 'app=gone-while-down' })).items;
  t.equal(before.length, 2);
  const victim = before[0];
  await api.client.delete('Pod', victim.metadata!.name!, { namespace: 'default', gracePeriodSeconds: 0 });

  manager = await startManager();
  const pods = new Map<string, KubeObject>();
  let settle!: () => void;
  const replaced = new Promise<void>((r) => (settle = r));
  const watch = await api.client.watch('Pod', { namespace: 'default', labelSelector: 'app=gone-while-down' }, (ev) => {
    if (ev.type === 'DELETED') pods.delete(ev.object.metadata!.name!);
    else pods.set(ev.object.metadata!.name!, ev.object);
    if (pods.size === 2 && !pods.has(victim.metadata!.name!)) settle();
  });
  t.teardown(() => watch.stop());
  if (pods.size === 2 && !pods.has(victim.metadata!.name!)) settle();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    replaced,
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no replacement within 20 s; pods: ${[...pods.keys()].join(', ')}`)), 20_000))),
  ]).finally(() => clearTimeout(timer));
  t.equal(pods.size, 2, 'two pods again');
  t.notOk(pods.has(victim.metadata!.name!), 'the deleted pod is not counted');
  await stopManager(manager);
});
