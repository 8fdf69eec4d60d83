/**
 * The API server against a real nats-server (JetStream KV): stored shapes, resourceVersion =
 * KV revision, compare-and-set, validation that stores nothing, watch events, deletion
 * semantics, binding, namespaces, and state that survives an API server restart.
 */
import t from 'tap';
import type { NatsConnection } from 'nats';
import { bucketName, objectKey } from '../nodes/apiserver/store.js';
import type { ApiClient } from '../protocol/client.js';
import { ApiError, CauseType } from '../protocol/errors.js';
import type { KubeObject, WatchEvent } from '../protocol/objects.js';
import { API_SERVICE_NAME } from '../protocol/subjects.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';
import { rejects } from './helpers/errors.js';

let api: TestApiServer;
let nc: NatsConnection;
let client: ApiClient;

const pod = (name: string, extra: Partial<KubeObject> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { app: 'web' } },
  spec: { containers: [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '10'] }] },
  ...extra,
});


async function storedKeys(kind: 'Pod' | 'Namespace'): Promise<string[]> {
  const kv = await nc.jetstream().views.kv(bucketName(kind));
  const keys: string[] = [];
  for await (const k of await kv.keys()) keys.push(k);
  return keys;
}

t.before(async () => {
  api = await startTestApiServer();
  ({ nc, client } = api);
});

t.teardown(() => api.stop());

t.test('the system namespaces exist and the service answers $SRV.PING', async (t) => {
  const names = (await client.list('Namespace')).items.map((n) => n.metadata?.name);
  t.same(names.sort(), ['default', 'kube-node-lease', 'kube-public', 'kube-system']);
  const pings = [];
  for await (const p of await nc.services.client().ping(API_SERVICE_NAME)) pings.push(p);
  t.equal(pings.length, 1);
  t.equal(pings[0].name, API_SERVICE_NAME);
});

t.test('create stores the Kubernetes shape with defaults; resourceVersion is the KV revision', async (t) => {
  const created = await client.create(pod('web-1'));
  t.equal(created.metadata?.namespace, 'default');
  t.match(created.metadata?.uid, /^[0-9a-f-]{36}$/);
  t.match(created.metadata?.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  t.equal(created.spec.restartPolicy, 'Always');
  t.equal(created.spec.terminationGracePeriodSeconds, 30);
  t.equal(created.status.phase, 'Pending');
  const kv = await nc.jetstream().views.kv(bucketName('Pod'));
  const entry = await kv.get(objectKey('Pod', 'default', 'web-1'));
  t.equal(created.metadata?.resourceVersion, String(entry!.revision));
  const again = await rejects(client.create(pod('web-1')));
  t.equal(again.reason, 'AlreadyExists');
  t.equal(again.code, 409);
});

t.test('generateName gets a random suffix', async (t) => {
  const a = await client.create({ ...pod(''), metadata: { generateName: 'gen-' } as KubeObject['metadata'] });
  t.match(a.metadata?.name, /^gen-[a-z0-9]{5}$/);
});

t.test('an invalid object is rejected with every field error and nothing is stored', async (t) => {
  const before = await storedKeys('Pod');
  const err = await rejects(
    client.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'Bad_Name', labels: { 'bad key!': 'x' } },
      spec: { restartPolicy: 'Sometimes', containers: [{ name: 'c', resources: { requests: { cpu: '-1' } } }] },
    }),
  );
  t.equal(err.reason, 'Invalid');
  t.equal(err.code, 422);
  const fields = err.causes.map((c) => c.field).sort();
  t.same(fields, ['metadata.labels', 'metadata.name', 'spec.containers[0].image', 'spec.containers[0].resources.requests[cpu]', 'spec.restartPolicy'].sort());
  t.ok(err.causes.find((c) => c.field === 'spec.containers[0].image' && c.reason === CauseType.Required));
  t.same(await storedKeys('Pod'), before, 'nothing stored');
});

