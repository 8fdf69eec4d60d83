/**
 * Cluster DNS end to end on a real cluster (nats-server, control plane with the DNS server, 2
 * workers with kube-proxy, as OS processes): kube-dns's Endpoints point at the server; queries
 * straight to the server and through the kube-dns ClusterIP (kube-proxy, UDP and TCP) answer A
 * with the ClusterIP, SRV with the port, headless with the ready pods' IPs, pod records,
 * NXDOMAIN and REFUSED; a large answer is truncated over UDP and whole over TCP; garbage gets
 * FORMERR; a pod resolves a Service by its short name through the resolv.conf its kubelet wrote.
 * Every wait is on a condition with a deadline.
 */
import t from 'tap';
import dgram from 'node:dgram';
import net from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { Resolver } from 'node:dns/promises';
import dnsPacket, { type DecodedPacket } from 'dns-packet';
import type { KubeObject } from '../protocol/objects.js';
import { entryPoint } from '../nodes/shared/paths.js';
import { startCluster, waitForObject, type TestCluster } from './helpers/cluster.js';
import { retry } from './helpers/wait.js';

let cluster: TestCluster;
let server: { host: string; port: number };
let clusterDNS: string;

t.before(async () => {
  cluster = await startCluster({ nodes: 2 });
  const [host, port] = cluster.ctx.dnsListen!.split(':');
  server = { host, port: Number(port) };
  clusterDNS = cluster.ctx.clusterDNS!;
});

t.teardown(async () => {
  await cluster?.stop();
});

const pod = (name: string, labels: Record<string, string>, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', labels },
  spec: {
    terminationGracePeriodSeconds: 0,
    containers: [{ name: 'main', image: 'node:20', command: [process.execPath, '-e', 'setInterval(() => {}, 1e6)'], ports: [{ name: 'http', containerPort: 8080 }] }],
    ...extra,
  },
});

const service = (name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'default' },
  spec: { ports: [{ name: 'http', port: 80, targetPort: 'http' }], ...spec },
});

function resolver(host: string, port = 53): Resolver {
  const r = new Resolver({ timeout: 1000, tries: 2 });
  r.setServers([port === 53 ? host : `${host}:${port}`]);
  return r;
}

/** Retries `check` until it passes or the deadline: the DNS zone follows the store a moment after it changes. */
const eventually = <T>(what: string, check: () => Promise<T>, timeoutMs = 20_000): Promise<T> => retry(what, check, timeoutMs, 100);

function codeOf(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'resolved',
    (e) => (e as NodeJS.ErrnoException).code ?? String(e),
  );
}

/** Sends one DNS message over UDP or TCP (length-framed) and resolves with the reply; fails after 3 s. */
function dnsExchange(transport: 'UDP' | 'TCP', host: string, port: number, msg: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let close = () => {};
    let settled = false;
    const settle = (reply: Buffer | undefined, err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      close();
      if (err) reject(err);
      else resolve(reply!);
    };
    const timer = setTimeout(() => settle(undefined, new Error(`no ${transport} reply from ${host}:${port}`)), 3000);
    if (transport === 'UDP') {
      const sock = dgram.createSocket('udp4');
      close = () => sock.close();
      sock.on('message', (reply) => settle(reply));
      sock.send(msg, port, host);
      return;
    }
    const sock = net.connect(port, host);
    close = () => sock.destroy();
    let buf = Buffer.alloc(0);
    sock.on('error', (e) => settle(undefined, e));
    sock.on('connect', () => {
      const framed = Buffer.alloc(2 + msg.length);
      framed.writeUInt16BE(msg.length, 0);
      msg.copy(framed, 2);
      sock.write(framed);
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) settle(buf.subarray(2, 2 + buf.readUInt16BE(0)));
    });
  });
}

const udpQuery = (host: string, port: number, msg: Buffer) => dnsExchange('UDP', host, port, msg);
const tcpQuery = (host: string, port: number, msg: Buffer) => dnsExchange('TCP', host, port, msg);

const aQuery = (name: string, id = 77) => dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: 'A', class: 'IN' }] });
const decode = (b: Buffer) => dnsPacket.decode(b) as DecodedPacket & { rcode: string };

let webIP: string;
let podIPs: string[];

t.test('kube-dns: selector-less, its Endpoints point at the control plane\'s DNS server', async (t) => {
  const svc = await cluster.client.get('Service', 'kube-dns', 'kube-system');
  t.equal(svc.spec.clusterIP, clusterDNS);
  t.notOk(svc.spec.selector);
  const ep = await waitForObject(cluster.client, 'Endpoints', 'kube-dns', 'kube-system', (e: any) => e?.subsets?.[0]?.addresses?.[0]?.ip === server.host, 30_000);
  t.same((ep as any).subsets[0].ports.map((p: any) => `${p.name} ${p.port}/${p.protocol}`).sort(), [`dns ${server.port}/UDP`, `dns-tcp ${server.port}/TCP`]);
});

