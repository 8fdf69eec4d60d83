/**
 * NATS restarts under a running cluster. nats-server runs in a throwaway container
 * (testcontainers, image imported locally from the nats-server binary, host network, random
 * port, JetStream store on a host directory); a real cluster (`kubeact up --nats URL`) runs
 * against it. The container is killed and started again: every component reconnects — the API
 * server serves and watches, the scheduler binds, the controllers reconcile, the kubelets
 * heartbeat, start and stop pods and serve logs — and nothing stored before is lost.
 */
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect } from 'nats';
import { freePort, MAX_PAYLOAD } from '../nodes/shared/nats-server.js';
import type { KubeObject, Node, Pod } from '../protocol/objects.js';
import { startCluster, waitForObject } from './helpers/cluster.js';
import { NATS_IMAGE, withDocker } from './helpers/docker.js';
import { until } from './helpers/wait.js';

// testcontainers: no reaper container (it would need an image from a registry); the engine is local.
process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
process.env.TESTCONTAINERS_HOST_OVERRIDE = '127.0.0.1';

await withDocker(t, async () => {
  const { GenericContainer, Wait } = await import('testcontainers');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeact-nats-container-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  fs.writeFileSync(
    path.join(dir, 'nats.conf'),
    [`listen: "127.0.0.1:${port}"`, `max_payload: ${MAX_PAYLOAD}`, 'jetstream { store_dir: "/data/jetstream", max_memory_store: 256MB, max_file_store: 1GB }', ''].join('\n'),
  );
  const nats = await new GenericContainer(NATS_IMAGE)
    .withNetworkMode('host')
    .withBindMounts([{ source: dir, target: '/data', mode: 'rw' }])
    .withCommand(['-c', '/data/nats.conf'])
    .withWaitStrategy(Wait.forLogMessage(/Server is ready/))
    .withStartupTimeout(60_000)
    .start();
  t.teardown(() => nats.stop({ timeout: 0 }).then(() => undefined));
  const url = `nats://127.0.0.1:${port}`;

  const cluster = await startCluster({ nodes: 2, natsUrl: url, workerArgs: ['--backoff-initial-ms', '500'] });
  t.teardown(cluster.stop);
  const { client, kubeact } = cluster;
  const waitPod = (name: string, pred: (p: Pod | undefined) => boolean, ms = 60_000) => waitForObject<Pod>(client, 'Pod', name, 'default', pred, ms);
  const isRunning = (p: Pod | undefined) => p?.status?.phase === 'Running';
  const sleeper = (name: string): Pod =>
    ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { terminationGracePeriodSeconds: 2, containers: [{ name: 'main', image: 'kubeact/host:1', command: ['sh', '-c', `echo "hello from ${name}"; exec sleep 3600`] }] } }) as Pod;

  t.test('a NATS restart loses nothing and every component comes back', async (t) => {
    // Before: two pods running, a Service, a Deployment with its pods.
    for (const name of ['before-a', 'before-b']) await client.create(sleeper(name));
    const svc = await client.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'kept', namespace: 'default' }, spec: { selector: { app: 'dep' }, ports: [{ port: 80 }] } } as KubeObject & { spec: { clusterIP?: string } });
    await client.create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'dep', namespace: 'default' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'dep' } },
        template: { metadata: { labels: { app: 'dep' } }, spec: { terminationGracePeriodSeconds: 2, containers: [{ name: 'main', image: 'kubeact/host:1', command: ['sleep', '3600'] }] } },
      },
    } as KubeObject);
    const before = new Map<string, Pod>();
    for (const name of ['before-a', 'before-b']) before.set(name, (await waitPod(name, isRunning))!);
    await until('the deployment has 2 running pods', async () => (await client.list<Pod>('Pod', { labelSelector: 'app=dep' })).items.filter(isRunning).length === 2, 60_000);
    const depPodsBefore = (await client.list<Pod>('Pod', { labelSelector: 'app=dep' })).items.map((p) => p.metadata!.uid).sort();

    // The restart: killed at once (no grace), started again on the same port with the same store.
    const observer = await connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    t.teardown(() => observer.close());
    let disconnects = 0;
    let reconnects = 0;
    void (async () => {
      for await (const s of observer.status()) {
        if (s.type === 'disconnect') disconnects++;
        if (s.type === 'reconnect') reconnects++;
      }
    })();
    await nats.restart({ timeout: 0 });
    await until('NATS seen going away and back', () => disconnects > 0 && reconnects > 0, 60_000);
    // The test's own connection reconnects on its own schedule: requests sent before then fail with DISCONNECT.
    await until('the test client reconnected', () => cluster.nc.flush().then(() => !cluster.nc.isClosed(), () => false), 60_000);

    // Nothing lost.
    for (const [name, pod] of before) {
      const now = await until(`${name} readable again`, () => client.get<Pod>('Pod', name, 'default').catch(() => undefined), 60_000);
      t.equal(now.metadata!.uid, pod.metadata!.uid, `${name}: same object`);
      t.equal(now.status?.phase, 'Running', `${name}: still Running`);
    }
    const svcNow = await client.get<KubeObject & { spec: { clusterIP?: string } }>('Service', 'kept', 'default');
    t.equal(svcNow.metadata!.uid, svc.metadata!.uid, 'the Service is there');
    t.equal(svcNow.spec.clusterIP, svc.spec.clusterIP, 'with its ClusterIP');
    t.same((await client.list<Pod>('Pod', { labelSelector: 'app=dep' })).items.map((p) => p.metadata!.uid).sort(), depPodsBefore, 'the deployment kept its pods');

    // Nodes heartbeat again.
    const restartedAt = Date.now();
    for (const node of ['node-1', 'node-2']) {
      await waitForObject<Node>(client, 'Node', node, undefined, (n) => {
        const ready = n?.status?.conditions?.find((c) => c.type === 'Ready');
        return ready?.status === 'True' && Date.parse(ready.lastHeartbeatTime ?? '') >= restartedAt - 1000;
      }, 60_000);
    }
    t.pass('both kubelets heartbeat after the restart');

    // Scheduler + kubelet watch + status writes: a new pod runs.
    await client.create(sleeper('after'));
    const after = await waitPod('after', isRunning);
    t.ok(after?.spec?.nodeName, `scheduled to ${after?.spec?.nodeName} and Running`);

    // Controllers: scaling the deployment creates a pod.
    await client.modify<KubeObject & { spec: { replicas: number } }>('Deployment', 'dep', 'default', (d) => {
      d.spec.replicas = 3;
    });
    await until('the deployment scaled to 3 running pods', async () => (await client.list<Pod>('Pod', { labelSelector: 'app=dep' })).items.filter(isRunning).length === 3, 60_000);
    t.pass('the controllers reconcile after the restart');

    // Kubelets stop pods of objects deleted after the restart, and serve logs.
    await client.delete('Pod', 'before-a', { namespace: 'default' });
    await waitPod('before-a', (p) => p === undefined);
    t.pass('a pod deleted after the restart is stopped and removed');
    const logs = await kubeact(['logs', 'before-b']);
    t.equal(logs.stdout, 'hello from before-b\n', 'logs of a pod started before the restart');
  });
});
