/**
 * Service defaults and the API server's ClusterIP / NodePort allocators, against a real
 * nats-server (JetStream KV) and an in-process API server on a small service CIDR: allocation on
 * create, requested values, field errors for taken or out-of-range ones, immutability across
 * update and apply, release on delete, no double allocation under concurrent creates, the
 * reserved DNS address and the kube-dns Service, and the tables rebuilt after a restart.
 */
import t from 'tap';
import type { NatsConnection } from 'nats';
import { ServiceAllocator, dnsServiceIP, prepareServiceUpdate } from '../nodes/apiserver/service-ips.js';
import { contains, parseCidr } from '../nodes/shared/cidr.js';
import type { ApiClient } from '../protocol/client.js';
import { ApiError, Reason } from '../protocol/errors.js';
import type { KubeObject } from '../protocol/objects.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';
import { rejects } from './helpers/errors.js';

const CIDR = '127.100.8.0/26'; // 62 usable addresses: small enough to fill
let api: TestApiServer;
let nc: NatsConnection;
let client: ApiClient;

const svc = (name: string, spec: Record<string, unknown> = {}, namespace = 'default'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace },
  spec: { selector: { app: name }, ports: [{ port: 80 }], ...spec },
});


const causeLines = (e: ApiError) => e.causes.map((c) => `${c.field}: ${c.message}`);

t.before(async () => {
  api = await startTestApiServer({ serviceCidr: CIDR });
  ({ nc, client } = api);
});

t.teardown(async () => {
  await api.stop();
});

t.test('a Service is stored with Kubernetes defaults and a ClusterIP from the block', async (t) => {
  const created = await client.create(svc('web', { ports: [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'metrics', port: 9090 }] }));
  t.match(created.spec, {
    type: 'ClusterIP',
    sessionAffinity: 'None',
    ipFamilyPolicy: 'SingleStack',
    ipFamilies: ['IPv4'],
    internalTrafficPolicy: 'Cluster',
    ports: [
      { name: 'http', port: 80, protocol: 'TCP', targetPort: 'http' },
      { name: 'metrics', port: 9090, protocol: 'TCP', targetPort: 9090 },
    ],
  });
  t.notOk('externalTrafficPolicy' in created.spec, 'externalTrafficPolicy only for NodePort/LoadBalancer');
  t.ok(contains(parseCidr(CIDR), created.spec.clusterIP), `${created.spec.clusterIP} is in ${CIDR}`);
  t.same(created.spec.clusterIPs, [created.spec.clusterIP]);
  t.not(created.spec.clusterIP, dnsServiceIP(CIDR), 'the DNS address is never handed out');
  t.same(created.status, { loadBalancer: {} });
});

t.test('kube-dns exists in kube-system on the block\'s 10th address', async (t) => {
  const dns = await client.get('Service', 'kube-dns', 'kube-system');
  t.equal(dns.spec.clusterIP, '127.100.8.10');
  t.same(
    dns.spec.ports.map((p: any) => `${p.name} ${p.port}/${p.protocol}`),
    ['dns 53/UDP', 'dns-tcp 53/TCP'],
  );
  t.notOk(dns.spec.selector, 'selector-less: the control plane writes its Endpoints (the DNS server is not a pod)');
  const e = await rejects(client.create(svc('sneaky', { clusterIP: '127.100.8.10' })));
  t.same(causeLines(e), ['spec.clusterIP: Invalid value: "127.100.8.10": provided IP is already allocated']);
});

t.test('requested ClusterIPs: free one granted, taken or outside the block refused', async (t) => {
  const a = await client.create(svc('fixed', { clusterIP: '127.100.8.5' }));
  t.equal(a.spec.clusterIP, '127.100.8.5');
  t.same(a.spec.clusterIPs, ['127.100.8.5']);
  const taken = await rejects(client.create(svc('fixed-2', { clusterIP: '127.100.8.5' })));
  t.equal(taken.reason, Reason.Invalid);
  t.same(causeLines(taken), ['spec.clusterIP: Invalid value: "127.100.8.5": provided IP is already allocated']);
  const outside = await rejects(client.create(svc('fixed-3', { clusterIP: '127.100.9.5' })));
  t.same(causeLines(outside), [`spec.clusterIP: Invalid value: "127.100.9.5": provided IP is not in the valid range. The range of valid IPs is ${CIDR}`]);
  const viaList = await client.create(svc('fixed-4', { clusterIPs: ['127.100.8.6'] }));
  t.equal(viaList.spec.clusterIP, '127.100.8.6', 'clusterIPs alone is honoured');
  t.equal((await client.list('Service', { namespace: 'default', fieldSelector: 'metadata.name=fixed-2' })).items.length, 0, 'nothing stored for refused ones');
});