t.test('services and pods: A, SRV, headless, pod records, NXDOMAIN, REFUSED — straight to the server', async (t) => {
  await cluster.client.create(pod('dns-a', { app: 'dnsweb' }));
  await cluster.client.create(pod('dns-b', { app: 'dnsweb' }));
  const web = await cluster.client.create(service('web', { selector: { app: 'dnsweb' } }));
  webIP = web.spec.clusterIP;
  await cluster.client.create(service('web-hl', { selector: { app: 'dnsweb' }, clusterIP: 'None' }));
  const ep = await waitForObject(cluster.client, 'Endpoints', 'web-hl', 'default', (e: any) => (e?.subsets ?? []).flatMap((s: any) => s.addresses ?? []).length === 2, 60_000);
  podIPs = (ep as any).subsets.flatMap((s: any) => s.addresses.map((a: any) => a.ip)).sort();
  const r = resolver(server.host, server.port);

  t.same(await eventually('A of web', () => r.resolve4('web.default.svc.cluster.local')), [webIP], 'A: the ClusterIP');
  t.same(await r.resolveSrv('_http._tcp.web.default.svc.cluster.local'), [{ name: 'web.default.svc.cluster.local', port: 80, priority: 0, weight: 100 }], 'SRV: the service port');
  const headless = await eventually('A of web-hl with both pods', async () => {
    const ips = (await r.resolve4('web-hl.default.svc.cluster.local')).sort();
    if (ips.length !== 2) throw new Error(`got ${ips}`);
    return ips;
  });
  t.same(headless, podIPs, 'headless: the ready pods\' IPs');
  const srv = (await r.resolveSrv('_http._tcp.web-hl.default.svc.cluster.local')).map((s) => `${s.port} ${s.name}`).sort();
  t.same(srv, podIPs.map((ip) => `8080 ${ip.replace(/\./g, '-')}.web-hl.default.svc.cluster.local`).sort(), 'headless SRV: one per pod, with the target port');
  t.same(await r.resolve4(`${podIPs[0].replace(/\./g, '-')}.default.pod.cluster.local`), [podIPs[0]], 'pod record');
  t.equal(await codeOf(r.resolve4('nope.default.svc.cluster.local')), 'ENOTFOUND', 'unknown service: NXDOMAIN');
  t.equal(await codeOf(r.resolve4('example.com')), 'EREFUSED', 'outside the cluster domain: REFUSED');

  await cluster.client.delete('Service', 'web', { namespace: 'default' });
  t.equal(await eventually('web gone from DNS', async () => {
    const code = await codeOf(r.resolve4('web.default.svc.cluster.local'));
    if (code !== 'ENOTFOUND') throw new Error(code);
    return code;
  }), 'ENOTFOUND', 'a deleted service leaves DNS');
  const again = await cluster.client.create(service('web', { selector: { app: 'dnsweb' }, clusterIP: webIP }));
  t.equal(again.spec.clusterIP, webIP);
  t.same(await eventually('web back in DNS', () => r.resolve4('web.default.svc.cluster.local')), [webIP]);
});

t.test('through the kube-dns ClusterIP (kube-proxy): UDP and TCP', async (t) => {
  const r = resolver(clusterDNS);
  t.same(await eventually('A through the kube-dns ClusterIP', () => r.resolve4('web.default.svc.cluster.local')), [webIP], 'UDP through the proxy');
  const tcp = decode(await eventually('TCP through the ClusterIP', () => tcpQuery(clusterDNS, 53, aQuery('web.default.svc.cluster.local'))));
  t.equal(tcp.rcode, 'NOERROR');
  t.same(tcp.answers?.map((a) => (a as any).data), [webIP], 'TCP through the proxy');
});

t.test('a large answer: TC over UDP, whole over TCP; a resolver gets it all', async (t) => {
  const addresses = Array.from({ length: 60 }, (_, i) => ({ ip: `127.250.${Math.floor(i / 200)}.${(i % 200) + 1}` }));
  await cluster.client.create(service('many', { clusterIP: 'None' }));
  await cluster.client.create({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'many', namespace: 'default' }, subsets: [{ addresses, ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }] });
  const r = resolver(server.host, server.port);
  const all = await eventually('60 addresses', async () => {
    const ips = await r.resolve4('many.default.svc.cluster.local');
    if (ips.length !== 60) throw new Error(`got ${ips.length}`);
    return ips;
  });
  t.equal(all.length, 60, 'the resolver retried over TCP and got all 60');
  const udp = decode(await udpQuery(server.host, server.port, aQuery('many.default.svc.cluster.local')));
  t.ok(udp.flag_tc, 'UDP: truncated');
  t.same(udp.answers, []);
  const tcp = decode(await tcpQuery(server.host, server.port, aQuery('many.default.svc.cluster.local')));
  t.notOk(tcp.flag_tc);
  t.equal(tcp.answers?.length, 60, 'TCP: whole');
});

