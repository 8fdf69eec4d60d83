/**
 * Services end to end on a real cluster (nats-server, control plane, 2 workers as OS processes):
 * a Deployment of 3 HTTP pods with a readiness probe behind a Service. The ClusterIP comes from
 * the cluster's service block and survives pod replacement; the Endpoints list exactly the ready
 * pods' IPs with the resolved targetPort, and follow readiness (an unready pod moves to
 * notReadyAddresses); node ports are allocated in range and a taken one is refused with the
 * field error; a pod created after the Service finds it in its environment; `get svc`, `get ep`,
 * `describe svc` and `expose` print what kubectl prints. Synchronised on watch events with
 * deadlines, never sleeps.
 */
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { contains, parseCidr } from '../nodes/shared/cidr.js';
import type { KubeObject } from '../protocol/objects.js';
import { startCluster, waitForObject, type TestCluster } from './helpers/cluster.js';

const NS = 'default';
let cluster: TestCluster;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeact-services-test-'));

t.before(async () => {
  cluster = await startCluster({ nodes: 2 });
});

t.teardown(async () => {
  await cluster?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

// Serves on $POD_IP:8080; /healthz answers 500 while $WORK/unready-$POD_NAME exists.
const SERVER = [
  "const fs = require('fs');",
  "const flag = process.env.WORK + '/unready-' + process.env.POD_NAME;",
  "require('http').createServer((req, res) => {",
  "  res.statusCode = req.url === '/healthz' && fs.existsSync(flag) ? 500 : 200;",
  '  res.end(process.env.POD_NAME);',
  '}).listen(8080, process.env.POD_IP);',
].join('\n');

const deployment: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: NS, labels: { app: 'web' } },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'web',
            image: 'node:20',
            command: [process.execPath, '-e', SERVER],
            env: [{ name: 'WORK', value: work }],
            ports: [{ name: 'http', containerPort: 8080 }],
            readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 1, failureThreshold: 1 },
          },
        ],
      },
    },
  },
};

const service: KubeObject = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', namespace: NS, labels: { app: 'web' } },
  spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
};

type Obj = (KubeObject & { subsets?: any[] }) | undefined;
const isReady = (p: KubeObject) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');
const addresses = (ep: Obj, field = 'addresses'): string[] => (ep?.subsets ?? []).flatMap((s: any) => (s[field] ?? []).map((a: any) => a.ip)).sort();
const ports = (ep: Obj): number[] => (ep?.subsets ?? []).flatMap((s: any) => (s.ports ?? []).map((p: any) => p.port));

async function readyPods(): Promise<KubeObject[]> {
  const list = await cluster.client.list('Pod', { namespace: NS, labelSelector: 'app=web' });
  return list.items.filter((p) => !p.metadata?.deletionTimestamp && isReady(p));
}

/** Waits (watching) until the Deployment reports `n` ready replicas. */
function deploymentReady(n: number): Promise<Obj> {
  return waitForObject(cluster.client, 'Deployment', 'web', NS, (d) => d?.status?.readyReplicas === n && d?.status?.updatedReplicas === n && d?.status?.replicas === n, 60_000);
}

function endpoints(predicate: (ep: Obj) => boolean, name = 'web', timeoutMs = 30_000): Promise<Obj> {
  return waitForObject<KubeObject & { subsets?: any[] }>(cluster.client, 'Endpoints', name, NS, predicate, timeoutMs);
}

let clusterIP: string;

/** Cells of a table row (kubectl pads columns with at least 3 spaces). */
const cells = (line: string) => line.trim().split(/\s{3,}/);

