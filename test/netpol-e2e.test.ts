/**
 * NetworkPolicy enforced by kube-proxy, end to end on a real cluster (nats-server, control
 * plane, one worker; process runtime): a `web` pod behind a Service, a `client` pod whose
 * container connects to the ClusterIP from 127.0.0.1 (so kube-proxy finds the pod through
 * /proc), and this test process as a non-pod client. A policy denies (connections reset, the
 * denied counter rises), then relabelling the client / another policy allows; an egress policy
 * denies again. Synchronised on conditions with deadlines.
 */
import t from 'tap';
import http from 'node:http';
import { waitForObject, startCluster, type TestCluster } from './helpers/cluster.js';
import { MetricsWatch, POD_SERVER_SCRIPT, serviceTotals, tcpOutcome, type ConnectOutcome } from './helpers/proxy.js';
import { retry } from './helpers/wait.js';

const NS = 'default';

/** The client pod: on $POD_IP:8081, `/try?host=&port=` connects there (unbound: from 127.0.0.1) and answers what happened. */
const CLIENT_SCRIPT = [
  "const http = require('http'); const net = require('net');",
  'http.createServer((req, res) => {',
  "  const u = new URL(req.url, 'http://x'); let done = false;",
  "  const s = net.connect({ host: u.searchParams.get('host'), port: Number(u.searchParams.get('port')) });",
  '  const fin = (k) => { if (done) return; done = true; clearTimeout(timer); s.destroy(); res.end(k); };',
  "  const timer = setTimeout(() => fin('timeout'), 3000);",
  "  s.on('connect', () => s.write('GET / HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n'));",
  "  s.on('data', () => fin('data')); s.on('end', () => fin('closed'));",
  "  s.on('error', (e) => fin(e.code === 'ECONNRESET' || e.code === 'EPIPE' ? 'reset' : 'error:' + e.code));",
  '}).listen(8081, process.env.POD_IP);',
  "process.on('SIGTERM', () => process.exit(0));",
].join('\n');

let cluster: TestCluster;
let metrics: MetricsWatch;
let clusterIP: string;
let clientIP: string;

function ready(o: any): boolean {
  return o?.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True') ?? false;
}

t.before(async () => {
  cluster = await startCluster({ nodes: 1, workerArgs: ['--proxy-metrics-ms', '200'] });
  metrics = new MetricsWatch(cluster.nc);
  const pod = (name: string, labels: Record<string, string>, script: string, port: number) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'c', image: 'node:20', command: [process.execPath, '-e', script], ports: [{ name: 'http', containerPort: port }], readinessProbe: { tcpSocket: { port }, periodSeconds: 1 } }],
    },
  });
  await cluster.client.create(pod('web', { app: 'web' }, POD_SERVER_SCRIPT, 8080));
  await cluster.client.create(pod('client', { role: 'client' }, CLIENT_SCRIPT, 8081));
  await cluster.client.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: NS }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } });
  await waitForObject(cluster.client, 'Pod', 'web', NS, ready, 60_000);
  const client = await waitForObject(cluster.client, 'Pod', 'client', NS, ready, 60_000);
  clientIP = client!.status.podIP;
  clusterIP = (await cluster.client.get('Service', 'web', NS)).spec.clusterIP;
});

t.teardown(async () => {
  metrics?.stop();
  await cluster?.stop();
});

/** What the client pod's own connection to the ClusterIP sees. */
function fromClientPod(): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: clientIP, port: 8081, path: `/try?host=${clusterIP}&port=80`, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('client pod did not answer')));
    req.on('error', reject);
  });
}

async function clientSees(want: string, what: string): Promise<void> {
  await retry(what, async () => {
    const got = await fromClientPod();
    if (got !== want) throw new Error(`client pod saw ${got}`);
  }, 30_000, 100);
}

async function hostSees(want: ConnectOutcome['kind'], what: string): Promise<void> {
  await retry(what, async () => {
    const got = await tcpOutcome(clusterIP, 80);
    if (got.kind !== want) throw new Error(`this process saw ${got.kind}`);
  }, 30_000, 100);
}

/** The web service's counters from a snapshot published after this call (so it includes everything done before). */
async function freshTotals(): Promise<ReturnType<typeof serviceTotals>> {
  const since = Date.now();
  const all = await metrics.waitFor('a fresh snapshot', (m) => [...m.values()].some((s) => Date.parse(s.time) > since + 10));
  return serviceTotals(all, NS, 'web', 'http');
}

const policy = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: NS }, spec });

t.test('no policy: the client pod and this process reach web through the ClusterIP', async () => {
  await clientSees('data', 'client pod reaches web');
  await hostSees('data', 'this process reaches web');
});

t.test('a policy denies: connections are reset before any byte reaches the pod, and counted', async (t) => {
  const before = await freshTotals();
  t.ok(before.connectionsTotal >= 2, `the allowed connections were counted (${before.connectionsTotal})`);
  await cluster.client.create(policy('web-from-frontend', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'frontend' } } }], ports: [{ port: 'http' }] }] }));
  await clientSees('reset', 'client pod (role=client) denied');
  await hostSees('reset', 'this process (not a pod) denied');
  const totals = await freshTotals();
  t.ok(totals.denied >= 2, `denied counter ${totals.denied}`);
  t.equal(totals.connectionsTotal, before.connectionsTotal, 'no denied connection was forwarded to the pod');
});

t.test('relabelling the client pod allows it (found through /proc: it connects from 127.0.0.1); the host stays denied', async (t) => {
  await cluster.client.modify('Pod', 'client', NS, (p: any) => {
    p.metadata.labels = { role: 'frontend' };
  });
  await clientSees('data', 'client pod (role=frontend) allowed');
  t.equal((await tcpOutcome(clusterIP, 80)).kind, 'reset', 'this process is still denied');
});

t.test('another policy adds an ipBlock: this process is allowed too', async () => {
  await cluster.client.create(policy('web-from-host', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ ipBlock: { cidr: '127.0.0.1/32' } }] }] }));
  await hostSees('data', 'this process allowed by the ipBlock');
  await clientSees('data', 'client pod still allowed');
});

t.test('an egress policy on the client pod denies it again; deleting it allows', async () => {
  await cluster.client.create(policy('client-no-egress', { podSelector: { matchLabels: { role: 'frontend' } }, policyTypes: ['Egress'] }));
  await clientSees('reset', 'client pod denied by its egress policy');
  await hostSees('data', 'this process is not affected');
  await cluster.client.delete('NetworkPolicy', 'client-no-egress', { namespace: NS });
  await clientSees('data', 'client pod allowed again');
});

t.test('kubeact get netpol lists the policies', async (t) => {
  const out = await cluster.kubeact(['get', 'netpol']);
  t.equal(out.code, 0, out.stderr);
  t.match(out.stdout, /^NAME\s+POD-SELECTOR\s+AGE\n/);
  t.match(out.stdout, /\nweb-from-frontend\s+app=web\s+\d+s\n/);
  t.match(out.stdout, /\nweb-from-host\s+app=web\s+\d+s\n/);
});
