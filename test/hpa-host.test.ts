/**
 * The HPA host (nodes/controllers/hpa-host.ts) against a real nats-server, API server and
 * metrics server: the test plays the kubelet (pods' status written through the API, usage
 * published on the kubelet metrics subject) and nothing runs the Deployments, so every
 * spec.replicas write seen is the HPA's. Scale-up capped by maxReplicas with status, conditions
 * and the SuccessfulRescale Event; missing metrics and a missing target reported as Warnings;
 * a replica count changed by someone else is not overwritten; a deleted HPA stops scaling.
 * Waits on watch events with deadlines.
 */
import t from 'tap';
import type { NatsConnection } from 'nats';
import type { ApiClient } from '../protocol/client.js';
import { encode } from '../protocol/codec.js';
import type { NodeMetricsReport } from '../protocol/metrics.js';
import type { KubeObject } from '../protocol/objects.js';
import { subjects } from '../protocol/subjects.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';
import { waitForPodEvents } from './helpers/cluster.js';
import { startHpaController, type TestHpaController } from './helpers/hpa-controller.js';

let api: TestApiServer;
let nc: NatsConnection;
let client: ApiClient;
let hpaController: TestHpaController;

t.before(async () => {
  api = await startTestApiServer({ serviceCidr: '127.100.13.0/24' });
  ({ nc, client } = api);
  hpaController = await startHpaController(api, { syncPeriodMs: 200, downscaleStabilizationMs: 0 });
});

t.teardown(async () => {
  await hpaController.stop();
  await api.stop();
});

const deployment = (name: string, replicas: number) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'default' },
  spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image: 'kubeact/host:1.0', resources: { requests: { cpu: '100m' } } }] } } },
});

const hpa = (name: string, target: string, max: number) => ({
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  metadata: { name, namespace: 'default' },
  spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: target }, minReplicas: 1, maxReplicas: max, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
    // A 1 s scale-up period, so a second scale-up within the test is not held back 15 s by the default policy.
    behavior: { scaleUp: { policies: [{ type: 'Pods', value: 10, periodSeconds: 1 }] } },
  },
});

/** A Running, Ready pod of the deployment, as its kubelet would report it. */
async function readyPod(app: string, name: string): Promise<KubeObject> {
  const created = await client.create<KubeObject>({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app } }, spec: { nodeName: 'node-1', containers: [{ name: 'main', image: 'kubeact/host:1.0', resources: { requests: { cpu: '100m' } } }] } });
  created.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] };
  return client.updateStatus(created);
}

/** The kubelet's sample: these pods at `cores` each. */
function publishUsage(list: KubeObject[], cores: number): void {
  const report: NodeMetricsReport = {
    node: 'node-1',
    timestamp: new Date().toISOString(),
    windowMs: 1000,
    usage: { cpuNanoCores: 1e9, memoryBytes: 2 ** 30 },
    pods: list.map((p) => ({ namespace: 'default', name: p.metadata!.name!, uid: p.metadata!.uid!, labels: p.metadata!.labels, containers: [{ name: 'main', cpuNanoCores: cores * 1e9, memoryBytes: 2 ** 20 }] })),
  };
  nc.publish(subjects.nodeMetrics('node-1'), encode(report));
}

/** The HPA's Events once `predicate` holds for them (watch-based, with a deadline). */
async function untilEvents(name: string, predicate: (evs: any[]) => boolean): Promise<any[]> {
  const obj = await client.get('HorizontalPodAutoscaler', name, 'default');
  return waitForPodEvents(client, obj, predicate, 20_000);
}