t.test('objects in a missing namespace are refused', async (t) => {
  const err = await rejects(client.create({ ...pod('x'), metadata: { name: 'x', namespace: 'nowhere' } }));
  t.equal(err.reason, 'NotFound');
  t.match(err.message, /namespaces "nowhere" not found/);
});

t.test('update is compare-and-set: a stale resourceVersion gets Conflict and changes nothing', async (t) => {
  const created = await client.create(pod('cas'));
  const first = structuredClone(created);
  first.metadata!.labels = { app: 'web', tier: 'one' };
  const updated = await client.update(first);
  t.not(updated.metadata?.resourceVersion, created.metadata?.resourceVersion);
  const stale = structuredClone(created);
  stale.metadata!.labels = { app: 'web', tier: 'stale' };
  const err = await rejects(client.update(stale));
  t.equal(err.reason, 'Conflict');
  const now = await client.get('Pod', 'cas');
  t.same(now.metadata?.labels, { app: 'web', tier: 'one' });
  t.equal(now.metadata?.resourceVersion, updated.metadata?.resourceVersion);
});

t.test('pod spec is immutable except what Kubernetes allows', async (t) => {
  const created = await client.create(pod('immutable'));
  const changed = structuredClone(created);
  changed.spec.containers[0].command = ['sleep', '20'];
  const err = await rejects(client.update(changed));
  t.equal(err.reason, 'Invalid');
  t.match(err.message, /pod updates may not change fields/);
  const image = structuredClone(created);
  image.spec.containers[0].image = 'busybox:1.37';
  t.equal((await client.update(image)).spec.containers[0].image, 'busybox:1.37');
});

t.test('apply creates, configures and reports unchanged', async (t) => {
  const manifest = pod('applied');
  t.equal((await client.apply(manifest)).outcome, 'created');
  t.equal((await client.apply(manifest)).outcome, 'unchanged');
  const relabelled = { ...manifest, metadata: { name: 'applied', labels: { app: 'web', v: '2' } } };
  const res = await client.apply(relabelled);
  t.equal(res.outcome, 'configured');
  t.same(res.object.metadata?.labels, { app: 'web', v: '2' });
});

t.test('list filters by namespace, labels and fields', async (t) => {
  const teamA = await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a', labels: { 'kubernetes.io/metadata.name': 'spoofed', team: 'a' } } });
  t.same(teamA.metadata?.labels, { 'kubernetes.io/metadata.name': 'team-a', team: 'a' }, 'the name label is set and cannot be spoofed');
  const system = await client.get('Namespace', 'kube-system');
  t.equal(system?.metadata?.labels?.['kubernetes.io/metadata.name'], 'kube-system');
  await client.create({ ...pod('a1'), metadata: { name: 'a1', namespace: 'team-a', labels: { app: 'db' } } });
  const inA = await client.list('Pod', { namespace: 'team-a' });
  t.same(inA.items.map((p) => p.metadata?.name), ['a1']);
  const dbs = await client.list('Pod', { labelSelector: 'app in (db)' });
  t.same(dbs.items.map((p) => p.metadata?.name), ['a1']);
  const notDb = await client.list('Pod', { labelSelector: 'app!=db' });
  t.notOk(notDb.items.some((p) => p.metadata?.name === 'a1'));
  const byName = await client.list('Pod', { fieldSelector: 'metadata.name=cas' });
  t.same(byName.items.map((p) => p.metadata?.name), ['cas']);
  const bad = await rejects(client.list('Pod', { labelSelector: 'app in (' }));
  t.equal(bad.reason, 'BadRequest');
});

t.test('watch delivers ADDED, MODIFIED and DELETED in order', async (t) => {
  const seen: string[] = [];
  let resolveDeleted!: () => void;
  const deleted = new Promise<void>((r) => (resolveDeleted = r));
  const watch = await client.watch('Pod', { fieldSelector: 'metadata.name=watched' }, (ev: WatchEvent) => {
    seen.push(ev.type);
    if (ev.type === 'DELETED') resolveDeleted();
  });
  const created = await client.create(pod('watched'));
  const next = structuredClone(created);
  next.metadata!.labels = { app: 'web', x: 'y' };
  await client.update(next);
  await client.delete('Pod', 'watched');
  await deleted;
  watch.stop();
  t.same(seen, ['ADDED', 'MODIFIED', 'DELETED']);
});

