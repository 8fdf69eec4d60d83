/**
 * kube-proxy's pure parts: the plan of what to listen on and which endpoints are behind each
 * service port (from Service + Endpoints), and the balancer (round robin, ClientIP affinity
 * with its timeout, a refused endpoint skipped). No sockets, no clock.
 */
import t from 'tap';
import type { Endpoints, Service } from 'kubernetes-types/core/v1.js';
import {
  Balancer,
  DEFAULT_AFFINITY_TIMEOUT_SECONDS,
  endpointsFor,
  isLoopbackIPv4,
  mergeListeners,
  planService,
  startsHttpRequest,
  type EndpointTarget,
} from '../actors/proxy/index.js';

const NODE_IP = '127.0.1.1';

function service(spec: Record<string, unknown>, status: Record<string, unknown> = {}, name = 'web'): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: spec as Service['spec'], status: status as Service['status'] };
}

function endpoints(subsets: unknown[], name = 'web'): Endpoints {
  return { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: 'default' }, subsets: subsets as Endpoints['subsets'] };
}

const pod = (ip: string, name: string) => ({ ip, nodeName: 'node-1', targetRef: { kind: 'Pod', name, namespace: 'default', uid: `uid-${name}` } });

function target(ip: string, port = 8080): EndpointTarget {
  return { key: `${ip}:${port}`, ip, port };
}

t.test('isLoopbackIPv4 accepts only 127.0.0.0/8 addresses', async (t) => {
  t.ok(isLoopbackIPv4('127.0.0.1'));
  t.ok(isLoopbackIPv4('127.255.1.2'));
  for (const ip of ['10.0.0.1', '0.0.0.0', '128.0.0.1', '127.0.0', '127.0.0.256', '::1', '', undefined, 127]) t.notOk(isLoopbackIPv4(ip), String(ip));
});

t.test('a ClusterIP service listens on clusterIP:port per port, endpoints matched by port name', async (t) => {
  const svc = service({
    type: 'ClusterIP',
    clusterIP: '127.100.0.10',
    ports: [
      { name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 },
      { name: 'dns', protocol: 'UDP', port: 53, targetPort: 5353 },
    ],
  });
  const eps = endpoints([
    {
      addresses: [pod('127.64.0.3', 'b'), pod('127.64.0.2', 'a')],
      notReadyAddresses: [pod('127.64.0.9', 'z')],
      ports: [
        { name: 'http', port: 8080, protocol: 'TCP' },
        { name: 'dns', port: 5353, protocol: 'UDP' },
      ],
    },
  ]);
  const plan = planService(svc, eps, { nodeIP: NODE_IP });
  t.same(plan.skipped, []);
  t.equal(plan.ports.length, 2);
  const [http, dns] = plan.ports;
  t.equal(http.key, 'default/web:http/TCP');
  t.same(http.listeners.map((l) => [l.key, l.role]), [['TCP/127.100.0.10:80', 'clusterIP']]);
  t.same(http.endpoints, [
    { key: '127.64.0.2:8080', ip: '127.64.0.2', port: 8080, nodeName: 'node-1', pod: 'default/a' },
    { key: '127.64.0.3:8080', ip: '127.64.0.3', port: 8080, nodeName: 'node-1', pod: 'default/b' },
  ], 'ready addresses only, sorted; not-ready ones are not used');
  t.equal(dns.key, 'default/web:dns/UDP');
  t.same(dns.listeners.map((l) => l.key), ['UDP/127.100.0.10:53']);
  t.same(dns.endpoints.map((e) => e.key), ['127.64.0.2:5353', '127.64.0.3:5353']);
  t.same(http.affinity, { clientIP: false, timeoutMs: DEFAULT_AFFINITY_TIMEOUT_SECONDS * 1000 });
});

