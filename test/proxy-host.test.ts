/**
 * The kube-proxy host in this process, against a real nats-server and API server: two proxies
 * (two "nodes" on one host) and echo servers on pod-like loopback addresses. Address
 * ownership (exactly one proxy serves a ClusterIP, the other takes over when it stops), round
 * robin, a refusing endpoint skipped, no endpoints → reset at once, Endpoints changes,
 * ClientIP affinity, UDP sessions, NodePort per node, LoadBalancer ingress, counters.
 * Services have no selector: their Endpoints are written by the test, as for manual
 * Endpoints in Kubernetes. Synchronised on conditions with deadlines, never sleeps.
 */
import t from 'tap';
import http from 'node:http';
import type { NatsConnection } from 'nats';
import { hostAddress, parseCidr } from '../nodes/shared/cidr.js';
import { silentLogger } from '../nodes/shared/logger.js';
import { KubeProxy } from '../nodes/worker/proxy/index.js';
import type { ApiClient } from '../protocol/client.js';
import type { KubeObject } from '../protocol/objects.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';
import { allocateBlock, type Block } from './helpers/blocks.js';
import { httpGet, MetricsWatch, serviceTotals, startEchoServers, tcpOutcome, udpClient, udpRequest } from './helpers/proxy.js';
import { retry } from './helpers/wait.js';

let nc: NatsConnection;
let api: TestApiServer;
let client: ApiClient;
let block: Block;
let metrics: MetricsWatch;
const proxies: KubeProxy[] = [];
const servers: { close(): Promise<void> }[] = [];

let nodeIPs: string[];
let podIPs: string[];
let clusterIP: (i: number) => string;
let lbIP: string;

t.before(async () => {
  block = allocateBlock();
  const nodes = parseCidr(block.nodeNetwork);
  const pods = parseCidr(block.podNetwork);
  const services = parseCidr(block.serviceNetwork);
  nodeIPs = [hostAddress(nodes, 0), hostAddress(nodes, 1)];
  podIPs = [1, 2, 3, 4].map((i) => hostAddress(pods, i));
  clusterIP = (i: number) => hostAddress(services, 20 + i);
  lbIP = hostAddress(parseCidr(block.loadBalancerPool), 0);
  api = await startTestApiServer({ serviceCidr: block.serviceNetwork });
  ({ nc, client } = api);
  for (let i = 0; i < 3; i++) servers.push(await startEchoServers(`pod-${i}`, podIPs[i]));
  metrics = new MetricsWatch(nc);
  for (const [i, ip] of nodeIPs.entries()) {
    const p = new KubeProxy({ client, nc, nodeName: `node-${i + 1}`, nodeIP: ip, logger: silentLogger(), retryMs: 200, metricsMs: 100, udpIdleMs: 500, resyncMs: 5000 });
    await p.start();
    proxies.push(p);
  }
});

t.teardown(async () => {
  metrics?.stop();
  for (const p of proxies) await p.stop();
  for (const s of servers) await s.close();
  await api?.stop();
  block?.release();
});

function serviceObject(name: string, ip: string, spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec: {
      clusterIP: ip,
      ports: [
        { name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 },
        { name: 'dns', protocol: 'UDP', port: 53, targetPort: 5353 },
      ],
      ...spec,
    },
  };
}

function endpointsObject(name: string, ips: string[], extra: { httpPort?: number } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name, namespace: 'default' },
    subsets: ips.length
      ? [
          {
            addresses: ips.map((ip) => ({ ip, nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'default', name: `pod-${podIPs.indexOf(ip)}` } })),
            ports: [
              { name: 'http', port: extra.httpPort ?? 8080, protocol: 'TCP' },
              { name: 'dns', port: 5353, protocol: 'UDP' },
            ],
          },
        ]
      : [],
  } as KubeObject;
}

async function setEndpoints(name: string, ips: string[]): Promise<void> {
  await client.modify('Endpoints', name, 'default', (ep: any) => {
    ep.subsets = (endpointsObject(name, ips) as any).subsets;
  });
}