t.test('a Deployment behind a Service: ClusterIP from the block, Endpoints = the ready pods', async (t) => {
  await cluster.client.create(deployment);
  const svc = await cluster.client.create(service);
  clusterIP = svc.spec.clusterIP;
  t.ok(contains(parseCidr(cluster.block.serviceNetwork), clusterIP), `ClusterIP ${clusterIP} is inside ${cluster.block.serviceNetwork}`);
  t.same(svc.spec.clusterIPs, [clusterIP]);
  t.match(svc.spec, { type: 'ClusterIP', sessionAffinity: 'None', ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 'http' }] });

  await deploymentReady(3);
  const ips = (await readyPods()).map((p) => p.status.podIP).sort();
  t.equal(ips.length, 3);
  const ep = await endpoints((e) => JSON.stringify(addresses(e)) === JSON.stringify(ips));
  t.same(addresses(ep), ips, 'exactly the 3 ready pod IPs');
  t.same(addresses(ep, 'notReadyAddresses'), []);
  t.same(ports(ep), [8080], 'targetPort "http" resolved to the container port');
  t.match(ep?.subsets?.[0]?.ports?.[0], { name: 'http', port: 8080, protocol: 'TCP' });
  const nodes = new Set((ep?.subsets?.[0]?.addresses ?? []).map((a: any) => a.nodeName));
  t.equal(nodes.size, 2, 'the replicas are spread over both nodes');
  t.ok((ep?.subsets?.[0]?.addresses ?? []).every((a: any) => a.targetRef?.kind === 'Pod' && a.targetRef?.uid && a.targetRef?.namespace === NS));
  t.same(ep?.metadata?.labels, { app: 'web' }, 'the Service\'s labels');
});

t.test('a pod that turns unready moves to notReadyAddresses, and back', async (t) => {
  const [victim] = await readyPods();
  const name = victim.metadata!.name!;
  const ip = victim.status.podIP;
  const flag = path.join(work, `unready-${name}`);
  fs.writeFileSync(flag, '');
  const ep = await endpoints((e) => addresses(e, 'notReadyAddresses').includes(ip) && addresses(e).length === 2);
  t.notOk(addresses(ep).includes(ip), 'left addresses');
  t.same(addresses(ep, 'notReadyAddresses'), [ip]);
  fs.rmSync(flag);
  const back = await endpoints((e) => addresses(e).includes(ip) && addresses(e, 'notReadyAddresses').length === 0);
  t.equal(addresses(back).length, 3);
});

t.test('the ClusterIP is stable across pod replacement; the Endpoints follow', async (t) => {
  const [victim] = await readyPods();
  const oldUid = victim.metadata!.uid!;
  const uids = (e: Obj): string[] => (e?.subsets ?? []).flatMap((s: any) => (s.addresses ?? []).map((a: any) => a.targetRef?.uid));
  await cluster.client.delete('Pod', victim.metadata!.name!, { namespace: NS, gracePeriodSeconds: 1 });
  // Terminating pods are no endpoints; the replacement joins once ready (it may reuse the IP).
  const gone = await endpoints((e) => !uids(e).includes(oldUid));
  t.ok(addresses(gone).length <= 2, 'the deleted pod left the endpoints');
  const ep = await endpoints((e) => uids(e).length === 3 && !uids(e).includes(oldUid), 'web', 60_000);
  const ips = (await readyPods()).map((p) => p.status.podIP).sort();
  t.same(addresses(ep), ips);
  const svc = await cluster.client.get('Service', 'web', NS);
  t.equal(svc.spec.clusterIP, clusterIP, 'same ClusterIP');
});

let nodePort: number;

t.test('NodePort: allocated in range; a taken one is refused with the field error', async (t) => {
  const np = await cluster.client.create({ ...service, metadata: { name: 'web-np', namespace: NS }, spec: { ...service.spec, type: 'NodePort' } });
  nodePort = np.spec.ports[0].nodePort;
  t.ok(nodePort >= 30000 && nodePort <= 32767, `nodePort ${nodePort} in 30000-32767`);
  t.equal(np.spec.externalTrafficPolicy, 'Cluster');
  const manifest = JSON.stringify({ ...service, metadata: { name: 'web-np2', namespace: NS }, spec: { ...service.spec, type: 'NodePort', ports: [{ name: 'http', port: 80, targetPort: 'http', nodePort }] } });
  const res = await cluster.kubeact(['apply', '-f', '-'], { input: manifest });
  t.equal(res.code, 1);
  t.equal(res.stderr.trim(), `The Service "web-np2" is invalid: spec.ports[0].nodePort: Invalid value: ${nodePort}: provided port is already allocated`);
  t.notOk(await cluster.client.find('Service', 'web-np2', NS), 'nothing stored');
});