t.test('headless and ExternalName services allocate nothing', async (t) => {
  const before = api.server.serviceAllocator.usage().clusterIPs;
  const headless = await client.create(svc('headless', { clusterIP: 'None', ports: [] }));
  t.equal(headless.spec.clusterIP, 'None');
  t.same(headless.spec.clusterIPs, ['None']);
  const ext: KubeObject = await client.create<KubeObject>({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'ext' }, spec: { type: 'ExternalName', externalName: 'example.com' } });
  t.notOk(ext.spec.clusterIP);
  t.notOk(ext.spec.clusterIPs);
  t.equal(api.server.serviceAllocator.usage().clusterIPs, before);
});

t.test('the ClusterIP never changes: update and apply without it keep it, a different one is refused', async (t) => {
  const created = await client.create(svc('stable'));
  const ip = created.spec.clusterIP;
  // A full-object update that leaves clusterIP out (kube's patchAllocatedValues).
  const edited = structuredClone(created);
  delete edited.spec.clusterIP;
  delete edited.spec.clusterIPs;
  edited.spec.ports[0].port = 8080;
  const updated = await client.update(edited);
  t.equal(updated.spec.clusterIP, ip);
  t.equal(updated.spec.ports[0].port, 8080);
  // apply of the original manifest: configured (port back to 80), same IP; again: unchanged.
  const applied = await client.apply(svc('stable'));
  t.equal(applied.outcome, 'configured');
  t.equal(applied.object.spec.clusterIP, ip);
  t.equal((await client.apply(svc('stable'))).outcome, 'unchanged');
  const changed = structuredClone(applied.object);
  changed.spec.clusterIP = '127.100.8.7';
  changed.spec.clusterIPs = ['127.100.8.7'];
  const e = await rejects(client.update(changed));
  t.match(causeLines(e), [/^spec\.clusterIP: Invalid value: "127\.100\.8\.7": field is immutable/]);
});

t.test('node ports: allocated in 30000-32767, requested ones checked, shared by a port number across protocols', async (t) => {
  const np = await client.create(svc('np', { type: 'NodePort', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }, { name: 'http', port: 80 }] }));
  const [udp, tcp, http] = np.spec.ports.map((p: any) => p.nodePort);
  t.ok(udp >= 30000 && udp <= 32767, `nodePort ${udp} in range`);
  t.equal(tcp, udp, '53/UDP and 53/TCP share a node port');
  t.ok(http >= 30000 && http <= 32767 && http !== udp);
  t.equal(np.spec.externalTrafficPolicy, 'Cluster');

  const fixed = await client.create(svc('np-fixed', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }));
  t.equal(fixed.spec.ports[0].nodePort, 30080);
  const dup = await rejects(client.create(svc('np-dup', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] })));
  t.same(causeLines(dup), ['spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated']);

  // Re-applying the manifest: unchanged; a manifest without the nodePort keeps the allocated one (matched by port name).
  t.equal((await client.apply(svc('np-fixed', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }))).outcome, 'unchanged');
  t.equal((await client.apply(svc('np-fixed', { type: 'NodePort', ports: [{ port: 80 }] }))).object.spec.ports[0].nodePort, 30080);
  t.equal((await client.apply(svc('np', { type: 'NodePort', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }, { name: 'http', port: 80 }] }))).outcome, 'unchanged');

  // Becoming ClusterIP drops the node ports (carried over unchanged) and frees them.
  const current = await client.get('Service', 'np-fixed', 'default');
  current.spec.type = 'ClusterIP';
  const clusterIP = await client.update(current);
  t.notOk(clusterIP.spec.ports[0].nodePort, 'node port dropped');
  t.notOk(clusterIP.spec.externalTrafficPolicy, 'externalTrafficPolicy dropped');
  const reuse = await client.create(svc('np-reuse', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }));
  t.equal(reuse.spec.ports[0].nodePort, 30080, 'a freed node port can be requested again');

  // And back to NodePort: a new one is allocated on update.
  const again = await client.get('Service', 'np-fixed', 'default');
  again.spec.type = 'NodePort';
  const renp = await client.update(again);
  t.ok(renp.spec.ports[0].nodePort >= 30000, 'allocated on update');
});

t.test('delete releases the ClusterIP and node ports', async (t) => {
  // Both values from the static bands (IPs below .16, node ports below 30086): dynamic picks of
  // the earlier tests never take them, so only this test's own delete can free them.
  const a = await client.create(svc('tmp', { clusterIP: '127.100.8.12', type: 'NodePort', ports: [{ port: 80, nodePort: 30070 }] }));
  t.equal(a.spec.clusterIP, '127.100.8.12');
  await client.delete('Service', 'tmp', { namespace: 'default' });
  const b = await client.create(svc('tmp-2', { clusterIP: '127.100.8.12', type: 'NodePort', ports: [{ port: 80, nodePort: 30070 }] }));
  t.equal(b.spec.clusterIP, '127.100.8.12');
  t.equal(b.spec.ports[0].nodePort, 30070);
  await client.delete('Service', 'tmp-2', { namespace: 'default' });
});

