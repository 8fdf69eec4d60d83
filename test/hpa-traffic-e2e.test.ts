/**
 * The HPA on a real cluster, traffic: a `Pods` metric `requests_per_second` (counted by
 * kube-proxy per endpoint pod, served by the metrics server) with a target of 2 per pod. A load
 * generator sending requests through the Service's ClusterIP scales the Deployment up to
 * maxReplicas (never above, checked on every watch event); when it stops, the HPA's own
 * `behavior.scaleDown` window (2 s) lets it go back to minReplicas.
 */
import t from 'tap';
import YAML from 'yaml';
import { startCluster } from './helpers/cluster.js';
import { ReplicaRecorder, serverManifests, startLoad } from './helpers/hpa.js';

const cluster = await startCluster({
  nodes: 1,
  workerArgs: ['--metrics-ms', '500', '--proxy-metrics-ms', '500'],
  hpa: { syncPeriodMs: 1000 },
});
t.teardown(cluster.stop);
const { client, kubeact } = cluster;

const hpa = {
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  metadata: { name: 'web' },
  spec: {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
    minReplicas: 1,
    maxReplicas: 3,
    metrics: [{ type: 'Pods', pods: { metric: { name: 'requests_per_second' }, target: { type: 'AverageValue', averageValue: '2' } } }],
    behavior: { scaleDown: { stabilizationWindowSeconds: 2 } },
  },
};

t.test('requests through the ClusterIP scale a requests_per_second HPA up to maxReplicas, and down when they stop', async (t) => {
  const applied = await kubeact(['apply', '-f', '-'], { input: [...serverManifests('web', { burnMs: 0, cpuRequest: '50m' }), hpa].map((d) => YAML.stringify(d)).join('---\n') });
  t.equal(applied.code, 0, applied.stderr);
  t.match(applied.stdout, /horizontalpodautoscaler.autoscaling\/web created/);
  await client.waitFor('Deployment', 'web', 'default', (d) => d?.status?.availableReplicas === 1, 60_000);
  const recorder = await ReplicaRecorder.start(client, 'web');
  t.teardown(() => recorder.stop());

  // Idle: a rate of 0 measured for the pod (it is an endpoint), below target, nothing to do.
  await client.waitFor('HorizontalPodAutoscaler', 'web', 'default', (h) => h?.status?.currentMetrics?.[0]?.pods?.current?.averageValue !== undefined, 60_000);
  t.equal((await client.get('Deployment', 'web', 'default')).spec.replicas, 1, 'idle: still 1');

  const svc = await client.get('Service', 'web', 'default');
  // About 20 requests/s (4 loops, 200 ms apart): 10 times the per-pod target of one pod.
  const load = startLoad(svc.spec.clusterIP, 80, { path: '/', workers: 4, gapMs: 200 });
  let loadStopped = false;
  t.teardown(async () => void (loadStopped || (await load.stop())));
  await client.waitFor('Deployment', 'web', 'default', (d) => d?.spec?.replicas === 3, 60_000);
  const get = await kubeact(['get', 'hpa', 'web']);
  t.equal(get.code, 0, get.stderr);
  t.match(get.stdout, /\nweb\s+Deployment\/web\s+\d+(m|\.\d+)?\/2\s+1\s+3\s+\d\s+\S+\n$/, 'TARGETS: the average rate per pod / 2');

  const sent = await load.stop();
  loadStopped = true;
  t.ok(sent.ok > 0, `the load got answers (${sent.ok} ok, ${sent.failed} failed)`);
  await client.waitFor('Deployment', 'web', 'default', (d) => d?.spec?.replicas === 1, 60_000);

  const described = await kubeact(['describe', 'hpa', 'web']);
  t.equal(described.code, 0, described.stderr);
  t.match(described.stdout, /\n  "requests_per_second" on pods:\s+\S+ \/ 2\n/);
  t.match(described.stdout, /\nBehavior:\n  Scale Down:\n    Stabilization Window: 2 seconds\n/);
  t.match(described.stdout, /SuccessfulRescale\s+.*New size: [23]; reason: pods metric requests_per_second above target/);
  t.match(described.stdout, /SuccessfulRescale\s+.*New size: 1; reason: (All metrics below target|pods metric requests_per_second below target)/);

  recorder.stop();
  t.ok(Math.max(...recorder.specReplicas) <= 3, `spec.replicas never above maxReplicas: ${recorder.specReplicas.join(' → ')}`);
  t.ok(recorder.maxLivePods <= 3, `never more than 3 live pods (at most ${recorder.maxLivePods})`);
});
