/**
 * The HPA on a real cluster, CPU: `kubeact autoscale` on a Deployment of servers that burn CPU
 * per request; requests through the Service's ClusterIP make the kubelets measure real CPU, the
 * HPA scales up to maxReplicas (never above, checked on every watch event), and once the load
 * stops it scales back to minReplicas after the controller-wide scale-down window
 * (`--hpa-downscale-stabilization-ms`, 3 s here). `get hpa` and `describe hpa` show it.
 */
import t from 'tap';
import YAML from 'yaml';
import { startCluster } from './helpers/cluster.js';
import { ReplicaRecorder, serverManifests, startLoad } from './helpers/hpa.js';

const cluster = await startCluster({
  nodes: 1,
  workerArgs: ['--metrics-ms', '500', '--proxy-metrics-ms', '500'],
  hpa: { syncPeriodMs: 1000, downscaleStabilizationMs: 3000 },
});
t.teardown(cluster.stop);
const { client, kubeact } = cluster;

t.test('CPU load through the Service scales up to maxReplicas, and back down after it stops', async (t) => {
  const applied = await kubeact(['apply', '-f', '-'], { input: serverManifests('burner', { burnMs: 25, cpuRequest: '100m' }).map((d) => YAML.stringify(d)).join('---\n') });
  t.equal(applied.code, 0, applied.stderr);
  await client.waitFor('Deployment', 'burner', 'default', (d) => d?.status?.availableReplicas === 1, 60_000);
  const recorder = await ReplicaRecorder.start(client, 'burner');
  t.teardown(() => recorder.stop());

  const auto = await kubeact(['autoscale', 'deployment', 'burner', '--cpu-percent=50', '--min=1', '--max=3']);
  t.equal(auto.code, 0, auto.stderr);
  t.equal(auto.stdout, 'horizontalpodautoscaler.autoscaling/burner autoscaled\n');
  const again = await kubeact(['autoscale', 'deploy/burner', '--max=3']);
  t.not(again.code, 0);
  t.match(again.stderr, /^Error from server \(AlreadyExists\): horizontalpodautoscalers(\.autoscaling)? "burner" already exists\n$/);

  // Idle: measured, below target, nothing to do.
  await client.waitFor('HorizontalPodAutoscaler', 'burner', 'default', (h) => h?.status?.currentMetrics?.[0]?.resource?.current?.averageUtilization !== undefined, 60_000);

  const svc = await client.get('Service', 'burner', 'default');
  const load = startLoad(svc.spec.clusterIP, 80, { path: '/burn', workers: 2, gapMs: 0 });
  let loadStopped = false;
  t.teardown(async () => void (loadStopped || (await load.stop())));
  await client.waitFor('Deployment', 'burner', 'default', (d) => d?.spec?.replicas === 3, 60_000);
  const busy = await client.waitFor('HorizontalPodAutoscaler', 'burner', 'default', (h) => h?.status?.currentReplicas === 3, 30_000);
  t.ok(busy!.status.lastScaleTime, 'lastScaleTime written');
  const get = await kubeact(['get', 'hpa', 'burner']);
  t.equal(get.code, 0, get.stderr);
  t.match(get.stdout, /^NAME\s+REFERENCE\s+TARGETS\s+MINPODS\s+MAXPODS\s+REPLICAS\s+AGE\nburner\s+Deployment\/burner\s+cpu: \d+%\/50%\s+1\s+3\s+3\s+\S+\n$/);

  const sent = await load.stop();
  loadStopped = true;
  t.ok(sent.ok > 0, `the load got answers (${sent.ok} ok, ${sent.failed} failed)`);
  await client.waitFor('Deployment', 'burner', 'default', (d) => d?.spec?.replicas === 1, 60_000);

  const described = await kubeact(['describe', 'hpa', 'burner']);
  t.equal(described.code, 0, described.stderr);
  t.match(described.stdout, /\nReference:\s+Deployment\/burner\n/);
  t.match(described.stdout, /\n  resource cpu on pods  \(as a percentage of request\):\s+\d+% \(\d+m?\) \/ 50%\n/);
  t.match(described.stdout, /\nMin replicas:\s+1\nMax replicas:\s+3\n/);
  t.match(described.stdout, /\nDeployment pods:\s+\d current \/ \d desired\n/);
  t.match(described.stdout, /Normal\s+SuccessfulRescale\s+.*horizontal-pod-autoscaler\s+New size: [23]; reason: cpu resource utilization \(percentage of request\) above target/);
  t.match(described.stdout, /Normal\s+SuccessfulRescale\s+.*horizontal-pod-autoscaler\s+New size: 1; reason: (All metrics below target|cpu resource utilization \(percentage of request\) below target)/);

  recorder.stop();
  t.ok(Math.max(...recorder.specReplicas) <= 3, `spec.replicas never above maxReplicas: ${recorder.specReplicas.join(' → ')}`);
  t.ok(recorder.maxLivePods <= 3, `never more than 3 live pods (at most ${recorder.maxLivePods})`);
  t.ok(recorder.specReplicas.includes(3) && recorder.specReplicas.at(-1) === 1, 'went up to 3 and back to 1');
});