t.test('concurrent creates never share an address; a full block is an error; deletes make room', async (t) => {
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'crowd' } });
  const results = await Promise.allSettled(Array.from({ length: 70 }, (_, i) => client.create(svc(`s${i}`, {}, 'crowd'))));
  const ok = results.filter((r): r is PromiseFulfilledResult<KubeObject> => r.status === 'fulfilled').map((r) => r.value);
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as ApiError);
  const all = (await client.list('Service')).items.map((s) => s.spec.clusterIP).filter((ip) => ip && ip !== 'None');
  t.equal(new Set(all).size, all.length, 'every stored ClusterIP is unique');
  t.equal(all.length, 62, 'the /26 is full: 62 usable addresses, DNS included');
  t.ok(ok.length > 0 && failed.length > 0);
  t.ok(failed.every((e) => e.reason === Reason.InternalError && /failed to allocate a serviceIP: range is full/.test(e.message)), failed[0]?.message);
  await client.delete('Namespace', 'crowd');
  await client.waitFor('Namespace', 'crowd', undefined, (ns) => ns === undefined, 10_000);
  const after = await client.create(svc('after-crowd'));
  t.ok(after.spec.clusterIP, 'room again after the namespace went');
});

t.test('after a restart the allocators are rebuilt from the stored services', async (t) => {
  const kept = await client.get('Service', 'fixed', 'default');
  const np = await client.get('Service', 'np', 'default');
  await api.restart();
  const e = await rejects(client.create(svc('clash', { clusterIP: kept.spec.clusterIP, type: 'NodePort', ports: [{ port: 80, nodePort: np.spec.ports[0].nodePort }] })));
  t.same(causeLines(e), [
    `spec.clusterIP: Invalid value: "${kept.spec.clusterIP}": provided IP is already allocated`,
    `spec.ports[0].nodePort: Invalid value: ${np.spec.ports[0].nodePort}: provided port is already allocated`,
  ]);
  t.equal((await client.list('Service', { namespace: 'kube-system' })).items.filter((s) => s.metadata?.name === 'kube-dns').length, 1, 'kube-dns is not created twice');
});

t.test('allocator, pure: dynamic picks prefer the upper band, requested ones may use the lower', async (t) => {
  const a = new ServiceAllocator({ serviceCidr: '127.100.0.0/24', random: () => 0 });
  const s = (name: string, spec: Record<string, unknown> = {}) => ({ ...svc(name, spec), metadata: { name, namespace: 'default', uid: `uid-${name}` } });
  const first = s('one');
  a.allocateCreate(first).done();
  // /24: the static band is its first 16 addresses (max(16, 256/16)), so dynamic starts at .16.
  t.equal(first.spec.clusterIP, '127.100.0.16');
  const low = s('low', { clusterIP: '127.100.0.3' });
  a.allocateCreate(low).done();
  t.equal(low.spec.clusterIP, '127.100.0.3');
  const np = s('np', { type: 'NodePort' });
  a.allocateCreate(np).done();
  t.equal(np.spec.ports[0].nodePort, 30086, 'node ports: the static band is 30000-30085');
  // Reserved but not yet stored: a second create cannot take the same value.
  const c1 = s('c1', { clusterIP: '127.100.0.4' });
  const claim = a.allocateCreate(c1);
  t.throws(() => a.allocateCreate(s('c2', { clusterIP: '127.100.0.4' })), /provided IP is already allocated/);
  claim.done(); // the write failed (never stored): free again
  a.allocateCreate(s('c3', { clusterIP: '127.100.0.4' })).done();
});

t.test('prepareServiceUpdate, pure: allocated values patched back, type-dependent fields dropped', async (t) => {
  const existing: KubeObject = { spec: { type: 'NodePort', clusterIP: '127.100.0.9', clusterIPs: ['127.100.0.9'], externalTrafficPolicy: 'Cluster', ports: [{ name: 'a', port: 80, nodePort: 30001 }, { name: 'b', port: 81, nodePort: 30002 }] } };
  const next: KubeObject = { spec: { type: 'NodePort', ports: [{ name: 'b', port: 81 }, { name: 'a', port: 80, nodePort: 30002 }] } };
  prepareServiceUpdate(existing, next);
  t.equal(next.spec.clusterIP, '127.100.0.9');
  t.same(next.spec.clusterIPs, ['127.100.0.9']);
  t.same(next.spec.ports.map((p: any) => p.nodePort), [undefined, 30002], 'b\'s old value is used by a now: not patched in');
  const toClusterIP: KubeObject = structuredClone(existing);
  toClusterIP.spec.type = 'ClusterIP';
  prepareServiceUpdate(existing, toClusterIP);
  t.same(toClusterIP.spec.ports.map((p: any) => p.nodePort), [undefined, undefined]);
  t.notOk(toClusterIP.spec.externalTrafficPolicy);
  t.equal(toClusterIP.spec.clusterIP, '127.100.0.9');
});