/** Waits until every proxy's snapshot shows exactly these current endpoints for the service port. */
function endpointsApplied(name: string, port: string, ips: string[], protocol: 'TCP' | 'UDP' = 'TCP') {
  const want = [...ips].sort().join(',');
  return metrics.waitFor(`${name}:${port} endpoints = ${want} on every node`, (all) => {
    if (all.size < proxies.length) return false;
    for (const m of all.values()) {
      const s = m.services.find((x) => x.name === name && x.port === port && x.protocol === protocol);
      if (!s) return false;
      const got = s.endpoints.filter((e) => e.current).map((e) => e.ip).sort().join(',');
      if (got !== want) return false;
    }
    return true;
  });
}

async function createServiceWithEndpoints(name: string, ip: string, ips: string[], spec: Record<string, unknown> = {}): Promise<void> {
  await client.create(endpointsObject(name, ips));
  await client.create(serviceObject(name, ip, spec));
}

t.test('exactly one node serves a ClusterIP; requests round-robin over every endpoint', async (t) => {
  await createServiceWithEndpoints('web', clusterIP(0), podIPs.slice(0, 3));
  await retry('clusterIP answers', () => httpGet(clusterIP(0), 80));
  const seen = new Set<string>();
  for (let i = 0; i < 9; i++) seen.add((await httpGet(clusterIP(0), 80)).pod);
  t.same([...seen].sort(), ['pod-0', 'pod-1', 'pod-2'], 'three endpoints, each reached');
  const all = await metrics.waitFor('listener states', (m) => [...m.values()].every((x) => x.listeners.some((l) => l.address === `${clusterIP(0)}:80`)) && m.size === 2);
  const states = [...all.values()].map((m) => m.listeners.find((l) => l.address === `${clusterIP(0)}:80` && l.protocol === 'TCP')!.state).sort();
  t.same(states, ['serving', 'standby'], 'one node holds the address, the other stands by');
});

t.test('the counters count connections, requests and bytes per service and endpoint', async (t) => {
  const before = serviceTotals(metrics.latest, 'default', 'web', 'http').connectionsTotal;
  for (let i = 0; i < 6; i++) await httpGet(clusterIP(0), 80);
  const settled = (m: Parameters<typeof serviceTotals>[0]) => Object.values(serviceTotals(m, 'default', 'web', 'http').perNode).every((s) => !s || s.connectionsActive === 0);
  const all = await metrics.waitFor('6 more connections counted and closed', (m) => serviceTotals(m, 'default', 'web', 'http').connectionsTotal >= before + 6 && settled(m));
  const totals = serviceTotals(all, 'default', 'web', 'http');
  t.ok(totals.requests >= before + 6, `requests counted (${totals.requests})`);
  t.ok(totals.bytesIn > 0 && totals.bytesOut > totals.bytesIn / 10, `bytes both ways (${totals.bytesIn} in, ${totals.bytesOut} out)`);
  const owner = Object.values(totals.perNode).find((s) => s && s.connectionsTotal > 0)!;
  t.equal(owner.endpoints.length, 3);
  t.ok(owner.endpoints.every((e) => e.connectionsTotal > 0 && e.connectionsActive === 0 && e.pod?.startsWith('default/pod-')), 'per endpoint, with the pod');
  t.equal(owner.connectionsActive, 0);
  // An open keep-alive connection shows as active, its bytes counted live.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  await httpGet(clusterIP(0), 80, { agent });
  await metrics.waitFor('an active connection', (m) => serviceTotals(m, 'default', 'web', 'http').perNode && Object.values(serviceTotals(m, 'default', 'web', 'http').perNode).some((s) => s?.connectionsActive === 1));
  agent.destroy();
  await metrics.waitFor('no active connection', settled);
});

t.test('a refusing endpoint is skipped: the next one gets the connection', async (t) => {
  // podIPs[3] has no server: connecting there is refused.
  await setEndpoints('web', [podIPs[0], podIPs[3]]);
  await endpointsApplied('web', 'http', [podIPs[0], podIPs[3]]);
  for (let i = 0; i < 6; i++) t.equal((await httpGet(clusterIP(0), 80)).pod, 'pod-0', `request ${i} served despite the dead endpoint`);
  const all = await metrics.waitFor('failures counted', (m) => Object.values(serviceTotals(m, 'default', 'web', 'http').perNode).some((s) => (s?.endpoints.find((e) => e.ip === podIPs[3])?.failures ?? 0) >= 3));
  t.ok(all);
});

