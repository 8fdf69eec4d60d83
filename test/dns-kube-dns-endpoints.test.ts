/**
 * The kube-dns Endpoints decision (nodes/dns/kube-dns-endpoints.ts): the DNS server's address
 * under each Service port, created, updated when the address or ports change, left alone when
 * right; an old kube-dns with a selector made selector-less; `--dns-listen` parsing.
 */
import t from 'tap';
import type { Endpoints, Service } from 'kubernetes-types/core/v1.js';
import { parseDnsListen, reconcileDnsEndpoints } from '../nodes/dns/kube-dns-endpoints.js';
import { dnsServiceObject } from '../nodes/apiserver/service-ips.js';

const service = { ...dnsServiceObject('127.100.0.10'), metadata: { ...dnsServiceObject('127.100.0.10').metadata, uid: 'u1', resourceVersion: '5' } } as Service;
const listen = { host: '127.0.1.254', port: 53 };

t.test('no Endpoints yet: created with the server address under both ports, named as the Service ports', async (t) => {
  const a = reconcileDnsEndpoints(service, undefined, listen);
  t.equal(a.type, 'create');
  if (a.type !== 'create') return;
  t.same(a.endpoints.metadata, { name: 'kube-dns', namespace: 'kube-system', labels: service.metadata!.labels });
  t.same(a.endpoints.subsets, [{ addresses: [{ ip: '127.0.1.254' }], ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] }]);
});

t.test('right already: nothing; another address or port: updated, keeping the stored metadata (CAS)', async (t) => {
  const created = reconcileDnsEndpoints(service, undefined, listen) as { endpoints: Endpoints };
  const stored = { ...created.endpoints, metadata: { ...created.endpoints.metadata, uid: 'e1', resourceVersion: '9' } };
  t.same(reconcileDnsEndpoints(service, stored, listen), { type: 'none' });
  const moved = reconcileDnsEndpoints(service, stored, { host: '127.0.1.254', port: 10053 });
  t.equal(moved.type, 'update');
  if (moved.type !== 'update') return;
  t.equal(moved.endpoints.metadata?.resourceVersion, '9');
  t.equal(moved.endpoints.metadata?.uid, 'e1');
  t.same(moved.endpoints.subsets?.[0].ports?.map((p) => p.port), [10053, 10053]);
});

t.test('a kube-dns with a selector (stored by an older kubeact) is made selector-less first; no Service: nothing', async (t) => {
  const old = { ...service, spec: { ...service.spec, selector: { 'k8s-app': 'kube-dns' } } } as Service;
  const a = reconcileDnsEndpoints(old, undefined, listen);
  t.equal(a.type, 'dropSelector');
  if (a.type === 'dropSelector') {
    t.notOk(a.service.spec?.selector);
    t.equal(a.service.spec?.clusterIP, '127.100.0.10');
    t.equal(a.service.metadata?.resourceVersion, '5');
  }
  t.same(reconcileDnsEndpoints(undefined, undefined, listen), { type: 'none' });
});

t.test('--dns-listen: ADDRESS:PORT on loopback, clear errors otherwise', async (t) => {
  t.same(parseDnsListen('127.0.1.254:53'), { host: '127.0.1.254', port: 53 });
  t.same(parseDnsListen(' 127.0.9.254:10053 '), { host: '127.0.9.254', port: 10053 });
  t.throws(() => parseDnsListen('127.0.1.254'), /expected ADDRESS:PORT/);
  t.throws(() => parseDnsListen('127.0.1.300:53'), /expected ADDRESS:PORT/);
  t.throws(() => parseDnsListen('127.0.1.1:0'), /expected ADDRESS:PORT/);
  t.throws(() => parseDnsListen('10.0.0.1:53'), /not a loopback address/);
});