t.test('bindMany: a batch of bindings, each with its own result; one failing binds the others', async (t) => {
  await client.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'bm-node' }, status: { allocatable: { cpu: '1' } } });
  const names = ['bm-0', 'bm-1', 'bm-2', 'bm-3'];
  const created = await Promise.all(names.map((n) => client.create(pod(n))));
  await client.bind({ namespace: 'default', name: 'bm-3', nodeName: 'bm-node' });
  const results = await client.bindMany([
    { namespace: 'default', name: 'bm-0', nodeName: 'bm-node', uid: created[0].metadata!.uid },
    { namespace: 'default', name: 'bm-1', nodeName: 'bm-node', uid: 'not-the-uid' },
    { namespace: 'default', name: 'bm-gone', nodeName: 'bm-node' },
    { namespace: 'default', name: 'bm-2', nodeName: 'bm-node' },
    { namespace: 'default', name: 'bm-3', nodeName: 'bm-node' },
    { namespace: 'default', name: 'bm-2', nodeName: 'no-such-node' },
  ]);
  t.same(results.map((e) => e?.reason), [undefined, 'Conflict', 'NotFound', undefined, 'Conflict', 'NotFound']);
  t.match(results[4]!.message, /already assigned to node "bm-node"/);
  t.ok(results.every((e) => e === undefined || e instanceof ApiError), 'failures are ApiErrors, as bind throws them');
  const after = await Promise.all(names.map((n) => client.get('Pod', n, 'default')));
  t.same(after.map((p) => p.spec.nodeName), ['bm-node', undefined, 'bm-node', 'bm-node'], 'exactly the bindings that succeeded were written');
  t.equal(after[0].status.conditions.find((c: { type: string }) => c.type === 'PodScheduled')?.status, 'True');

  // Malformed batches are rejected whole, with a clear reason, and write nothing.
  const notAList = await rejects(client.call('bindMany', 'Pod', { bindings: 'bm-1' }));
  t.equal(notAList.reason, 'BadRequest');
  t.match(notAList.message, /bindings must be a list/);
  const tooMany = await rejects(client.call('bindMany', 'Pod', { bindings: Array.from({ length: 1001 }, () => ({ namespace: 'default', name: 'bm-1', nodeName: 'bm-node' })) }));
  t.match(tooMany.message, /at most 1000 bindings per request, got 1001/);
  const wrongKind = await rejects(client.call('bindMany', 'Node', { bindings: [] }));
  t.match(wrongKind.message, /only defined for pods/);
  const [garbage] = await client.bindMany([42 as unknown as { namespace: string; name: string; nodeName: string }]);
  t.equal(garbage?.reason, 'BadRequest');
  t.equal((await client.get('Pod', 'bm-1', 'default')).spec.nodeName, undefined);
  for (const n of names) await client.delete('Pod', n, { gracePeriodSeconds: 0 });
  await client.delete('Node', 'bm-node');
});