t.test('no endpoints: the connection is reset at once', async (t) => {
  await setEndpoints('web', []);
  await endpointsApplied('web', 'http', []);
  const out = await tcpOutcome(clusterIP(0), 80);
  t.equal(out.kind, 'reset', `reset (${out.detail})`);
  t.ok(out.ms < 500, `within ${out.ms.toFixed(1)} ms`);
  await metrics.waitFor('rejected counted', (m) => serviceTotals(m, 'default', 'web', 'http').rejected >= 1);
});

t.test('a removed endpoint gets no new connections; open connections, to it or others, keep working', async (t) => {
  await setEndpoints('web', podIPs.slice(0, 3));
  await endpointsApplied('web', 'http', podIPs.slice(0, 3));
  // One keep-alive connection per pod (new agents until each pod holds one).
  const conns = new Map<string, http.Agent>();
  await retry('a connection to each pod', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const r = await httpGet(clusterIP(0), 80, { agent });
    if (conns.has(r.pod)) agent.destroy();
    else conns.set(r.pod, agent);
    if (conns.size < 3) throw new Error(`${conns.size}/3`);
  });
  const firstOn = new Map<string, string>();
  for (const [pod, agent] of conns) firstOn.set(pod, (await httpGet(clusterIP(0), 80, { agent })).peer);
  await setEndpoints('web', [podIPs[0], podIPs[1]]);
  await endpointsApplied('web', 'http', [podIPs[0], podIPs[1]]);
  const fresh = new Set<string>();
  for (let i = 0; i < 12; i++) fresh.add((await httpGet(clusterIP(0), 80)).pod);
  t.same([...fresh].sort(), ['pod-0', 'pod-1'], 'new connections only reach current endpoints');
  for (const [pod, agent] of conns) {
    const r = await httpGet(clusterIP(0), 80, { agent });
    t.equal(r.pod, pod, `the open connection to ${pod} still answers`);
    t.equal(r.peer, firstOn.get(pod), 'on the same connection');
    t.ok(r.n >= 3, `request #${r.n} on it`);
  }
  const all = await metrics.waitFor('the removed endpoint still counted while its connection is open', (m) =>
    Object.values(serviceTotals(m, 'default', 'web', 'http').perNode).some((s) => s?.endpoints.some((e) => e.ip === podIPs[2] && !e.current && e.connectionsActive === 1)),
  );
  t.ok(all);
  for (const a of conns.values()) a.destroy();
  await metrics.waitFor('the removed endpoint forgotten once its connection closed', (m) =>
    Object.values(serviceTotals(m, 'default', 'web', 'http').perNode).every((s) => !s || !s.endpoints.some((e) => e.ip === podIPs[2])),
  );
});

t.test('ClientIP affinity: one client sticks to one endpoint; another client IP may land elsewhere', async (t) => {
  await createServiceWithEndpoints('sticky', clusterIP(1), podIPs.slice(0, 3), { sessionAffinity: 'ClientIP' });
  await retry('sticky answers', () => httpGet(clusterIP(1), 80));
  const pods = new Set<string>();
  for (let i = 0; i < 10; i++) pods.add((await httpGet(clusterIP(1), 80)).pod);
  t.equal(pods.size, 1, `all requests from 127.0.0.1 on ${[...pods][0]}`);
  const stored = await client.get('Service', 'sticky', 'default');
  t.equal(stored.spec.sessionAffinity, 'ClientIP');
});

