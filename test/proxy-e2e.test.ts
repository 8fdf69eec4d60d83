/**
 * kube-proxy end to end on a real cluster (nats-server, control plane, 2 workers as OS
 * processes, each running its kubelet and kube-proxy): pods serving HTTP and UDP on their pod
 * IPs, a Service and its Endpoints written by the test through the API (no selector, so no
 * controller touches the Endpoints). Through the ClusterIP requests reach several pods,
 * ClientIP affinity sticks, a removed endpoint gets no new connections while open ones keep
 * working, UDP echoes, NodePort answers on every node IP, no endpoints → reset at once, the
 * metrics snapshots on NATS count the connections, a LoadBalancer Service with a selector is
 * served on its allocated ClusterIP, node port and pool address (API server, Endpoints and
 * LoadBalancer controllers together), and a SIGKILLed owner's ClusterIP is taken over by the
 * other node. Only 127.0.0.0/8; synchronised on conditions with deadlines.
 */
import t from 'tap';
import http from 'node:http';
import { contains, hostAddress, parseCidr } from '../nodes/shared/cidr.js';
import type { KubeObject } from '../protocol/objects.js';
import { startCluster, waitForObject, type TestCluster } from './helpers/cluster.js';
import { httpGet, MetricsWatch, POD_SERVER_SCRIPT, serviceTotals, servingNodes, tcpOutcome, udpClient, udpRequest } from './helpers/proxy.js';
import { retry } from './helpers/wait.js';

const NS = 'default';
const PODS = [
  { name: 'web-a', node: 'node-1' },
  { name: 'web-b', node: 'node-1' },
  { name: 'web-c', node: 'node-2' },
  { name: 'web-d', node: 'node-2' },
];

let cluster: TestCluster;
let metrics: MetricsWatch;
const podIP = new Map<string, string>();
const podUid = new Map<string, string>();
let clusterIP: (i: number) => string;
let nodeIP: (i: number) => string;

t.before(async () => {
  cluster = await startCluster({
    nodes: 2,
    workerArgs: ['--proxy-metrics-ms', '200', '--proxy-retry-ms', '300', '--proxy-udp-idle-ms', '3000'],
  });
  const services = parseCidr(cluster.block.serviceNetwork);
  const nodes = parseCidr(cluster.block.nodeNetwork);
  clusterIP = (i) => hostAddress(services, 20 + i);
  nodeIP = (i) => hostAddress(nodes, i);
  metrics = new MetricsWatch(cluster.nc);
  for (const p of PODS) {
    await cluster.client.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: p.name, namespace: NS, labels: { app: 'proxied' } },
      spec: {
        nodeSelector: { 'kubernetes.io/hostname': p.node },
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'web',
            image: 'node:20',
            command: [process.execPath, '-e', POD_SERVER_SCRIPT],
            ports: [{ name: 'http', containerPort: 8080 }, { name: 'dns', containerPort: 5353, protocol: 'UDP' }],
            readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
          },
        ],
      },
    });
  }
  for (const p of PODS) {
    const pod = await waitForObject(cluster.client, 'Pod', p.name, NS, (o) => o?.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True') ?? false, 30_000);
    podIP.set(p.name, pod!.status.podIP);
    podUid.set(p.name, pod!.metadata!.uid!);
  }
});

t.teardown(async () => {
  metrics?.stop();
  await cluster?.stop();
});

function endpointsSubsets(pods: string[]): unknown[] {
  if (!pods.length) return [];
  return [
    {
      addresses: pods.map((name) => ({
        ip: podIP.get(name),
        nodeName: PODS.find((p) => p.name === name)!.node,
        targetRef: { kind: 'Pod', namespace: NS, name, uid: podUid.get(name) },
      })),
      ports: [
        { name: 'http', port: 8080, protocol: 'TCP' },
        { name: 'dns', port: 5353, protocol: 'UDP' },
      ],
    },
  ];
}