t.test('endpoint ports: unnamed matches unnamed, protocol must match, subsets merge, duplicates collapse', async (t) => {
  const eps = endpoints([
    { addresses: [{ ip: '127.64.0.2' }], ports: [{ port: 9000 }] },
    { addresses: [{ ip: '127.64.0.3' }, { ip: '127.64.0.2' }], ports: [{ port: 9000, protocol: 'TCP' }, { name: 'metrics', port: 9100 }] },
    { addresses: [{ ip: '127.64.0.4' }], ports: [{ port: 9000, protocol: 'UDP' }] },
  ]);
  t.same(endpointsFor(eps, '', 'TCP').map((e) => e.key), ['127.64.0.2:9000', '127.64.0.3:9000']);
  t.same(endpointsFor(eps, '', 'UDP').map((e) => e.key), ['127.64.0.4:9000']);
  t.same(endpointsFor(eps, 'metrics', 'TCP').map((e) => e.key), ['127.64.0.3:9100', '127.64.0.2:9100'].sort());
  t.same(endpointsFor(eps, 'other', 'TCP'), []);
  t.same(endpointsFor(undefined, '', 'TCP'), []);
});

t.test('endpoints outside 127.0.0.0/8 are refused and reported', async (t) => {
  const svc = service({ clusterIP: '127.100.0.10', ports: [{ port: 80 }] });
  const eps = endpoints([{ addresses: [{ ip: '10.1.2.3' }, { ip: '127.64.0.2' }], ports: [{ port: 8080 }] }]);
  const plan = planService(svc, eps, { nodeIP: NODE_IP });
  t.same(plan.ports[0].endpoints.map((e) => e.key), ['127.64.0.2:8080']);
  t.match(plan.skipped, [{ service: 'default/web', reason: /10\.1\.2\.3:8080 is outside 127\.0\.0\.0\/8/ }]);
});

t.test('NodePort and LoadBalancer add the node IP at the nodePort and the ingress IPs', async (t) => {
  const np = planService(service({ type: 'NodePort', clusterIP: '127.100.0.11', ports: [{ name: 'http', port: 80, nodePort: 30080 }] }), undefined, { nodeIP: NODE_IP });
  t.same(np.ports[0].listeners.map((l) => [l.key, l.role]), [
    ['TCP/127.100.0.11:80', 'clusterIP'],
    ['TCP/127.0.1.1:30080', 'nodePort'],
  ]);
  t.same(np.ports[0].endpoints, [], 'no Endpoints object: no endpoints, the listeners still exist');

  const lb = planService(
    service(
      { type: 'LoadBalancer', clusterIP: '127.100.0.12', externalIPs: ['127.120.0.1', '192.168.1.1'], ports: [{ name: 'http', port: 80, nodePort: 30081 }] },
      { loadBalancer: { ingress: [{ ip: '127.112.0.5' }, { hostname: 'lb.example.com' }, { ip: '8.8.8.8' }] } },
    ),
    undefined,
    { nodeIP: NODE_IP },
  );
  t.same(lb.ports[0].listeners.map((l) => [l.key, l.role]), [
    ['TCP/127.100.0.12:80', 'clusterIP'],
    ['TCP/127.120.0.1:80', 'externalIP'],
    ['TCP/127.0.1.1:30081', 'nodePort'],
    ['TCP/127.112.0.5:80', 'loadBalancer'],
  ]);
  t.same(lb.skipped.map((s) => s.reason), ['externalIP 192.168.1.1 is outside 127.0.0.0/8', 'load balancer ingress 8.8.8.8 is outside 127.0.0.0/8']);

  const pending = planService(service({ type: 'LoadBalancer', clusterIP: '127.100.0.13', ports: [{ port: 80, nodePort: 30082 }] }), undefined, { nodeIP: NODE_IP });
  t.same(pending.ports[0].listeners.map((l) => l.role), ['clusterIP', 'nodePort'], 'no ingress yet: clusterIP and nodePort only');

  const ingressOnClusterIP = planService(service({ type: 'ClusterIP', clusterIP: '127.100.0.14', ports: [{ port: 80 }] }, { loadBalancer: { ingress: [{ ip: '127.112.0.6' }] } }), undefined, { nodeIP: NODE_IP });
  t.same(ingressOnClusterIP.ports[0].listeners.map((l) => l.role), ['clusterIP'], 'a stale ingress of a former LoadBalancer is not served');
});

