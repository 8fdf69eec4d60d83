/**
 * Prometheus endpoints of a real cluster (`up({ prometheusPort })`): the control plane's and the
 * node's `/metrics` parse as exposition text, and the values a user watches change — creating
 * a pod counts an API create, a stored pod and a scheduling attempt; the kubelet shows the pod
 * running with its container's memory and start latency; a request through a Service counts
 * on kube-proxy's per-service counters.
 */
import t from 'tap';
import { parsePrometheusAddress } from '../nodes/shared/prometheus.js';
import { startCluster, waitForObject } from './helpers/cluster.js';
import { fetchText, scrape } from './helpers/prometheus.js';
import { httpGet, POD_SERVER_SCRIPT } from './helpers/proxy.js';
import { retry } from './helpers/wait.js';

t.test('--prometheus-address is checked before anything starts', async (t) => {
  t.same(parsePrometheusAddress('127.0.0.1:9400'), { host: '127.0.0.1', port: 9400 });
  t.equal(parsePrometheusAddress('off'), undefined);
  t.throws(() => parsePrometheusAddress('9400'), /HOST:PORT/);
  t.throws(() => parsePrometheusAddress('127.0.0.1:99999'), /HOST:PORT/);
  t.throws(() => parsePrometheusAddress('10.0.0.1:9400'), /loopback/);
});

// startCluster puts the control plane's endpoint on an address of the test's own block: no port collides.
const cluster = await startCluster({
  nodes: 1,
  prometheusPort: 9400,
  workerArgs: ['--metrics-ms', '500', '--proxy-metrics-ms', '500'],
});
t.teardown(cluster.stop);
const { client } = cluster;
const [cpUrl, nodeUrl] = ['control-plane', 'node-1'].map((n) => cluster.ctx.prometheus!.find((p) => p.name === n)!.url);

t.test('the control plane counts API requests, stored objects and scheduling', async (t) => {
  const res = await fetchText(cpUrl);
  t.equal(res.status, 200);
  t.match(res.contentType, /^text\/plain; version=0\.0\.4/);
  const before = await scrape(cpUrl);
  t.equal(before.types.get('apiserver_request_total'), 'counter');
  t.equal(before.types.get('apiserver_request_duration_seconds'), 'histogram');
  t.ok(before.has('process_cpu_user_seconds_total'), 'process default metrics');
  t.ok(before.has('kubeact_nats_reconnects_total'), 'NATS reconnects');
  t.ok(before.sum('apiserver_storage_objects', { resource: 'nodes' }) >= 1, 'the node is stored');
  t.ok(before.has('apiserver_flowcontrol_rejected_requests_total', { priority_level: 'workload', reason: 'time-out' }), 'requests dropped because their client gave up are counted');
  t.ok(before.has('apiserver_flowcontrol_current_inqueue_requests', { priority_level: 'workload' }), 'the workload queue length');
  const created = () => before.sum('apiserver_request_total', { verb: 'create', resource: 'pods', code: '201' });

  await client.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'counted', labels: { app: 'prom' } },
    spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'kubeact/host:1.0', command: ['sleep', '600'] }] },
  });
  const after = await retry('pod create and scheduling counted', async () => {
    const s = await scrape(cpUrl);
    if (s.sum('scheduler_schedule_attempts_total', { result: 'scheduled' }) < before.sum('scheduler_schedule_attempts_total', { result: 'scheduled' }) + 1) throw new Error('not scheduled yet');
    return s;
  }, 30_000, 200);
  t.equal(after.sum('apiserver_request_total', { verb: 'create', resource: 'pods', code: '201' }), created() + 1, 'one more pod create');
  t.equal(after.sum('apiserver_storage_objects', { resource: 'pods' }), before.sum('apiserver_storage_objects', { resource: 'pods' }) + 1, 'one more stored pod');
  t.ok(after.sum('apiserver_request_duration_seconds_count', { verb: 'create', resource: 'pods' }) >= 1, 'create latency observed');
  t.ok(after.sum('scheduler_binding_duration_seconds_count') >= 1, 'bind latency observed');
  t.ok(after.sum('controller_informer_events_total', { kind: 'Pod' }) > before.sum('controller_informer_events_total', { kind: 'Pod' }), 'the controller-manager saw the pod');

  await client.get('Pod', 'nothing-here', 'default').catch(() => undefined);
  const notFound = await scrape(cpUrl);
  t.ok(notFound.sum('apiserver_request_total', { verb: 'get', resource: 'pods', code: '404' }) >= 1, 'a failed get is counted with its code');
  const wrong = await fetchText(cpUrl.replace('/metrics', '/nothing'));
  t.equal(wrong.status, 404);
});

t.test('the kubelet shows the running pod, its container memory and start latency', async (t) => {
  const s = await retry('pod running and sampled on the node', async () => {
    const s = await scrape(nodeUrl);
    if (s.sum('kubelet_running_pods') < 1) throw new Error('no running pod');
    if (s.sum('container_memory_working_set_bytes', { pod: 'counted', container: 'main' }) <= 0) throw new Error('no memory sample');
    return s;
  }, 30_000, 250);
  t.equal(s.sum('kubelet_running_pods'), 1);
  t.equal(s.sum('kubelet_running_containers', { container_state: 'running' }), 1);
  t.equal(s.sum('kubelet_pod_start_duration_seconds_count'), 1, 'one pod started');
  t.ok(s.has('container_cpu_usage_seconds_total', { namespace: 'default', pod: 'counted', container: 'main' }));
  t.ok(s.samples.every((x) => x.labels.node === 'node-1'), 'every sample carries the node');
  t.ok(s.has('process_resident_memory_bytes'));
});

t.test('a request through a Service increments kube-proxy\'s counters', async (t) => {
  await client.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', labels: { app: 'prom-web' } },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'web', image: 'node:20', command: [process.execPath, '-e', POD_SERVER_SCRIPT], ports: [{ name: 'http', containerPort: 8080 }], readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 } }],
    },
  });
  const svc: any = await client.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'prom-web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } });
  await waitForObject(client, 'Pod', 'web', 'default', (o: any) => o?.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True') ?? false, 40_000);
  const labels = { namespace: 'default', service: 'web', port: 'http', protocol: 'TCP' };
  const before = await scrape(nodeUrl);
  const echo = await retry('service answers', () => httpGet(svc.spec.clusterIP, 80), 30_000, 200);
  t.equal(echo.pod, 'web');
  const after = await retry('proxy counted the request', async () => {
    const s = await scrape(nodeUrl);
    if (s.sum('kubeproxy_service_requests_total', labels) <= before.sum('kubeproxy_service_requests_total', labels)) throw new Error('not counted yet');
    return s;
  }, 20_000, 200);
  t.equal(after.types.get('kubeproxy_service_requests_total'), 'counter');
  t.ok(after.sum('kubeproxy_service_connections_total', labels) >= 1, 'connection counted');
  t.ok(after.sum('kubeproxy_service_bytes_total', { ...labels, direction: 'out' }) > 0, 'bytes to the client counted');
  t.equal(after.sum('kubeproxy_service_denied_total', labels), 0, 'nothing denied');
});