t.test('300% of a 50% target scales 1 → 4 (maxReplicas), with status, conditions and the Event', async (t) => {
  await client.create(deployment('web', 1));
  const p = await readyPod('web', 'web-0');
  publishUsage([p], 0.3);
  const seen: number[] = [];
  const watch = await client.watch('Deployment', { namespace: 'default', fieldSelector: 'metadata.name=web' }, (ev) => seen.push(ev.object.spec?.replicas));
  t.teardown(() => watch.stop());
  await client.create(hpa('web', 'web', 4));
  const status = (await client.waitFor('HorizontalPodAutoscaler', 'web', 'default', (h) => h?.status?.desiredReplicas === 4, 20_000))!.status;
  t.equal((await client.get('Deployment', 'web', 'default')).spec?.replicas, 4, 'spec.replicas written');
  t.same(status.currentMetrics, [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 300, averageValue: '300m' } } }]);
  t.ok(status.lastScaleTime, 'lastScaleTime set');
  t.match(status.conditions, [
    { type: 'AbleToScale', status: 'True', reason: 'SucceededRescale' },
    { type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound' },
    { type: 'ScalingLimited', status: 'True', reason: 'TooManyReplicas' },
  ]);
  const evs = await untilEvents('web', (e) => e.some((x) => x.reason === 'SuccessfulRescale'));
  t.match(evs.find((e) => e.reason === 'SuccessfulRescale'), {
    type: 'Normal',
    involvedObject: { kind: 'HorizontalPodAutoscaler', name: 'web' },
    message: /^New size: 4; reason: cpu resource utilization \(percentage of request\) above target \(cpu resource utilization \(percentage of request\) 300%\/50%; recommended 6, stabilized 6\)$/,
    source: { component: 'horizontal-pod-autoscaler' },
  });
  t.ok(seen.every((r) => r <= 4), `spec.replicas never above maxReplicas: ${seen.join(',')}`);

  // Someone else sets 2 while the load says 4: the next sync reads 2 and scales from there
  // (a compare-and-set from the count it read).
  await client.modify('Deployment', 'web', 'default', (d) => void (d.spec.replicas = 2));
  await client.waitFor('Deployment', 'web', 'default', (d) => d?.spec?.replicas === 4, 20_000);
  t.ok(seen.includes(2) && seen.at(-1) === 4, 'rescaled from the new count');

  // The HPA deleted: its actor stops, a manual scale stays.
  await client.delete('HorizontalPodAutoscaler', 'web', { namespace: 'default' });
  await client.waitFor('HorizontalPodAutoscaler', 'web', 'default', (h) => h === undefined, 10_000);
  await client.modify('Deployment', 'web', 'default', (d) => void (d.spec.replicas = 1));
  // A second HPA on another deployment scales and then syncs again: the deleted one had as many chances.
  await client.create(deployment('probe', 1));
  const probePod = await readyPod('probe', 'probe-0');
  publishUsage([p, probePod], 0.3);
  await client.create(hpa('probe', 'probe', 2));
  await client.waitFor('HorizontalPodAutoscaler', 'probe', 'default', (h) => h?.status?.currentReplicas === 2, 20_000);
  t.equal((await client.get('Deployment', 'web', 'default')).spec?.replicas, 1, 'no HPA scales web any more');
});

t.test('no metrics for the pods: FailedGetResourceMetric, ScalingActive False, nothing scaled', async (t) => {
  await client.create(deployment('quiet', 2));
  await readyPod('quiet', 'quiet-0');
  await client.create(hpa('quiet', 'quiet', 5));
  const h = await client.waitFor('HorizontalPodAutoscaler', 'quiet', 'default', (x) => Boolean(x?.status?.conditions), 20_000);
  t.match(h!.status.conditions, [
    { type: 'AbleToScale', status: 'True', reason: 'SucceededGetScale' },
    { type: 'ScalingActive', status: 'False', reason: 'FailedGetResourceMetric', message: /did not receive metrics for targeted pods/ },
  ]);
  t.same(h!.status.currentMetrics, [{ type: '' }], 'one empty entry per spec metric: get hpa shows <unknown>');
  const evs = await untilEvents('quiet', (e) => e.some((x) => x.reason === 'FailedGetResourceMetric'));
  await untilEvents('quiet', (e) => e.some((x) => x.reason === 'FailedGetResourceMetric' && x.count >= 2)); // repeats aggregate into one Event
  t.equal(evs.find((e) => e.reason === 'FailedGetResourceMetric').type, 'Warning');
  t.equal((await client.get('Deployment', 'quiet', 'default')).spec?.replicas, 2, 'untouched');
});

t.test('a missing target: FailedGetScale, AbleToScale False', async (t) => {
  await client.create(hpa('ghost', 'ghost', 3));
  const h = await client.waitFor('HorizontalPodAutoscaler', 'ghost', 'default', (x) => Boolean(x?.status?.conditions), 20_000);
  t.match(h!.status.conditions, [{ type: 'AbleToScale', status: 'False', reason: 'FailedGetScale', message: /deployments\.apps "ghost" not found/ }]);
  const evs = await untilEvents('ghost', (e) => e.some((x) => x.reason === 'FailedGetScale'));
  t.equal(evs.find((e) => e.reason === 'FailedGetScale').type, 'Warning');
});
