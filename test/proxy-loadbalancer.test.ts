/**
 * The LoadBalancer controller: its address allocator (pure), then the controller against a
 * real nats-server and API server: LoadBalancer Services get an ingress IP from the pool
 * (compare-and-set status writes), `spec.loadBalancerIP` is honoured, addresses are released
 * on delete and on a type change (status cleared), a full pool leaves the Service pending with
 * a Warning until an address frees up, `loadBalancerClass` Services are left alone, and a
 * restarted controller rebuilds what is in use from the stored Services.
 */
import t from 'tap';
import type { NatsConnection } from 'nats';
import { LoadBalancerController, LoadBalancerIpAllocator } from '../nodes/controllers/load-balancer.js';
import { formatCidr, hostAddress, parseCidr, subnet } from '../nodes/shared/cidr.js';
import { EventRecorder } from '../nodes/shared/events.js';
import { silentLogger } from '../nodes/shared/logger.js';
import type { ApiClient } from '../protocol/client.js';
import type { KubeObject } from '../protocol/objects.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';
import { allocateBlock, type Block } from './helpers/blocks.js';

t.test('allocator: usable addresses, one per owner, next fit, claim, release', async (t) => {
  const a = new LoadBalancerIpAllocator('127.112.9.0/29');
  t.equal(a.capacity, 6, 'network and broadcast addresses kept out');
  t.notOk(a.inPool('127.112.9.0'));
  t.notOk(a.inPool('127.112.9.7'));
  t.ok(a.inPool('127.112.9.1'));
  t.notOk(a.inPool('127.112.10.1'));
  t.equal(a.allocate('u1'), '127.112.9.1');
  t.equal(a.allocate('u1'), '127.112.9.1', 'an owner keeps its address');
  t.equal(a.allocate('u2'), '127.112.9.2');
  t.equal(a.release('u1'), '127.112.9.1');
  t.equal(a.allocate('u3'), '127.112.9.3', 'next fit: a just-released address is not handed out at once');
  t.ok(a.claim('127.112.9.6', 'u4'));
  t.notOk(a.claim('127.112.9.6', 'u5'), 'held by another owner');
  t.ok(a.claim('127.112.9.6', 'u4'), 'claiming what one holds is fine');
  t.notOk(a.claim('127.112.9.7', 'u5'), 'outside the usable range');
  t.notOk(a.claim('10.0.0.1', 'u5'));
  t.ok(a.claim('127.112.9.5', 'u4'), 'claiming another address moves the owner');
  t.equal(a.heldBy('u4'), '127.112.9.5');
  t.equal(a.holderOf('127.112.9.6'), undefined);
  t.equal(a.allocate('u5'), '127.112.9.4');
  t.equal(a.allocate('u6'), '127.112.9.6');
  t.equal(a.allocate('u7'), '127.112.9.1', 'wraps around to the freed address');
  t.equal(a.allocate('u8'), undefined, 'full');
  t.equal(a.used, 6);
  a.release('u2');
  t.equal(a.allocate('u8'), '127.112.9.2');
  const tiny = new LoadBalancerIpAllocator('127.112.9.8/31');
  t.equal(tiny.capacity, 2, 'a /31 uses both addresses');
  t.equal(new LoadBalancerIpAllocator('127.112.9.9/32').allocate('x'), '127.112.9.9');
});

let nc: NatsConnection;
let api: TestApiServer;
let client: ApiClient;
let block: Block;
let pool: string;
let poolIP: (i: number) => string;
let controller: LoadBalancerController | undefined;
let events: EventRecorder;

t.before(async () => {
  block = allocateBlock();
  // A 4-address slice of this test's own pool block: 2 usable addresses, easy to exhaust.
  const p = subnet(parseCidr(block.loadBalancerPool), 30, 0);
  pool = formatCidr(p);
  poolIP = (i) => hostAddress(p, i);
  api = await startTestApiServer({ serviceCidr: block.serviceNetwork });
  ({ nc, client } = api);
  events = new EventRecorder(client, { component: 'service-controller' });
});

t.teardown(async () => {
  controller?.stop();
  await events?.flush();
  await api?.stop();
  block?.release();
});

let nextIp = 30;
function lbService(name: string, spec: Record<string, unknown> = {}): KubeObject {
  const services = parseCidr(block.serviceNetwork);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec: { type: 'LoadBalancer', clusterIP: hostAddress(services, nextIp++), ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], ...spec },
  };
}

const ingressOf = (s: KubeObject | undefined): string[] => (s?.status?.loadBalancer?.ingress ?? []).map((i: { ip: string }) => i.ip);

function waitIngress(name: string, pred: (ips: string[]) => boolean, timeoutMs = 10_000): Promise<KubeObject | undefined> {
  return client.waitFor('Service', name, 'default', (s) => !!s && pred(ingressOf(s)), timeoutMs);
}

async function startController(): Promise<LoadBalancerController> {
  const c = new LoadBalancerController({ client, pool, logger: silentLogger(), events, retryMs: 100 });
  await c.start();
  return c;
}