t.test('LoadBalancer: an address from the cluster\'s pool, shown as EXTERNAL-IP', async (t) => {
  const lb = await cluster.client.create({ ...service, metadata: { name: 'web-lb', namespace: NS }, spec: { ...service.spec, type: 'LoadBalancer' } });
  t.ok(lb.spec.ports[0].nodePort >= 30000, 'a LoadBalancer gets node ports too');
  const up = await waitForObject(cluster.client, 'Service', 'web-lb', NS, (s) => Boolean(s?.status?.loadBalancer?.ingress?.[0]?.ip));
  const ip = up?.status.loadBalancer.ingress[0].ip;
  t.ok(contains(parseCidr(cluster.block.loadBalancerPool), ip), `${ip} is inside ${cluster.block.loadBalancerPool}`);
  const res = await cluster.kubeact(['get', 'svc', 'web-lb', '-o', 'wide']);
  t.same(cells(res.stdout.trim().split('\n')[1]).slice(1, 5), ['LoadBalancer', lb.spec.clusterIP, ip, `80:${lb.spec.ports[0].nodePort}/TCP`]);
  await cluster.client.delete('Service', 'web-lb', { namespace: NS });
});

t.test('a pod created after the Service sees it in its environment', async (t) => {
  const script = 'for v in WEB_SERVICE_HOST WEB_SERVICE_PORT WEB_SERVICE_PORT_HTTP WEB_PORT WEB_PORT_80_TCP_ADDR KUBERNETES_SERVICE_HOST; do eval "echo $v=\\${$v-unset}"; done';
  const pod = (name: string, links: boolean): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS },
    spec: { restartPolicy: 'Never', enableServiceLinks: links, containers: [{ name: 'env', image: 'busybox:1.36', command: ['sh', '-c', script] }] },
  });
  await cluster.client.create(pod('env-reader', true));
  await cluster.client.create(pod('env-nolinks', false));
  for (const name of ['env-reader', 'env-nolinks']) await waitForObject(cluster.client, 'Pod', name, NS, (p) => p?.status?.phase === 'Succeeded', 30_000);
  const res = await cluster.kubeact(['logs', 'env-reader']);
  t.equal(res.code, 0, res.stderr);
  t.same(res.stdout.trim().split('\n'), [
    `WEB_SERVICE_HOST=${clusterIP}`,
    'WEB_SERVICE_PORT=80',
    'WEB_SERVICE_PORT_HTTP=80',
    `WEB_PORT=tcp://${clusterIP}:80`,
    `WEB_PORT_80_TCP_ADDR=${clusterIP}`,
    'KUBERNETES_SERVICE_HOST=unset',
  ]);
  const none = await cluster.kubeact(['logs', 'env-nolinks']);
  t.match(none.stdout, /^WEB_SERVICE_HOST=unset$/m, 'enableServiceLinks: false');
});