t.test('headless, ExternalName, unallocated, SCTP and non-loopback services are not listened on', async (t) => {
  const headless = planService(service({ clusterIP: 'None', ports: [{ port: 80 }] }), undefined, { nodeIP: NODE_IP });
  t.same(headless.ports[0].listeners, []);
  t.same(planService(service({ type: 'ExternalName', externalName: 'example.com' }), undefined, { nodeIP: NODE_IP }).ports, []);
  t.same(planService(service({ ports: [{ port: 80 }] }), undefined, { nodeIP: NODE_IP }).ports[0].listeners, [], 'no clusterIP allocated yet');
  const sctp = planService(service({ clusterIP: '127.100.0.15', ports: [{ name: 's', port: 80, protocol: 'SCTP' }, { name: 't', port: 81 }] }), undefined, { nodeIP: NODE_IP });
  t.same(sctp.ports.map((p) => p.key), ['default/web:t/TCP']);
  t.match(sctp.skipped, [{ reason: 'port s: protocol SCTP is not proxied' }]);
  const outside = planService(service({ clusterIP: '10.96.0.1', ports: [{ port: 443 }] }), undefined, { nodeIP: NODE_IP });
  t.same(outside.ports[0].listeners, []);
  t.match(outside.skipped, [{ reason: 'clusterIP 10.96.0.1 is outside 127.0.0.0/8' }]);
});

t.test('sessionAffinity ClientIP with the default and a custom timeout', async (t) => {
  const def = planService(service({ clusterIP: '127.100.0.16', sessionAffinity: 'ClientIP', ports: [{ port: 80 }] }), undefined, { nodeIP: NODE_IP });
  t.same(def.ports[0].affinity, { clientIP: true, timeoutMs: 10800 * 1000 });
  const custom = planService(
    service({ clusterIP: '127.100.0.16', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } }, ports: [{ port: 80 }] }),
    undefined,
    { nodeIP: NODE_IP },
  );
  t.same(custom.ports[0].affinity, { clientIP: true, timeoutMs: 60_000 });
});

t.test('mergeListeners: one listener per address, the first service (by key) keeps a contested one', async (t) => {
  const a = planService(service({ clusterIP: '127.100.0.20', ports: [{ port: 80 }] }, {}, 'a'), undefined, { nodeIP: NODE_IP });
  const b = planService(service({ clusterIP: '127.100.0.20', ports: [{ port: 80 }, { name: 'x', port: 81 }] }, {}, 'b'), undefined, { nodeIP: NODE_IP });
  const { listeners, conflicts } = mergeListeners([
    ['default/b', b.ports.flatMap((p) => p.listeners)],
    ['default/a', a.ports.flatMap((p) => p.listeners)],
  ]);
  t.same([...listeners.keys()].sort(), ['TCP/127.100.0.20:80', 'TCP/127.100.0.20:81']);
  t.equal(listeners.get('TCP/127.100.0.20:80')!.service.name, 'a');
  t.match(conflicts, [{ service: 'default/b', reason: 'TCP/127.100.0.20:80 is already served for default/a:/TCP' }]);
});

t.test('balancer: round robin over the endpoints, in order, wrapping', async (t) => {
  const b = new Balancer();
  t.equal(b.pick('127.0.0.1', 0), undefined, 'no endpoints: nothing');
  b.setEndpoints([target('127.64.0.2'), target('127.64.0.3'), target('127.64.0.4')]);
  const picks = Array.from({ length: 7 }, () => b.pick('127.0.0.1', 0)!.ip);
  t.same(picks, ['127.64.0.2', '127.64.0.3', '127.64.0.4', '127.64.0.2', '127.64.0.3', '127.64.0.4', '127.64.0.2']);
});

t.test('balancer: an excluded (refusing) endpoint is skipped; all excluded gives nothing', async (t) => {
  const b = new Balancer();
  b.setEndpoints([target('127.64.0.2'), target('127.64.0.3')]);
  t.equal(b.pick('c', 0, new Set(['127.64.0.2:8080']))!.ip, '127.64.0.3');
  t.equal(b.pick('c', 0, new Set(['127.64.0.2:8080']))!.ip, '127.64.0.3');
  t.equal(b.pick('c', 0, new Set(['127.64.0.2:8080', '127.64.0.3:8080'])), undefined);
});