t.test('garbage gets FORMERR and the server keeps answering', async (t) => {
  const garbage = Buffer.from([0xbe, 0xef, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff]);
  const reply = decode(await udpQuery(server.host, server.port, garbage));
  t.equal(reply.id, 0xbeef);
  t.equal(reply.rcode, 'FORMERR');
  const after = decode(await udpQuery(server.host, server.port, aQuery('web.default.svc.cluster.local', 9)));
  t.same(after.answers?.map((a) => (a as any).data), [webIP]);
});

t.test('a pod resolves a service by its short name through the resolv.conf its kubelet wrote', async (t) => {
  const lookup = entryPoint('nodes/dns/lookup.js');
  await cluster.client.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'dns-client', namespace: 'default' },
    spec: {
      restartPolicy: 'Never',
      containers: [
        { name: 'conf', image: 'busybox', command: [process.execPath, '-e', "process.stdout.write(require('fs').readFileSync(process.env.KUBEACT_RESOLV_CONF, 'utf8'))"] },
        { name: 'lookup', image: 'busybox', command: [process.execPath, lookup, 'web'] },
      ],
    },
  });
  const done = await waitForObject(cluster.client, 'Pod', 'dns-client', 'default', (p: any) => ['Succeeded', 'Failed'].includes(p?.status?.phase), 60_000);
  const conf = await cluster.kubeact(['logs', 'dns-client', '-c', 'conf']);
  const logs = await cluster.kubeact(['logs', 'dns-client', '-c', 'lookup']);
  t.equal((done as any).status.phase, 'Succeeded', `lookup succeeded; logs:\n${conf.stdout}${logs.stdout}${logs.stderr}`);
  const confLines = conf.stdout.split('\n');
  // The node's own search domains (if any) follow the cluster's three.
  t.ok(confLines.some((l) => l.startsWith('search default.svc.cluster.local svc.cluster.local cluster.local')), 'resolv.conf: the search path');
  t.ok(confLines.includes(`nameserver ${clusterDNS}`), 'resolv.conf: the kube-dns ClusterIP');
  t.ok(confLines.includes('options ndots:5'), 'resolv.conf: ndots 5');
  const lines = logs.stdout.split('\n');
  t.ok(lines.includes(`Server:\t\t${clusterDNS}`), 'asked the kube-dns ClusterIP');
  t.ok(lines.includes('Name:\tweb.default.svc.cluster.local'), 'the first search domain found it');
  t.ok(lines.includes(`Address: ${webIP}`), 'the ClusterIP');
});

t.test('dnsPolicy None with dnsConfig: only what the pod asks for', async (t) => {
  await cluster.client.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'dns-none', namespace: 'default' },
    spec: {
      restartPolicy: 'Never',
      dnsPolicy: 'None',
      dnsConfig: { nameservers: ['127.0.0.53'], searches: ['example.test'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] },
      containers: [{ name: 'cat', image: 'busybox', command: [process.execPath, '-e', "process.stdout.write(require('fs').readFileSync(process.env.KUBEACT_RESOLV_CONF, 'utf8'))"] }],
    },
  });
  await waitForObject(cluster.client, 'Pod', 'dns-none', 'default', (p: any) => p?.status?.phase === 'Succeeded', 60_000);
  const logs = await cluster.kubeact(['logs', 'dns-none']);
  t.equal(logs.stdout, 'search example.test\nnameserver 127.0.0.53\noptions ndots:2 edns0\n');
});

t.test('the pods\' resolv.conf files go with their pods', async (t) => {
  const p = await cluster.client.get('Pod', 'dns-none', 'default');
  const node = cluster.ctx.processes.find((x) => x.name === p.spec.nodeName)!;
  const file = `${node.dataDir}/kubelet/pods/${p.metadata!.uid}/resolv.conf`;
  t.ok(readFileSync(file, 'utf8').includes('nameserver 127.0.0.53'), 'written under the node data dir');
  await cluster.kubeact(['delete', 'pod', 'dns-none']);
  // The kubelet cleans up after the object is gone, so this follows `delete` by a moment.
  const gone = await eventually('resolv.conf removed', async () => {
    if (existsSync(file)) throw new Error(`${file} still there`);
    return true;
  });
  t.ok(gone, 'removed with the pod');
});