async function createService(name: string, ip: string, pods: string[], spec: Record<string, unknown> = {}): Promise<void> {
  await cluster.client.create({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: NS }, subsets: endpointsSubsets(pods) } as KubeObject);
  const created = await cluster.client.create({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: NS },
    spec: {
      clusterIP: ip,
      ports: [
        { name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 },
        { name: 'dns', protocol: 'UDP', port: 53, targetPort: 5353 },
      ],
      ...spec,
    },
  });
  if (created.spec.clusterIP !== ip) throw new Error(`service ${name} got clusterIP ${created.spec.clusterIP}, asked for ${ip}`);
}

async function setEndpoints(name: string, pods: string[]): Promise<void> {
  await cluster.client.modify('Endpoints', name, NS, (ep: any) => {
    ep.subsets = endpointsSubsets(pods);
  });
}

/** Every node's proxy shows exactly these pods as the current endpoints of the service port. */
function endpointsApplied(name: string, pods: string[], port = 'http', protocol: 'TCP' | 'UDP' = 'TCP') {
  const want = pods.map((p) => podIP.get(p)).sort().join(',');
  return metrics.waitFor(`${name}:${port} endpoints ${pods.join(',')} on both nodes`, (all) => {
    if (all.size < 2) return false;
    for (const m of all.values()) {
      const s = m.services.find((x) => x.namespace === NS && x.name === name && x.port === port && x.protocol === protocol);
      if (!s || s.endpoints.filter((e) => e.current).map((e) => e.ip).sort().join(',') !== want) return false;
    }
    return true;
  });
}

t.test('through the ClusterIP, requests reach several pods; exactly one node holds the address', async (t) => {
  await createService('web', clusterIP(0), ['web-a', 'web-b', 'web-c', 'web-d'], {
    type: 'NodePort',
    ports: [
      { name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30080 },
      { name: 'dns', protocol: 'UDP', port: 53, targetPort: 5353, nodePort: 30053 },
    ],
  });
  await retry('the ClusterIP answers', () => httpGet(clusterIP(0), 80), 20_000);
  const pods = new Set<string>();
  for (let i = 0; i < 12; i++) pods.add((await httpGet(clusterIP(0), 80)).pod);
  t.ok(pods.size >= 2, `reached ${[...pods].sort().join(', ')}`);
  t.same([...pods].sort(), ['web-a', 'web-b', 'web-c', 'web-d'], 'round robin over the 4 endpoints');
  const all = await metrics.waitFor('both nodes report the listener', (m) => m.size === 2 && [...m.values()].every((x) => x.listeners.some((l) => l.address === `${clusterIP(0)}:80`)));
  t.equal(servingNodes(all, 'TCP', `${clusterIP(0)}:80`).length, 1, `served by ${servingNodes(all, 'TCP', `${clusterIP(0)}:80`)} only`);
});

t.test('NodePort answers on each node IP', async (t) => {
  for (const i of [0, 1]) {
    const r = await retry(`NodePort on ${nodeIP(i)}`, () => httpGet(nodeIP(i), 30080), 10_000);
    t.match(r.pod, /^web-[a-d]$/, `${nodeIP(i)}:30080 → ${r.pod}`);
  }
});

t.test('UDP echo through the ClusterIP (and the NodePort), answered from the service address', async (t) => {
  const sock = await udpClient('127.0.0.1');
  t.teardown(() => sock.close());
  const r = await retry('UDP echo', () => udpRequest(clusterIP(0), 53, 'hello', 1000, sock), 10_000);
  t.match(r.text, /^web-[a-d]:hello$/);
  t.equal(r.from, `${clusterIP(0)}:53`);
  const again = await udpRequest(clusterIP(0), 53, 'again', 2000, sock);
  t.equal(again.text.split(':')[0], r.text.split(':')[0], 'the same session reaches the same pod');
  const viaNode = await retry('UDP via NodePort', () => udpRequest(nodeIP(1), 30053, 'np', 1000, sock), 10_000);
  t.match(viaNode.text, /^web-[a-d]:np$/);
  t.equal(viaNode.from, `${nodeIP(1)}:30053`);
});