t.test('kubeact get svc / get ep / describe svc', async (t) => {
  const svc = await cluster.kubeact(['get', 'svc']);
  t.equal(svc.code, 0, svc.stderr);
  const lines = svc.stdout.trim().split('\n');
  t.same(cells(lines[0]), ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
  const web = cells(lines.find((l) => l.startsWith('web '))!);
  t.same(web.slice(0, 5), ['web', 'ClusterIP', clusterIP, '<none>', '80/TCP']);
  t.match(web[5], /^\d+s$/);
  const np = cells(lines.find((l) => l.startsWith('web-np '))!);
  t.same(np.slice(1, 5), ['NodePort', np[2], '<none>', `80:${nodePort}/TCP`]);

  const wide = await cluster.kubeact(['get', 'svc', 'web', '-o', 'wide']);
  const wl = wide.stdout.trim().split('\n');
  t.same(cells(wl[0]), ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', 'SELECTOR']);
  t.equal(cells(wl[1])[6], 'app=web');

  const ep = await cluster.kubeact(['get', 'ep', 'web']);
  const el = ep.stdout.trim().split('\n');
  t.same(cells(el[0]), ['NAME', 'ENDPOINTS', 'AGE']);
  const ips = (await readyPods()).map((p) => p.status.podIP);
  const shown = cells(el[1])[1].split(',');
  t.same([...shown].sort(), ips.map((ip) => `${ip}:8080`).sort(), 'three ready ip:port');

  const dns = await cluster.kubeact(['get', 'svc', 'kube-dns', '-n', 'kube-system']);
  t.same(cells(dns.stdout.trim().split('\n')[1]).slice(0, 5), ['kube-dns', 'ClusterIP', dnsAddress(), '<none>', '53/UDP,53/TCP']);

  const d = await cluster.kubeact(['describe', 'svc', 'web']);
  t.equal(d.code, 0, d.stderr);
  const field = (label: string) => d.stdout.split('\n').find((l) => l.startsWith(`${label}:`))?.slice(label.length + 1).trim();
  t.equal(field('Name'), 'web');
  t.equal(field('Selector'), 'app=web');
  t.equal(field('Type'), 'ClusterIP');
  t.equal(field('IP'), clusterIP);
  t.equal(field('IPs'), clusterIP);
  t.match(field('Port'), /^http\s+80\/TCP$/);
  t.equal(field('TargetPort'), 'http/TCP');
  t.same(field('Endpoints')!.split(',').sort(), ips.map((ip) => `${ip}:8080`).sort());
  t.equal(field('Session Affinity'), 'None');
  t.equal(field('Internal Traffic Policy'), 'Cluster');
  t.equal(field('Events'), '<none>');

  const dnp = await cluster.kubeact(['describe', 'svc', 'web-np']);
  t.match(dnp.stdout, new RegExp(`^NodePort:\\s+http\\s+${nodePort}/TCP$`, 'm'));
  t.match(dnp.stdout, /^External Traffic Policy:\s+Cluster$/m);
});

function dnsAddress(): string {
  const c = parseCidr(cluster.block.serviceNetwork);
  return [c.base >>> 24, (c.base >>> 16) & 255, (c.base >>> 8) & 255, (c.base & 255) + 10].join('.');
}

t.test('kubeact expose deployment/web', async (t) => {
  const res = await cluster.kubeact(['expose', 'deployment/web', '--port', '80', '--target-port', '8080', '--type', 'NodePort', '--name', 'web-exposed']);
  t.equal(res.code, 0, res.stderr);
  t.equal(res.stdout.trim(), 'service/web-exposed exposed');
  const svc = await cluster.client.get('Service', 'web-exposed', NS);
  t.same(svc.spec.selector, { app: 'web' }, 'the deployment\'s matchLabels');
  t.match(svc.spec.ports, [{ port: 80, targetPort: 8080, protocol: 'TCP' }]);
  t.equal(svc.spec.type, 'NodePort');
  t.same(svc.metadata?.labels, { app: 'web' }, 'the deployment\'s labels');
  const ips = (await readyPods()).map((p) => p.status.podIP).sort();
  const ep = await endpoints((e) => addresses(e).length === 3, 'web-exposed');
  t.same(addresses(ep), ips);
  t.same(ports(ep), [8080]);

  const pod = (await readyPods())[0];
  const byPod = await cluster.kubeact(['expose', 'pod', pod.metadata!.name!, '--port', '8080', '--name', 'one-pod']);
  t.equal(byPod.stdout.trim(), 'service/one-pod exposed');
  const one = await cluster.client.get('Service', 'one-pod', NS);
  t.match(one.spec.selector, { app: 'web' }, 'the pod\'s labels');
  const again = await cluster.kubeact(['expose', 'deployment/web', '--port', '80', '--name', 'web-exposed']);
  t.equal(again.code, 1);
  t.equal(again.stderr.trim(), 'Error from server (AlreadyExists): services "web-exposed" already exists');
  const node = await cluster.kubeact(['expose', 'node', 'x', '--port', '80']);
  t.equal(node.stderr.trim(), 'error: cannot expose a Node');
});

t.test('deleting a Service deletes its Endpoints', async (t) => {
  for (const name of ['web-exposed', 'one-pod', 'web-np']) {
    await cluster.client.delete('Service', name, { namespace: NS });
    const gone = await endpoints((e) => e === undefined, name);
    t.equal(gone, undefined, `${name}'s Endpoints are gone`);
  }
  // The freed node port can be requested again.
  const reuse = await cluster.client.create({ ...service, metadata: { name: 'web-np3', namespace: NS }, spec: { ...service.spec, type: 'NodePort', ports: [{ name: 'http', port: 80, targetPort: 'http', nodePort }] } });
  t.equal(reuse.spec.ports[0].nodePort, nodePort);
});
