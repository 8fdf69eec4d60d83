/**
 * emptyDir sizeLimit on a real cluster (process runtime, kubelet measuring every 300 ms): a
 * Deployment's pod that writes past its emptyDir's limit is evicted as the kubelet does it
 * (Failed, reason Evicted, the kubelet's message, an Evicted Event, containers killed, the
 * emptyDir removed) and its ReplicaSet puts a new pod in its place.
 */
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { KubeObject } from '../protocol/objects.js';
import { startCluster, waitForPodEvents, type TestCluster } from './helpers/cluster.js';

const NS = 'default';
let cluster: TestCluster;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeact-evict-test-'));

t.before(async () => {
  cluster = await startCluster({ nodes: 1, workerArgs: ['--volume-stats-ms', '300'] });
});
t.teardown(async () => {
  await cluster?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

/** Polls the Deployment's pods (deadline, never a bare sleep) until `pick` finds what it wants. */
async function untilPods<T>(what: string, pick: (pods: KubeObject[]) => T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let pods: KubeObject[] = [];
  for (;;) {
    pods = (await cluster.client.list('Pod', { namespace: NS, labelSelector: 'app=filler' })).items;
    const found = pick(pods);
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; pods: ${JSON.stringify(pods.map((p) => [p.metadata?.name, p.status?.phase, p.status?.reason]))}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

t.test('a pod writing past its emptyDir sizeLimit is evicted and replaced', async (t) => {
  const mount = path.join(work, 'cache');
  // Only the first pod fills its emptyDir (it takes the flag): its replacement then stays Running.
  const flag = path.join(work, 'fill-once');
  fs.writeFileSync(flag, '');
  await cluster.client.create({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'filler', namespace: NS },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'filler' } },
      template: {
        metadata: { labels: { app: 'filler' } },
        spec: {
          volumes: [{ name: 'cache', emptyDir: { sizeLimit: '1Mi' } }],
          containers: [
            {
              name: 'fill',
              image: 'busybox:1.36',
              volumeMounts: [{ name: 'cache', mountPath: mount }],
              // 2 MiB into a 1 MiB emptyDir, then stays running: only the kubelet can stop it.
              command: ['sh', '-c', `if rm ${flag} 2>/dev/null; then head -c 2097152 /dev/zero > ${mount}/blob; fi; exec sleep 3600`],
            },
          ],
        },
      },
    },
  } as KubeObject);

  const evicted = await untilPods('an evicted pod', (pods) => pods.find((p) => p.status?.reason === 'Evicted'));
  t.equal(evicted.status.phase, 'Failed');
  t.equal(evicted.status.message, 'Usage of EmptyDir volume "cache" exceeds the limit "1Mi".');
  const events = await waitForPodEvents(cluster.client, evicted, (es) => es.some((e: any) => e.reason === 'Evicted'), 30_000);
  const event = events.find((e: any) => e.reason === 'Evicted') as any;
  t.equal(event.type, 'Warning');
  t.equal(event.message, evicted.status.message);

  const killed = await untilPods('the evicted pod\'s container terminated', (pods) => {
    const p = pods.find((x) => x.metadata?.uid === evicted.metadata?.uid);
    return p?.status?.containerStatuses?.[0]?.state?.terminated ? p : undefined;
  });
  t.ok(killed.status.containerStatuses[0].state.terminated.exitCode !== 0, 'killed, not exited on its own');
  t.equal(killed.status.containerStatuses[0].restartCount, 0, 'not restarted (evicted pods never restart)');

  const replacement = await untilPods('a running replacement pod', (pods) =>
    pods.find((p) => p.metadata?.uid !== evicted.metadata?.uid && p.status?.phase === 'Running'),
  );
  t.ok(replacement.metadata?.name, `ReplicaSet created ${replacement.metadata?.name}`);

  const described = await cluster.kubeact(['describe', 'pod', evicted.metadata!.name!]);
  t.match(described.stdout, /^Status:\s+Failed$/m);
  t.match(described.stdout, /^Reason:\s+Evicted$/m);
  t.match(described.stdout, /^Message:\s+Usage of EmptyDir volume "cache" exceeds the limit "1Mi"\.$/m);
  t.match(described.stdout, /Warning\s+Evicted\s+.*Usage of EmptyDir volume "cache"/);

  // The evicted pod's emptyDir is gone from the node (eviction frees the space).
  const dataDirs: string[] = [];
  const walk = (d: string, depth: number) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      const p = path.join(d, e.name);
      if (e.name === evicted.metadata!.uid) dataDirs.push(p);
      else if (depth < 6) walk(p, depth + 1);
    }
  };
  const deadline = Date.now() + 20_000;
  do {
    dataDirs.length = 0;
    walk(cluster.home, 0);
    if (!dataDirs.some((d) => fs.existsSync(path.join(d, 'volumes')))) break;
    await new Promise((r) => setTimeout(r, 200));
  } while (Date.now() < deadline);
  t.notOk(dataDirs.some((d) => fs.existsSync(path.join(d, 'volumes'))), 'the evicted pod\'s volumes are removed');
});