t.test('ClientIP affinity: every request from this client reaches the same pod', async (t) => {
  await createService('sticky', clusterIP(1), ['web-a', 'web-b', 'web-c', 'web-d'], { sessionAffinity: 'ClientIP' });
  await retry('sticky answers', () => httpGet(clusterIP(1), 80), 20_000);
  const pods = new Set<string>();
  for (let i = 0; i < 12; i++) pods.add((await httpGet(clusterIP(1), 80)).pod);
  t.equal(pods.size, 1, `always ${[...pods].join(', ')}`);
});

t.test('a removed endpoint gets no new connections; open connections keep working', async (t) => {
  await endpointsApplied('web', ['web-a', 'web-b', 'web-c', 'web-d']);
  // Keep-alive connections until web-a and web-c each hold one.
  const conns = new Map<string, http.Agent>();
  await retry('open connections to web-a and web-c', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const r = await httpGet(clusterIP(0), 80, { agent });
    if ((r.pod === 'web-a' || r.pod === 'web-c') && !conns.has(r.pod)) conns.set(r.pod, agent);
    else agent.destroy();
    if (conns.size < 2) throw new Error(`${conns.size}/2 held`);
  });
  t.teardown(() => conns.forEach((a) => a.destroy()));
  const peers = new Map<string, string>();
  for (const [pod, agent] of conns) peers.set(pod, (await httpGet(clusterIP(0), 80, { agent })).peer);

  await setEndpoints('web', ['web-b', 'web-c', 'web-d']); // web-a leaves
  await endpointsApplied('web', ['web-b', 'web-c', 'web-d']);
  const fresh = new Set<string>();
  for (let i = 0; i < 15; i++) fresh.add((await httpGet(clusterIP(0), 80)).pod);
  t.notOk(fresh.has('web-a'), `new connections avoid the removed endpoint (reached ${[...fresh].sort().join(', ')})`);
  t.ok(fresh.size >= 2);
  for (const [pod, agent] of conns) {
    const r = await httpGet(clusterIP(0), 80, { agent });
    t.equal(r.pod, pod, `the open connection to ${pod} still works${pod === 'web-a' ? ' (removed endpoint: allowed to finish)' : ''}`);
    t.equal(r.peer, peers.get(pod), 'on the same connection');
  }
  await setEndpoints('web', ['web-a', 'web-b', 'web-c', 'web-d']);
  await endpointsApplied('web', ['web-a', 'web-b', 'web-c', 'web-d']);
});

t.test('no endpoints: connections are turned away at once', async (t) => {
  await createService('empty', clusterIP(2), []);
  await metrics.waitFor('empty service listened on', (m) => servingNodes(m, 'TCP', `${clusterIP(2)}:80`).length === 1);
  const out = await tcpOutcome(clusterIP(2), 80);
  t.ok(out.kind === 'reset' || out.kind === 'refused', `${out.kind} (${out.detail})`);
  t.ok(out.ms < 1000, `in ${out.ms.toFixed(1)} ms`);
  await metrics.waitFor('the rejection counted', (m) => serviceTotals(m, NS, 'empty', 'http').rejected >= 1);
});

t.test('the metrics snapshots on NATS count the connections', async (t) => {
  const base = serviceTotals(metrics.latest, NS, 'web', 'http');
  const N = 10;
  for (let i = 0; i < N; i++) await httpGet(clusterIP(0), 80);
  const all = await metrics.waitFor(`${N} more connections`, (m) => {
    const s = serviceTotals(m, NS, 'web', 'http');
    return s.connectionsTotal >= base.connectionsTotal + N && Object.values(s.perNode).every((x) => !x || x.connectionsActive === 0);
  });
  const s = serviceTotals(all, NS, 'web', 'http');
  t.ok(s.connectionsTotal >= base.connectionsTotal + N, `connections ${base.connectionsTotal} → ${s.connectionsTotal}`);
  t.ok(s.requests >= base.requests + N, `HTTP requests ${base.requests} → ${s.requests}`);
  t.ok(s.bytesIn > base.bytesIn && s.bytesOut > base.bytesOut, 'bytes both ways');
  const owner = Object.values(s.perNode).find((x) => x && x.connectionsTotal > 0)!;
  t.same(owner.endpoints.map((e) => e.pod).sort(), ['default/web-a', 'default/web-b', 'default/web-c', 'default/web-d'], 'per endpoint, naming the pod');
});