t.test('UDP through the ClusterIP: replies come from the service address; sessions follow endpoint changes', async (t) => {
  const sock = await udpClient('127.0.0.1');
  t.teardown(() => sock.close());
  await setEndpoints('web', [podIPs[1]]);
  await endpointsApplied('web', 'dns', [podIPs[1]], 'UDP');
  const r = await retry('UDP echo', () => udpRequest(clusterIP(0), 53, 'ping', 500, sock));
  t.equal(r.text, 'pod-1:ping');
  t.equal(r.from, `${clusterIP(0)}:53`, 'the reply comes from the service address');
  t.equal((await udpRequest(clusterIP(0), 53, 'again', 1000, sock)).text, 'pod-1:again', 'same session');
  await setEndpoints('web', [podIPs[2]]);
  await endpointsApplied('web', 'dns', [podIPs[2]], 'UDP');
  t.equal((await udpRequest(clusterIP(0), 53, 'moved', 1000, sock)).text, 'pod-2:moved', 'the session to the removed endpoint ended; a new one goes to the current endpoint');
  const all = await metrics.waitFor('UDP sessions counted', (m) => serviceTotals(m, 'default', 'web', 'dns', 'UDP').connectionsTotal >= 2);
  t.ok(serviceTotals(all, 'default', 'web', 'dns', 'UDP').bytesOut >= 'pod-1:ping'.length);
  await metrics.waitFor('idle UDP sessions expire', (m) => Object.values(serviceTotals(m, 'default', 'web', 'dns', 'UDP').perNode).every((s) => !s || s.connectionsActive === 0));
});

t.test('NodePort: each node serves its own node IP; LoadBalancer ingress IPs are served too', async (t) => {
  await createServiceWithEndpoints('np', clusterIP(2), podIPs.slice(0, 2), {
    type: 'LoadBalancer',
    ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30080 }],
  });
  for (const ip of nodeIPs) {
    const r = await retry(`NodePort on ${ip}`, () => httpGet(ip, 30080));
    t.match(r.pod, /^pod-[01]$/, `node IP ${ip}:30080 answers`);
  }
  const refused = await tcpOutcome(lbIP, 80);
  t.equal(refused.kind, 'refused', 'no ingress IP yet: nothing listens there');
  await client.modify('Service', 'np', 'default', (s: any) => {
    s.status = { loadBalancer: { ingress: [{ ip: lbIP }] } };
  }, { status: true });
  const r = await retry('LoadBalancer ingress answers', () => httpGet(lbIP, 80));
  t.match(r.pod, /^pod-[01]$/);
  await client.delete('Service', 'np', { namespace: 'default' });
  await retry('deleted service: nothing listens any more', async () => {
    const out = await tcpOutcome(clusterIP(2), 80);
    if (out.kind !== 'refused') throw new Error(out.kind);
  });
  t.equal((await tcpOutcome(nodeIPs[0], 30080)).kind, 'refused');
  t.equal((await tcpOutcome(lbIP, 80)).kind, 'refused');
});

t.test('when the node serving a ClusterIP stops, the other node takes the address over', async (t) => {
  await setEndpoints('web', podIPs.slice(0, 3));
  await endpointsApplied('web', 'http', podIPs.slice(0, 3));
  const owner = await metrics.waitFor('an owner', (m) => [...m.values()].some((x) => x.listeners.some((l) => l.address === `${clusterIP(0)}:80` && l.protocol === 'TCP' && l.state === 'serving')));
  const ownerNode = [...owner.values()].find((x) => x.listeners.some((l) => l.address === `${clusterIP(0)}:80` && l.protocol === 'TCP' && l.state === 'serving'))!.node;
  const idx = Number(ownerNode.split('-')[1]) - 1;
  // A keep-alive connection through the owner stays open while it stops: stop() must not wait for it.
  const held = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => held.destroy());
  await httpGet(clusterIP(0), 80, { agent: held });
  const t0 = Date.now();
  await proxies[idx].stop();
  t.ok(Date.now() - t0 < 1000, `stop() returned in ${Date.now() - t0} ms with a connection open`);
  await retry('the other node serves the ClusterIP', () => httpGet(clusterIP(0), 80), 5000, 20);
  const took = Date.now() - t0;
  t.ok(took < 3000, `taken over in ${took} ms (retry period 200 ms)`);
  const other = `node-${2 - idx}`;
  await metrics.waitFor(`${other} serving`, (m) => !!m.get(other)?.listeners.some((l) => l.address === `${clusterIP(0)}:80` && l.protocol === 'TCP' && l.state === 'serving'));
});