t.test('a LoadBalancer Service gets an address from the pool; another gets the next', async (t) => {
  controller = await startController();
  await client.create(lbService('lb-1'));
  const one = await waitIngress('lb-1', (ips) => ips.length === 1);
  t.same(one!.status.loadBalancer.ingress, [{ ip: poolIP(0), ipMode: 'VIP' }]);
  await client.create(lbService('lb-2'));
  const two = await waitIngress('lb-2', (ips) => ips.length === 1);
  t.same(ingressOf(two), [poolIP(1)]);
  const plain = await client.create({ ...lbService('plain'), spec: { ...lbService('plain').spec, type: 'ClusterIP' } });
  t.same(ingressOf(plain), [], 'ClusterIP services get nothing');
  await events.flush();
  t.ok(await waitForEventName('lb-1', 'EnsuredLoadBalancer'), 'an EnsuredLoadBalancer Event');
});

t.test('pool full: the Service stays pending with a Warning, and gets the address freed by a delete', async (t) => {
  await client.create(lbService('lb-3'));
  await events.flush();
  const warned = await client.get('Event', (await waitForEventName('lb-3', 'SyncLoadBalancerFailed'))!, 'default');
  t.match((warned as any).message, /no free address left in the load balancer pool/);
  t.equal((warned as any).type, 'Warning');
  t.same(ingressOf(await client.get('Service', 'lb-3', 'default')), [], 'still pending');
  await client.delete('Service', 'lb-1', { namespace: 'default' });
  const got = await waitIngress('lb-3', (ips) => ips.length === 1);
  t.same(ingressOf(got), [poolIP(0)], 'the released address');
});

/** Name of the first Event about `name` with `reason` (waits on the Event watch). */
async function waitForEventName(name: string, reason: string, timeoutMs = 10_000): Promise<string | undefined> {
  let found: string | undefined;
  let settle!: () => void;
  const done = new Promise<void>((r) => (settle = r));
  const w = await client.watch('Event', { namespace: 'default', fieldSelector: `involvedObject.name=${name}` }, (ev) => {
    if ((ev.object as any).reason === reason && !found) {
      found = ev.object.metadata!.name;
      settle();
    }
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([done, new Promise((_, rej) => (timer = setTimeout(() => rej(new Error(`no ${reason} Event for ${name}`)), timeoutMs)))]);
    return found;
  } finally {
    clearTimeout(timer);
    w.stop();
  }
}

t.test('a type change releases the address and clears the status', async (t) => {
  await client.modify('Service', 'lb-2', 'default', (s) => {
    s.spec.type = 'ClusterIP';
    delete s.spec.loadBalancerClass;
    for (const p of s.spec.ports) delete p.nodePort;
    delete s.spec.allocateLoadBalancerNodePorts;
    delete s.spec.externalTrafficPolicy;
  });
  const cleared = await waitIngress('lb-2', (ips) => ips.length === 0);
  t.same(cleared!.status.loadBalancer ?? {}, {});
  t.equal(controller!.allocator.holderOf(poolIP(1)), undefined, 'released');
  await client.create(lbService('lb-4', { loadBalancerIP: poolIP(1) }));
  t.same(ingressOf(await waitIngress('lb-4', (ips) => ips.length === 1)), [poolIP(1)], 'spec.loadBalancerIP honoured when free');
});

t.test('loadBalancerClass Services belong to another implementation', async (t) => {
  await client.delete('Service', 'lb-4', { namespace: 'default' });
  await client.create(lbService('other-class', { loadBalancerClass: 'example.com/lb' }));
  await client.create(lbService('lb-5'));
  t.same(ingressOf(await waitIngress('lb-5', (ips) => ips.length === 1)), [poolIP(1)]);
  t.same(ingressOf(await client.get('Service', 'other-class', 'default')), [], 'left alone (and it took no address)');
});

t.test('a restarted controller rebuilds what is in use; a duplicated address stays with the older Service', async (t) => {
  controller!.stop();
  controller = undefined;
  // While no controller runs: lb-5 is deleted, and a new Service is written with lb-3's address.
  await client.delete('Service', 'lb-5', { namespace: 'default' });
  await client.create(lbService('copy'));
  await client.modify('Service', 'copy', 'default', (s) => {
    s.status = { loadBalancer: { ingress: [{ ip: poolIP(0), ipMode: 'VIP' }] } };
  }, { status: true });
  controller = await startController();
  // Older (creationTimestamp, second precision; same second: by namespace/name) keeps it.
  const [lb3, cp] = [await client.get('Service', 'lb-3', 'default'), await client.get('Service', 'copy', 'default')];
  const keeperFirst = lb3.metadata!.creationTimestamp! < cp.metadata!.creationTimestamp! || (lb3.metadata!.creationTimestamp === cp.metadata!.creationTimestamp && 'default/lb-3' < 'default/copy');
  const [keeper, mover] = keeperFirst ? ['lb-3', 'copy'] : ['copy', 'lb-3'];
  const moved = await waitIngress(mover, (ips) => ips.length === 1 && ips[0] !== poolIP(0));
  t.same(ingressOf(moved), [poolIP(1)], `${mover} moved to the free address`);
  t.same(ingressOf(await client.get('Service', keeper, 'default')), [poolIP(0)], `${keeper} kept its address`);
  t.equal(controller.allocator.used, 2);
});
