/**
 * The Endpoints controller host (nodes/controllers/endpoints-controller.ts) against a real
 * nats-server and API server, with the shared informers it runs on in the controller-manager:
 * Endpoints created and kept in step with pod readiness and labels, rewritten when deleted or
 * edited, deleted with their Service, leftovers removed at start, user-managed Endpoints of
 * selector-less Services left alone. Pods are plain objects whose status the test writes (no
 * kubelet). Synchronised on watch events with deadlines, never sleeps.
 */
import t from 'tap';
import type { NatsConnection } from 'nats';
import { EndpointsController } from '../nodes/controllers/endpoints-controller.js';
import { Informer } from '../nodes/controllers/informer.js';
import { silentLogger } from '../nodes/shared/logger.js';
import type { ApiClient } from '../protocol/client.js';
import type { KubeObject } from '../protocol/objects.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';

const NS = 'default';
let api: TestApiServer;
let nc: NatsConnection;
let client: ApiClient;
let informers: Informer<KubeObject>[] = [];
let controller: EndpointsController | undefined;

async function startController(): Promise<void> {
  const [services, pods, endpoints] = (['Service', 'Pod', 'Endpoints'] as const).map((k) => new Informer<KubeObject>(client, k, { resyncMs: 60_000 }));
  informers = [services, pods, endpoints];
  await Promise.all(informers.map((i) => i.start()));
  controller = new EndpointsController({ client, services, pods, endpoints, logger: silentLogger() });
  controller.start();
}

function stopController(): void {
  controller?.stop();
  for (const i of informers) i.stop();
  controller = undefined;
}

t.before(async () => {
  api = await startTestApiServer({ serviceCidr: '127.100.12.0/24' });
  ({ nc, client } = api);
  await client.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' } });
});

t.teardown(async () => {
  stopController();
  await api.stop();
});

/** A pod bound to node-1 with this IP and readiness (status written as a kubelet would). */
async function runningPod(name: string, ip: string, ready: boolean, labels: Record<string, string> = { app: 'web' }): Promise<KubeObject> {
  await client.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels },
    spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'x', command: ['x'], ports: [{ name: 'http', containerPort: 8080 }] }] },
  });
  return setReady(name, ip, ready);
}

async function setReady(name: string, ip: string, ready: boolean): Promise<KubeObject> {
  return (await client.modify<KubeObject>(
    'Pod',
    name,
    NS,
    (p) => {
      p.status = { ...p.status, phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] };
    },
    { status: true },
  ))!;
}

const ips = (ep: KubeObject | undefined, field = 'addresses'): string[] => ((ep as any)?.subsets ?? []).flatMap((s: any) => (s[field] ?? []).map((a: any) => a.ip)).sort();

function waitEndpoints(name: string, predicate: (ep: KubeObject | undefined) => boolean): Promise<KubeObject | undefined> {
  return client.waitFor('Endpoints', name, NS, predicate, 10_000);
}

const service = (name: string, selector?: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: NS, labels: { team: 'a' } },
  spec: { ...(selector ? { selector } : {}), ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
});

t.test('Endpoints follow the pods: readiness, labels, deletion', async (t) => {
  await startController();
  await runningPod('a', '127.64.0.2', true);
  await runningPod('b', '127.64.0.3', false);
  await client.create(service('web', { app: 'web' }));
  const ep = await waitEndpoints('web', (e) => ips(e).length === 1 && ips(e, 'notReadyAddresses').length === 1);
  t.same(ips(ep), ['127.64.0.2']);
  t.same(ips(ep, 'notReadyAddresses'), ['127.64.0.3']);
  t.same((ep as any).subsets[0].ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  t.same(ep?.metadata?.labels, { team: 'a' });

  await setReady('b', '127.64.0.3', true);
  await waitEndpoints('web', (e) => ips(e).length === 2 && ips(e, 'notReadyAddresses').length === 0);

  await client.modify<KubeObject>('Pod', 'a', NS, (p) => {
    p.metadata!.labels = { app: 'other' };
  });
  const relabelled = await waitEndpoints('web', (e) => ips(e).join() === '127.64.0.3');
  t.same(ips(relabelled), ['127.64.0.3'], 'a pod whose labels no longer match leaves');

  await client.delete('Pod', 'b', { namespace: NS }); // bound and running: graceful, gets a deletionTimestamp
  const terminating = await waitEndpoints('web', (e) => ips(e).length === 0);
  t.notOk((terminating as any).subsets, 'a terminating pod is no endpoint: no subsets at all');
  await client.delete('Pod', 'b', { namespace: NS, gracePeriodSeconds: 0 });
});

t.test('deleted or edited Endpoints of a selector Service are rewritten; they go with the Service', async (t) => {
  await runningPod('c', '127.64.0.4', true);
  const before = await waitEndpoints('web', (e) => ips(e).join() === '127.64.0.4');
  await client.delete('Endpoints', 'web', { namespace: NS });
  const back = await waitEndpoints('web', (e) => !!e && e.metadata?.uid !== before?.metadata?.uid && ips(e).join() === '127.64.0.4');
  t.ok(back, 'recreated');
  await client.modify<KubeObject>('Endpoints', 'web', NS, (e: any) => {
    e.subsets = [{ addresses: [{ ip: '127.64.9.9' }], ports: [{ port: 1 }] }];
  });
  await waitEndpoints('web', (e) => ips(e).join() === '127.64.0.4');
  t.pass('an edit is undone');
  await client.delete('Service', 'web', { namespace: NS });
  t.equal(await waitEndpoints('web', (e) => e === undefined), undefined, 'deleted with the Service');
});

t.test('a Service without selector: its Endpoints are the user\'s', async (t) => {
  await client.create({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'manual', namespace: NS }, subsets: [{ addresses: [{ ip: '127.64.5.5' }], ports: [{ port: 9000 }] }] } as KubeObject);
  await client.create(service('manual'));
  await runningPod('d', '127.64.0.5', true, { app: 'manual' });
  // A selector Service created afterwards gets its Endpoints: by then the manual one has been seen as it is.
  await client.create(service('probe', { app: 'manual' }));
  await waitEndpoints('probe', (e) => ips(e).join() === '127.64.0.5');
  const manual = await client.get('Endpoints', 'manual', NS);
  t.same(ips(manual), ['127.64.5.5'], 'untouched');
  t.same(manual.metadata?.labels, undefined);
});

t.test('at start, Endpoints whose Service is gone are removed; user ones of live Services stay', async (t) => {
  stopController();
  await client.delete('Service', 'probe', { namespace: NS });
  t.ok(await client.find('Endpoints', 'probe', NS), 'left behind while the controller was down');
  await client.create({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'orphan', namespace: NS } } as KubeObject);
  await startController();
  await waitEndpoints('probe', (e) => e === undefined);
  await waitEndpoints('orphan', (e) => e === undefined);
  t.ok(await client.find('Endpoints', 'manual', NS), 'the manual Service\'s Endpoints stay');
});