t.test('the whole chain: a LoadBalancer Service with a selector gets a ClusterIP, Endpoints and an ingress IP, all served', async (t) => {
  // ClusterIP and node port from the API server, Endpoints from the Endpoints controller
  // (named targetPort), the ingress IP from the LoadBalancer controller.
  const created = await cluster.client.create<KubeObject>({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'lb-web', namespace: NS },
    spec: { type: 'LoadBalancer', selector: { app: 'proxied' }, ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 'http' }] },
  });
  t.match(created.spec.clusterIP, /^127\./, `ClusterIP ${created.spec.clusterIP} allocated`);
  const withIngress = await waitForObject(cluster.client, 'Service', 'lb-web', NS, (s) => !!s?.status?.loadBalancer?.ingress?.[0]?.ip, 20_000);
  const lbIP = withIngress!.status.loadBalancer.ingress[0].ip as string;
  t.ok(contains(parseCidr(cluster.block.loadBalancerPool), lbIP), `ingress ${lbIP} from the pool ${cluster.block.loadBalancerPool}`);
  await endpointsApplied('lb-web', ['web-a', 'web-b', 'web-c', 'web-d']);
  const viaLb = new Set<string>();
  for (let i = 0; i < 8; i++) viaLb.add((await retry('LoadBalancer IP answers', () => httpGet(lbIP, 80), 15_000)).pod);
  t.ok(viaLb.size >= 2, `through ${lbIP}:80: ${[...viaLb].sort().join(', ')}`);
  t.match((await httpGet(created.spec.clusterIP, 80)).pod, /^web-[a-d]$/, 'through the allocated ClusterIP');
  const nodePort = created.spec.ports[0].nodePort as number;
  t.ok(nodePort >= 30000 && nodePort <= 32767, `node port ${nodePort} allocated`);
  t.match((await retry('NodePort answers', () => httpGet(nodeIP(0), nodePort), 10_000)).pod, /^web-[a-d]$/);
  const all = await metrics.waitFor('the LB address served once', (m) => servingNodes(m, 'TCP', `${lbIP}:80`).length === 1);
  t.equal(servingNodes(all, 'TCP', `${lbIP}:80`).length, 1, 'exactly one node holds the LoadBalancer address');
  await cluster.client.delete('Service', 'lb-web', { namespace: NS });
  await retry('the LoadBalancer address is no longer served', async () => {
    const out = await tcpOutcome(lbIP, 80);
    if (out.kind !== 'refused') throw new Error(out.kind);
  }, 10_000);
});

t.test('the ClusterIP of a SIGKILLed node is taken over by the other node', async (t) => {
  const all = await metrics.waitFor('an owner', (m) => servingNodes(m, 'TCP', `${clusterIP(0)}:80`).length === 1);
  const owner = servingNodes(all, 'TCP', `${clusterIP(0)}:80`)[0];
  const survivor = owner === 'node-1' ? 'node-2' : 'node-1';
  const survivorPods = PODS.filter((p) => p.node === survivor).map((p) => p.name);
  await setEndpoints('web', survivorPods);
  await endpointsApplied('web', survivorPods);
  const proc = cluster.ctx.processes.find((p) => p.name === owner)!;
  const t0 = Date.now();
  process.kill(proc.pid, 'SIGKILL');
  const r = await retry('the surviving node serves the ClusterIP', () => httpGet(clusterIP(0), 80, { timeoutMs: 1000 }), 10_000, 50);
  const took = Date.now() - t0;
  t.ok(survivorPods.includes(r.pod), `answered by ${r.pod} on ${survivor}`);
  t.ok(took < 5000, `taken over ${took} ms after the kill (retry period 300 ms)`);
  await metrics.waitFor(`${survivor} serves it`, (m) => m.get(survivor)?.listeners.some((l) => l.address === `${clusterIP(0)}:80` && l.protocol === 'TCP' && l.state === 'serving') ?? false);
});
