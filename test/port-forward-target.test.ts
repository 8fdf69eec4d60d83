/**
 * port-forward's pure choices (nodes/cli/port-forward-target.ts): port mappings, the pod of a
 * Service (a ready endpoint) or of a workload (ready first), and the pod port (service port →
 * targetPort, named ports → container ports), with kubectl's error wording.
 */
import t from 'tap';
import type { Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';
import { endpointPod, parsePortMapping, pickPod, podPort } from '../nodes/cli/port-forward-target.js';

function pod(name: string, opts: { ready?: boolean; phase?: string; labels?: Record<string, string>; created?: string; deleting?: boolean } = {}): Pod {
  return {
    metadata: { name, labels: opts.labels ?? { app: 'web' }, creationTimestamp: opts.created ?? '2026-01-01T00:00:00Z', ...(opts.deleting ? { deletionTimestamp: '2026-01-01T00:01:00Z' } : {}) },
    spec: { containers: [{ name: 'c', image: 'x', ports: [{ name: 'http', containerPort: 8080 }, { name: 'dns', containerPort: 5353, protocol: 'UDP' }] }] },
    status: { phase: opts.phase ?? 'Running', conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] },
  } as Pod;
}

const service = { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'web', port: 80, targetPort: 'http' }, { name: 'admin', port: 9000, targetPort: 9001 }, { name: 'plain', port: 7000 }] } } as Service;

t.test('mappings: REMOTE, LOCAL:REMOTE, :REMOTE (random local), names; bad ones refused', async (t) => {
  t.same(parsePortMapping('8080'), { local: 8080, remote: '8080' });
  t.same(parsePortMapping('8888:80'), { local: 8888, remote: '80' });
  t.same(parsePortMapping(':80'), { local: 0, remote: '80' });
  t.same(parsePortMapping('9000:http'), { local: 9000, remote: 'http' });
  t.throws(() => parsePortMapping('http'), /a port name needs a local port/);
  t.throws(() => parsePortMapping('0'), /remote port must be a number from 1 to 65535/);
  t.throws(() => parsePortMapping('70000'), /remote port/);
  t.throws(() => parsePortMapping('x:80'), /local port must be a number/);
  t.throws(() => parsePortMapping('1:2:3'), /expected \[LOCAL_PORT:\]REMOTE_PORT/);
  t.throws(() => parsePortMapping('80:'), /remote port/);
});

t.test('the pod of a Service: its first ready endpoint with a pod behind it', async (t) => {
  const ep = { subsets: [{ notReadyAddresses: [{ ip: '127.64.0.9', targetRef: { kind: 'Pod', name: 'unready' } }], addresses: [{ ip: '127.64.0.3' }, { ip: '127.64.0.2', targetRef: { kind: 'Pod', name: 'web-a' } }] }] } as Endpoints;
  t.equal(endpointPod(ep), 'web-a');
  t.equal(endpointPod({ subsets: [{ notReadyAddresses: [{ ip: '127.64.0.9', targetRef: { kind: 'Pod', name: 'unready' } }] }] } as Endpoints), undefined);
  t.equal(endpointPod(undefined), undefined);
});

t.test('the pod of a workload: ready first, then running, then the oldest; other labels and deleting pods left out', async (t) => {
  const pods = [pod('pending', { phase: 'Pending', created: '2020-01-01T00:00:00Z' }), pod('unready', { ready: false }), pod('b', { created: '2026-02-01T00:00:00Z' }), pod('a', { created: '2026-03-01T00:00:00Z' }), pod('other', { labels: { app: 'db' } }), pod('gone', { deleting: true, created: '2019-01-01T00:00:00Z' })];
  t.equal(pickPod({ matchLabels: { app: 'web' } }, pods)?.metadata?.name, 'b');
  t.equal(pickPod({ matchLabels: { app: 'web' } }, pods.filter((p) => !['a', 'b'].includes(p.metadata!.name!)))?.metadata?.name, 'unready');
  t.equal(pickPod({ matchExpressions: [{ key: 'app', operator: 'In', values: ['db'] }] }, pods)?.metadata?.name, 'other');
  t.equal(pickPod({}, pods), undefined, 'an empty selector picks nothing');
  t.equal(pickPod({ matchLabels: { app: 'none' } }, pods), undefined);
});

t.test('the pod port: service port (number or name) → targetPort, named → the container port; errors as kubectl words them', async (t) => {
  const p = pod('web-a');
  t.equal(podPort(p, '80', service), 8080, 'named targetPort');
  t.equal(podPort(p, 'web', service), 8080, 'service port by name');
  t.equal(podPort(p, '9000', service), 9001, 'numeric targetPort');
  t.equal(podPort(p, '7000', service), 7000, 'no targetPort: the port');
  t.throws(() => podPort(p, '81', service), /^Service web does not have a service port 81$/);
  t.equal(podPort(p, '3000'), 3000, 'a pod: the number as given');
  t.equal(podPort(p, 'http'), 8080, 'a pod: a named container port');
  t.throws(() => podPort(p, 'dns'), /Pod 'web-a' does not have a named port 'dns'/, 'UDP ports cannot be forwarded');
  const noSuch = { ...service, spec: { ...service.spec, ports: [{ port: 80, targetPort: 'metrics' }] } } as Service;
  t.throws(() => podPort(p, '80', noSuch), /Pod 'web-a' does not have a named port 'metrics'/);
});
