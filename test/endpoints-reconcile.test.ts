/**
 * The Endpoints controller's pure decision (actors/endpoints): which pods are endpoints, ready or
 * not, targetPort resolution by number and by container port name, subsets repacked as kube does,
 * labels, and when to create, update, delete or leave alone.
 */
import t from 'tap';
import type { Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';
import { HEADLESS_LABEL, desiredSubsets, findPort, reconcileEndpoints, repackSubsets } from '../actors/endpoints/index.js';

let n = 0;
function pod(name: string, ip: string | undefined, opts: { ready?: boolean; labels?: Record<string, string>; node?: string; phase?: string; deleting?: boolean; namespace?: string; ports?: any[] } = {}): Pod {
  n++;
  return {
    metadata: {
      name,
      namespace: opts.namespace ?? 'default',
      uid: `uid-${name}`,
      labels: opts.labels ?? { app: 'web' },
      ...(opts.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
    spec: { nodeName: opts.node ?? 'node-1', containers: [{ name: 'c', image: 'x', ports: opts.ports ?? [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }] },
    status: {
      phase: opts.phase ?? 'Running',
      ...(ip ? { podIP: ip, podIPs: [{ ip }] } : {}),
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }],
    },
  } as Pod;
}

function service(spec: Record<string, unknown> = {}, labels?: Record<string, string>): Service {
  return {
    metadata: { name: 'web', namespace: 'default', uid: 'svc-uid', ...(labels ? { labels } : {}) },
    spec: { selector: { app: 'web' }, clusterIP: '127.100.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 'http' }], ...spec },
  } as Service;
}

const ref = (name: string, namespace = 'default') => ({ kind: 'Pod', namespace, name, uid: `uid-${name}` });

t.test('ready pods are addresses, unready ones notReadyAddresses; the named targetPort is resolved', async (t) => {
  const pods = [pod('b', '127.64.1.2'), pod('a', '127.64.0.2', { node: 'node-0' }), pod('c', '127.64.0.3', { ready: false })];
  t.same(desiredSubsets(service(), pods), [
    {
      addresses: [
        { ip: '127.64.0.2', nodeName: 'node-0', targetRef: ref('a') },
        { ip: '127.64.1.2', nodeName: 'node-1', targetRef: ref('b') },
      ],
      notReadyAddresses: [{ ip: '127.64.0.3', nodeName: 'node-1', targetRef: ref('c') }],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    },
  ]);
});

t.test('pods that are no endpoints: other labels, other namespace, no IP, terminating, finished', async (t) => {
  const pods = [
    pod('ok', '127.64.0.9'),
    pod('other', '127.64.0.10', { labels: { app: 'db' } }),
    pod('elsewhere', '127.64.0.11', { namespace: 'prod' }),
    pod('pending', undefined),
    pod('going', '127.64.0.12', { deleting: true }),
    pod('done', '127.64.0.13', { phase: 'Succeeded' }),
    pod('failed', '127.64.0.14', { phase: 'Failed' }),
  ];
  const subsets = desiredSubsets(service(), pods);
  t.same(subsets.flatMap((s) => [...(s.addresses ?? []), ...(s.notReadyAddresses ?? [])]).map((a) => a.targetRef?.name), ['ok']);
  // publishNotReadyAddresses: terminating and unready pods are published as ready.
  const published = desiredSubsets(service({ publishNotReadyAddresses: true }), [pod('going', '127.64.0.12', { deleting: true }), pod('slow', '127.64.0.15', { ready: false })]);
  t.same(published.map((s) => (s.addresses ?? []).map((a) => a.ip)), [['127.64.0.12', '127.64.0.15']]);
  t.same(published.map((s) => s.notReadyAddresses), [undefined]);
});

t.test('findPort: numbers as they are, names by protocol among container ports', async (t) => {
  const p = pod('p', '127.64.0.2', { ports: [{ name: 'dns', containerPort: 5353, protocol: 'UDP' }, { name: 'dns', containerPort: 5354, protocol: 'TCP' }, { name: 'web', containerPort: 8080 }] });
  t.equal(findPort(p, { port: 80, targetPort: 9000, protocol: 'TCP' }), 9000);
  t.equal(findPort(p, { port: 80, protocol: 'TCP' }), 80, 'no targetPort: the port');
  t.equal(findPort(p, { port: 53, targetPort: 'dns', protocol: 'UDP' }), 5353);
  t.equal(findPort(p, { port: 53, targetPort: 'dns', protocol: 'TCP' }), 5354);
  t.equal(findPort(p, { port: 80, targetPort: 'web' }), 8080, 'protocol defaults to TCP on both sides');
  t.equal(findPort(p, { port: 80, targetPort: 'nope', protocol: 'TCP' }), undefined);
});

t.test('a pod without the named port is no endpoint of that port; subsets group ports by the addresses offering them', async (t) => {
  const svc = service({ ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 'http' }, { name: 'metrics', port: 9090, protocol: 'TCP', targetPort: 9090 }] });
  const withHttp = pod('a', '127.64.0.2');
  const without = pod('b', '127.64.0.3', { ports: [{ name: 'other', containerPort: 1234 }] });
  // As RepackSubsets: http is offered by {a}, metrics by {a, b}: two subsets, a in both.
  t.same(desiredSubsets(svc, [withHttp, without]), [
    {
      addresses: [
        { ip: '127.64.0.2', nodeName: 'node-1', targetRef: ref('a') },
        { ip: '127.64.0.3', nodeName: 'node-1', targetRef: ref('b') },
      ],
      ports: [{ name: 'metrics', port: 9090, protocol: 'TCP' }],
    },
    { addresses: [{ ip: '127.64.0.2', nodeName: 'node-1', targetRef: ref('a') }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] },
  ]);
  // Both pods offering both ports: one subset with both ports.
  t.same(
    desiredSubsets(svc, [withHttp, pod('c', '127.64.0.4')]).map((s) => [(s.addresses ?? []).map((a) => a.ip), (s.ports ?? []).map((p) => p.name)]),
    [[['127.64.0.2', '127.64.0.4'], ['http', 'metrics']]],
  );
});

t.test('pods resolving a named port differently land in separate subsets; addresses sort by IP numerically', async (t) => {
  const svc = service();
  const pods = [pod('x', '127.64.0.10'), pod('y', '127.64.0.9'), pod('z', '127.64.0.11', { ports: [{ name: 'http', containerPort: 9999 }] })];
  t.same(
    desiredSubsets(svc, pods).map((s) => [(s.addresses ?? []).map((a) => a.ip), (s.ports ?? []).map((p) => p.port)]),
    [
      [['127.64.0.9', '127.64.0.10'], [8080]],
      [['127.64.0.11'], [9999]],
    ],
  );
});

t.test('headless without ports: addresses without ports; with ports as usual', async (t) => {
  const subsets = desiredSubsets(service({ clusterIP: 'None', ports: [] }), [pod('a', '127.64.0.2')]);
  t.same(subsets, [{ addresses: [{ ip: '127.64.0.2', nodeName: 'node-1', targetRef: ref('a') }] }]);
  t.same(desiredSubsets(service({ ports: [] }), [pod('a', '127.64.0.2')]), [], 'a ClusterIP service without ports has none');
});

t.test('hostname is set for a pod in the service\'s subdomain', async (t) => {
  const p = pod('a', '127.64.0.2');
  (p.spec as any).hostname = 'a-0';
  (p.spec as any).subdomain = 'web';
  t.same(desiredSubsets(service(), [p])[0].addresses, [{ ip: '127.64.0.2', hostname: 'a-0', nodeName: 'node-1', targetRef: ref('a') }]);
});

t.test('repackSubsets: one address offering a port twice is listed once', async (t) => {
  const addr = { ip: '127.64.0.2' };
  const port = { name: 'http', port: 80, protocol: 'TCP' };
  t.same(repackSubsets([{ addr, ready: true, port }, { addr, ready: true, port }]), [{ addresses: [addr], ports: [port] }]);
});

t.test('reconcile: create, none when equal, update on change, delete when the service is gone, leave selector-less alone', async (t) => {
  const pods = [pod('a', '127.64.0.2')];
  const svc = service({}, { app: 'web', tier: 'front' });
  const create = reconcileEndpoints({ service: svc, pods });
  t.equal(create.type, 'create');
  const ep = (create as { endpoints: Endpoints }).endpoints;
  t.match(ep, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'web', namespace: 'default', labels: { app: 'web', tier: 'front' } } });
  t.equal(ep.subsets?.length, 1);

  const stored = { ...structuredClone(ep), metadata: { ...ep.metadata, uid: 'ep-uid', resourceVersion: '7' } } as Endpoints;
  t.same(reconcileEndpoints({ service: svc, pods, endpoints: stored }), { type: 'none' });

  const unready = reconcileEndpoints({ service: svc, pods: [pod('a', '127.64.0.2', { ready: false })], endpoints: stored });
  t.equal(unready.type, 'update');
  const updated = (unready as { endpoints: Endpoints }).endpoints;
  t.equal(updated.metadata?.resourceVersion, '7', 'compare-and-set against the version read');
  t.same(updated.subsets?.[0].notReadyAddresses?.map((a) => a.ip), ['127.64.0.2']);
  t.notOk(updated.subsets?.[0].addresses);

  const empty = reconcileEndpoints({ service: svc, pods: [], endpoints: stored });
  t.equal(empty.type, 'update');
  t.notOk((empty as { endpoints: Endpoints }).endpoints.subsets, 'no pods: no subsets');

  const relabelled = reconcileEndpoints({ service: service({}, { app: 'web' }), pods, endpoints: stored });
  t.equal(relabelled.type, 'update', 'labels follow the service');
  t.same((relabelled as { endpoints: Endpoints }).endpoints.metadata?.labels, { app: 'web' });

  t.same(reconcileEndpoints({ service: undefined, pods, endpoints: stored }), { type: 'delete', namespace: 'default', name: 'web', uid: 'ep-uid' });
  t.same(reconcileEndpoints({ service: undefined, pods, endpoints: undefined, namespace: 'default', name: 'web' }), { type: 'none' });
  t.same(reconcileEndpoints({ service: service({ selector: undefined }), pods, endpoints: stored }), { type: 'none' }, 'no selector: user-managed');
  t.same(reconcileEndpoints({ service: service({ selector: {} }), pods }), { type: 'none' }, 'an empty selector is no selector');
});

t.test('headless services\' Endpoints carry the headless label', async (t) => {
  const action = reconcileEndpoints({ service: service({ clusterIP: 'None' }), pods: [] });
  t.same((action as { endpoints: Endpoints }).endpoints.metadata?.labels, { [HEADLESS_LABEL]: '' });
});

t.test('more pods than fit on a line: three shown by kubectl, all listed here', async (t) => {
  const pods = Array.from({ length: 12 }, (_, i) => pod(`p${i}`, `127.64.${i % 3}.${10 + i}`, { ready: i % 4 !== 0 }));
  const subsets = desiredSubsets(service(), pods);
  t.equal(subsets.length, 1);
  t.equal(subsets[0].addresses?.length, 9);
  t.equal(subsets[0].notReadyAddresses?.length, 3);
  t.ok(n > 0);
});
