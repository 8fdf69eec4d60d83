/**
 * Node heartbeats under a workload flood, on a real nats-server and API server: thousands of
 * pod creates are sent at once to an API server with few workload seats, then a kubelet-like
 * client renews its Lease in kube-node-lease (node-critical) while a Lease in `default`
 * (workload) is updated at the same moment as a control. The renewals must all be answered
 * while most of the flood still waits; the control waits its turn behind the flood. Relative
 * order only, no absolute timings. Then a full queue: creates beyond it get 429 and nothing is
 * stored for them, while renewals are still answered; a client that retries after the
 * `retryAfterSeconds` the 429 carries gets every create stored once.
 */
import t from 'tap';
import type { NatsConnection } from 'nats';
import { ApiServer } from '../nodes/apiserver/server.js';
import { silentLogger } from '../nodes/shared/logger.js';
import { ApiClient } from '../protocol/client.js';
import { ApiError, Reason } from '../protocol/errors.js';
import { NODE_LEASE_NAMESPACE, nowMicroTime, type KubeObject } from '../protocol/objects.js';
import { startTestNats } from './helpers/nats.js';

const FLOOD = 3000;
const SEATS = 8;
const RENEWALS = 5;

const nats = await startTestNats();
const conns: NatsConnection[] = [];
const connect = async () => {
  const nc = await nats.connect();
  conns.push(nc);
  return nc;
};
t.teardown(async () => {
  for (const nc of conns) await nc.close().catch(() => {});
  await nats.stop();
});

async function startServer(opts: { maxQueuedRequests: number }): Promise<ApiServer> {
  const server = new ApiServer({ nc: await connect(), priorityNc: await connect(), logger: silentLogger(), maxRequestsInflight: SEATS, ...opts });
  await server.start();
  return server;
}

const pod = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
const lease = (name: string, namespace: string): KubeObject => ({
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  metadata: { name, namespace },
  spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: nowMicroTime() },
});

/** Sends every create at once; counts the answers as they come. */
function flood(client: ApiClient, prefix: string, n: number) {
  const progress = { answered: 0, created: 0, tooMany: 0, other: [] as string[] };
  const done = Promise.all(
    Array.from({ length: n }, (_, i) =>
      client.create(pod(`${prefix}-${i}`)).then(
        () => (progress.answered++, progress.created++),
        (e) => {
          progress.answered++;
          if (e instanceof ApiError && e.reason === Reason.TooManyRequests) progress.tooMany++;
          else progress.other.push(String(e));
        },
      ),
    ),
  );
  return { progress, done };
}

t.test('Lease renewals are answered while a pod-create flood waits for seats', async (t) => {
  const server = await startServer({ maxQueuedRequests: 100_000 });
  t.teardown(() => server.stop());
  const kubelet = new ApiClient(await connect(), { priority: 'node-critical', timeoutMs: 60_000 });
  const workload = new ApiClient(await connect(), { timeoutMs: 60_000 });
  let mine = (await kubelet.apply(lease('node-1', NODE_LEASE_NAMESPACE))).object;
  let control = (await workload.apply(lease('elector', 'default'))).object;

  const f = flood(workload, 'flood', FLOOD);
  await workload.nc.flush(); // the whole flood is at the nats-server before the renewals leave
  t.ok(server.queue.stats().queued > 0 || f.progress.answered < FLOOD, 'the flood is queued');

  const controlDone = workload.update({ ...control, spec: { ...control.spec, renewTime: nowMicroTime() } }).then((o) => ({ answeredBefore: f.progress.answered, o }));
  const answeredAtRenewal: number[] = [];
  for (let i = 0; i < RENEWALS; i++) {
    mine = await kubelet.update({ ...mine, spec: { ...mine.spec, renewTime: nowMicroTime() } });
    answeredAtRenewal.push(f.progress.answered);
  }
  const c = await controlDone;
  control = c.o;
  await f.done;
  t.comment(`creates answered when each renewal was: ${answeredAtRenewal.join(', ')} of ${FLOOD}; the workload Lease update: after ${c.answeredBefore}`);

  t.equal(f.progress.created, FLOOD, 'every create succeeded in the end');
  t.same(f.progress.other, []);
  t.ok(answeredAtRenewal[RENEWALS - 1] < FLOOD / 2, `all ${RENEWALS} renewals answered before half the flood (${answeredAtRenewal[RENEWALS - 1]} of ${FLOOD})`);
  t.ok(c.answeredBefore >= FLOOD / 2, `a workload Lease update sent with them waited behind the flood (${c.answeredBefore} creates before it)`);
  t.ok(c.answeredBefore > answeredAtRenewal[RENEWALS - 1], 'the node-critical renewals overtook the workload one');
  const stored = await kubelet.get('Lease', 'node-1', NODE_LEASE_NAMESPACE);
  t.equal(stored.metadata?.resourceVersion, mine.metadata?.resourceVersion, 'the last renewal is what is stored');
  t.same(server.queue.stats().inFlight, 0);
  t.ok(server.queue.stats().exempt >= RENEWALS + 2, 'the renewals (and the apply/get) ran exempt from the seats');
});

t.test('a full queue refuses creates with 429 and stores nothing for them; renewals still pass', async (t) => {
  const server = await startServer({ maxQueuedRequests: 50 });
  t.teardown(() => server.stop());
  const kubelet = new ApiClient(await connect(), { priority: 'node-critical', timeoutMs: 60_000 });
  const workload = new ApiClient(await connect(), { timeoutMs: 60_000, maxRetries: 0 }); // sees each 429
  let mine = (await kubelet.apply(lease('node-2', NODE_LEASE_NAMESPACE))).object;
  const f = flood(workload, 'full', 1000);
  await workload.nc.flush();
  mine = await kubelet.update({ ...mine, spec: { ...mine.spec, renewTime: nowMicroTime() } });
  t.ok(mine.metadata?.resourceVersion, 'the renewal was answered');
  await f.done;
  t.same(f.progress.other, [], 'every refusal is TooManyRequests');
  t.ok(f.progress.tooMany > 0, `${f.progress.tooMany} creates refused`);
  t.equal(f.progress.created + f.progress.tooMany, 1000);
  const pods = await workload.list('Pod', { namespace: 'default' });
  const full = pods.items.filter((p) => p.metadata!.name!.startsWith('full-'));
  t.equal(full.length, f.progress.created, 'exactly the accepted creates are stored');
  t.equal(server.queue.stats().rejected, f.progress.tooMany);
});

t.test('a client retries a 429 after the retryAfterSeconds it carries: every create stored once', async (t) => {
  const server = await startServer({ maxQueuedRequests: 20 });
  t.teardown(() => server.stop());
  const workload = new ApiClient(await connect(), { timeoutMs: 60_000 }); // default: up to 10 retries
  const f = flood(workload, 'retried', 300);
  await f.done;
  t.ok(server.queue.stats().rejected > 0, `the server refused ${server.queue.stats().rejected} creates with 429 on the way`);
  t.equal(f.progress.created, 300, 'every create succeeded after its retries');
  t.same(f.progress.other, []);
  t.equal(f.progress.tooMany, 0, 'no 429 reached the caller');
  const pods = await workload.list('Pod', { namespace: 'default' });
  t.equal(pods.items.filter((p) => p.metadata!.name!.startsWith('retried-')).length, 300, 'each stored once');
});