t.test('createMany: many objects of one kind, each admitted as create does it, each with its own result', async (t) => {
  const ev = (name: string, extra: Record<string, unknown> = {}) =>
    ({ apiVersion: 'v1', kind: 'Event', metadata: { name, namespace: 'default' }, involvedObject: { kind: 'Pod', name: 'cm', namespace: 'default' }, reason: 'Started', message: 'Started container main', type: 'Normal', ...extra }) as KubeObject;
  await client.create(ev('cm-taken'));
  const results = await client.createMany('Event', [ev('cm-0'), ev('cm-taken'), ev('cm-1', { type: 'Bogus' }), 42 as unknown as KubeObject, ev('cm-2')]);
  t.same(results.map((e) => e?.reason), [undefined, 'AlreadyExists', 'Invalid', 'BadRequest', undefined]);
  t.ok(results.every((e) => e === undefined || e instanceof ApiError), 'failures are ApiErrors, as create throws them');
  const stored = await client.get<KubeObject>('Event', 'cm-2', 'default');
  t.ok(stored.metadata?.uid && stored.metadata?.creationTimestamp && stored.metadata?.resourceVersion, 'stamped as a create stamps it');
  t.equal(await client.find('Event', 'cm-1', 'default'), undefined, 'the invalid one is not stored');
  const raw = await client.call<{ results: { ok: boolean; name?: string; resourceVersion?: string }[] }>('createMany', 'Event', { objects: [ev('cm-3')] });
  t.same(raw.results, [{ ok: true, name: 'cm-3', resourceVersion: (await client.get('Event', 'cm-3', 'default')).metadata!.resourceVersion }], 'the reply names what was stored, without the object');

  const notAList = await rejects(client.call('createMany', 'Event', { objects: 'cm-0' }));
  t.equal(notAList.reason, 'BadRequest');
  t.match(notAList.message, /objects must be a list/);
  const tooMany = await rejects(client.call('createMany', 'Event', { objects: Array.from({ length: 257 }, (_, i) => ev(`cm-many-${i}`)) }));
  t.match(tooMany.message, /at most 256 objects per request, got 257/);
  t.equal(await client.find('Event', 'cm-many-0', 'default'), undefined, 'a refused batch writes nothing');
});

t.test('binding and graceful deletion of bound pods', async (t) => {
  await client.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, status: { allocatable: { cpu: '1' } } });
  const created = await client.create(pod('bound'));
  const wrongUid = await rejects(client.bind({ namespace: 'default', name: 'bound', nodeName: 'n1', uid: 'not-the-uid' }));
  t.equal(wrongUid.reason, 'Conflict');
  const bound = await client.bind({ namespace: 'default', name: 'bound', nodeName: 'n1', uid: created.metadata!.uid });
  t.equal(bound.spec.nodeName, 'n1');
  t.equal(bound.status.conditions.find((c: { type: string }) => c.type === 'PodScheduled')?.status, 'True');
  const twice = await rejects(client.bind({ namespace: 'default', name: 'bound', nodeName: 'n1' }));
  t.equal(twice.reason, 'Conflict');
  t.match(twice.message, /already assigned to node "n1"/);

  // A bound, running pod is not removed at once: its kubelet must stop it first.
  const terminating = await client.delete('Pod', 'bound', { gracePeriodSeconds: 5 });
  t.ok(terminating.metadata?.deletionTimestamp);
  t.equal(terminating.metadata?.deletionGracePeriodSeconds, 5);
  t.ok(await client.find('Pod', 'bound'), 'still there while terminating');
  await client.delete('Pod', 'bound', { gracePeriodSeconds: 0, preconditions: { uid: created.metadata!.uid } });
  t.notOk(await client.find('Pod', 'bound'), 'gone after grace 0');

  // An unbound pod goes at once.
  await client.create(pod('unbound'));
  await client.delete('Pod', 'unbound');
  t.notOk(await client.find('Pod', 'unbound'));
});

t.test('namespaces: system ones are protected; deleting one removes what it holds', async (t) => {
  const forbidden = await rejects(client.delete('Namespace', 'default'));
  t.equal(forbidden.reason, 'Forbidden');
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } });
  await client.create({ ...pod('p'), metadata: { name: 'p', namespace: 'doomed' } });
  await client.delete('Namespace', 'doomed');
  const gone = await client.waitFor('Namespace', 'doomed', undefined, (ns) => ns === undefined, 5000);
  t.equal(gone, undefined);
  t.equal((await client.list('Pod', { namespace: 'doomed' })).items.length, 0);
});

t.test('objects survive an API server restart (the store is the source of truth)', async (t) => {
  const before = (await client.list('Pod')).items.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}@${p.metadata?.resourceVersion}`);
  await api.restart();
  const after = (await client.list('Pod')).items.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}@${p.metadata?.resourceVersion}`);
  t.same(after, before);
});