t.test('balancer: endpoint changes apply to the next pick; position kept, removed endpoints never picked', async (t) => {
  const b = new Balancer();
  b.setEndpoints([target('127.64.0.2'), target('127.64.0.3'), target('127.64.0.4')]);
  t.equal(b.pick('c', 0)!.ip, '127.64.0.2');
  t.same(b.setEndpoints([target('127.64.0.2'), target('127.64.0.4')]), ['127.64.0.3:8080']);
  const picks = Array.from({ length: 6 }, () => b.pick('c', 0)!.ip);
  t.notOk(picks.includes('127.64.0.3'));
  t.same(new Set(picks), new Set(['127.64.0.2', '127.64.0.4']));
  t.same(b.setEndpoints([]), ['127.64.0.2:8080', '127.64.0.4:8080']);
  t.equal(b.pick('c', 0), undefined);
  b.setEndpoints([target('127.64.0.5')]);
  t.equal(b.pick('c', 0)!.ip, '127.64.0.5');
});

t.test('balancer: ClientIP affinity sticks per client until the timeout, refreshed by use', async (t) => {
  const b = new Balancer({ clientIP: true, timeoutMs: 1000 });
  b.setEndpoints([target('127.64.0.2'), target('127.64.0.3'), target('127.64.0.4')]);
  const first = b.pick('127.0.0.5', 0)!.ip;
  const other = b.pick('127.0.0.6', 0)!.ip;
  t.not(first, other, 'different clients are spread');
  for (let now = 100; now <= 2000; now += 500) t.equal(b.pick('127.0.0.5', now)!.ip, first, `still ${first} at ${now} ms (each use refreshes)`);
  t.equal(b.pick('127.0.0.6', 400)!.ip, other);
  t.equal(b.affinityEntries, 2);
  // Unused for the whole timeout: a fresh round-robin pick, which then sticks.
  const after = b.pick('127.0.0.6', 1400)!.ip;
  t.equal(b.pick('127.0.0.6', 1500)!.ip, after);
  b.prune(5000);
  t.equal(b.affinityEntries, 0, 'prune forgets expired entries');
});

t.test('balancer: affinity to a removed or refusing endpoint moves the client, and sticks again', async (t) => {
  const b = new Balancer({ clientIP: true, timeoutMs: 60_000 });
  b.setEndpoints([target('127.64.0.2'), target('127.64.0.3')]);
  const first = b.pick('c', 0)!;
  const rest = [target('127.64.0.2'), target('127.64.0.3')].filter((e) => e.key !== first.key);
  b.setEndpoints(rest);
  t.equal(b.affinityEntries, 0, 'the affinity to the removed endpoint is forgotten');
  const moved = b.pick('c', 1)!;
  t.equal(moved.key, rest[0].key);
  b.setEndpoints([target('127.64.0.2'), target('127.64.0.3')]);
  t.equal(b.pick('c', 2)!.key, moved.key, 'the new affinity holds when the old endpoint comes back');
  const refused = b.pick('c', 3, new Set([moved.key]))!;
  t.not(refused.key, moved.key, 'a refusing endpoint is skipped even with affinity');
  t.equal(b.pick('c', 4)!.key, refused.key, 'and the client sticks to the one that answered');
});

t.test('balancer: switching affinity off forgets every client', async (t) => {
  const b = new Balancer({ clientIP: true, timeoutMs: 60_000 });
  b.setEndpoints([target('127.64.0.2'), target('127.64.0.3')]);
  b.pick('a', 0);
  b.pick('b', 0);
  t.equal(b.affinityEntries, 2);
  b.setPolicy({ clientIP: false, timeoutMs: 0 });
  t.equal(b.affinityEntries, 0);
  const picks = Array.from({ length: 4 }, () => b.pick('a', 1)!.ip);
  t.same(new Set(picks).size, 2, 'plain round robin again');
});

t.test('startsHttpRequest recognises HTTP/1 request lines only', async (t) => {
  for (const s of ['GET / HTTP/1.1\r\n', 'POST /x HTTP/1.1\r\n', 'DELETE /a', 'OPTIONS * HTTP/1.1', 'HEAD / HTTP/1.0']) t.ok(startsHttpRequest(Buffer.from(s)), s);
  for (const s of ['', 'GE', 'get / HTTP/1.1', 'GETX / HTTP/1.1', '\x16\x03\x01', 'hello', '{"a":1}']) t.notOk(startsHttpRequest(Buffer.from(s)), JSON.stringify(s));
});
