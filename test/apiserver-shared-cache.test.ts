/**
 * The API server hands its cached objects out uncopied (to in-process informers, to replies)
 * and builds status updates from them without a deep copy, so no request may write into a
 * cached object. Here the cached objects are deep-frozen: a handler that writes into one fails
 * the request with a TypeError instead of silently changing what every reader sees.
 */
import t from 'tap';
import type { KubeObject } from '../protocol/objects.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';
import { allocateBlock } from './helpers/blocks.js';

let api: TestApiServer;
let release: () => void;
t.before(async () => {
  const block = allocateBlock();
  release = () => block.release();
  api = await startTestApiServer({ serviceCidr: block.serviceNetwork });
});
t.teardown(async () => {
  await api.stop();
  release();
});

function deepFreeze(o: unknown): void {
  if (!o || typeof o !== 'object' || Object.isFrozen(o)) return;
  Object.freeze(o);
  for (const v of Object.values(o)) deepFreeze(v);
}

/** Freezes what the API server's cache holds for the object now. */
function freezeCached(kind: 'Service' | 'Pod', name: string): void {
  const cached = api.server.stores.get(kind)!.peek('default', name);
  t.ok(cached, `${kind} ${name} is cached`);
  deepFreeze(cached);
}

t.test('a LoadBalancer Service status update leaves the cached Service untouched', async (t) => {
  const svc = await api.client.create<KubeObject>({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'lb', namespace: 'default' }, spec: { type: 'LoadBalancer', selector: { app: 'x' }, ports: [{ port: 80, targetPort: 8080 }] } } as KubeObject);
  freezeCached('Service', 'lb');
  const updated = await api.client.modify<KubeObject>('Service', 'lb', 'default', (cur) => {
    cur.status = { loadBalancer: { ingress: [{ ip: '127.0.0.1', ipMode: 'VIP' }] } };
  }, { status: true });
  t.same(updated!.status, { loadBalancer: { ingress: [{ ip: '127.0.0.1', ipMode: 'VIP' }] } }, 'the status is written');
  t.equal(updated!.spec.clusterIP, svc.spec.clusterIP, 'the ClusterIP is kept');
  freezeCached('Service', 'lb');
  const changed = await api.client.modify<KubeObject>('Service', 'lb', 'default', (cur) => {
    cur.spec.ports[0].port = 81;
  });
  t.equal(changed!.spec.ports[0].port, 81, 'a spec update of the frozen cached Service works too');
  t.equal(changed!.spec.ports[0].nodePort, svc.spec.ports[0].nodePort, 'its node port is kept');
});

t.test('pod status updates and binds leave the cached pod untouched', async (t) => {
  await api.client.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } } as KubeObject);
  await api.client.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'main', image: 'busybox' }] } } as KubeObject);
  freezeCached('Pod', 'p');
  const [bindError] = await api.client.bindMany([{ namespace: 'default', name: 'p', nodeName: 'n1' }]);
  t.equal(bindError?.message, undefined, 'the bind succeeded');
  freezeCached('Pod', 'p');
  const running = await api.client.modify<KubeObject>('Pod', 'p', 'default', (cur) => {
    cur.status = { phase: 'Running' };
  }, { status: true });
  t.equal(running!.status.phase, 'Running', 'the status update succeeded');
  t.equal(running!.spec.nodeName, 'n1', 'the binding is kept');
});
