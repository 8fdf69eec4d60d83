/**
 * The informer (nodes/controllers/informer.ts) against a real nats-server and API server, both
 * ways it runs: over NATS (watch, resync from the cache, paged relist) and in the control-plane process on the API server's
 * own cache (nodes/controlplane/local-sources.ts). Synchronised on handler calls with deadlines.
 */
import t from 'tap';
import { Informer } from '../nodes/controllers/informer.js';
import { localSources } from '../nodes/controlplane/local-sources.js';
import { ApiClient } from '../protocol/client.js';
import type { KubeObject } from '../protocol/objects.js';
import { subjects } from '../protocol/subjects.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';

let api: TestApiServer;

t.before(async () => {
  api = await startTestApiServer({ serviceCidr: '127.100.13.0/24' });
});

t.teardown(() => api.stop());

const cm = (name: string, value: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { value } }) as KubeObject;

/** Records every handler call and resolves waits on them (deadline 10 s). */
function recorder(informer: Informer) {
  const calls: string[] = [];
  const waiters: { check: () => boolean; resolve: () => void }[] = [];
  const note = (what: string) => {
    calls.push(what);
    for (const w of waiters.splice(0)) if (w.check()) w.resolve();
    else waiters.push(w);
  };
  informer.on({ upsert: (o) => note(`upsert ${o.metadata!.name}=${(o as any).data?.value}`), delete: (o) => note(`delete ${o.metadata!.name}`) });
  const until = (check: () => boolean, what: string) =>
    check()
      ? Promise.resolve()
      : new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; calls: ${calls.join(', ')}`)), 10_000);
          waiters.push({ check, resolve: () => (clearTimeout(timer), resolve()) });
        });
  return { calls, until };
}

t.test('in-process: shares the API server cache objects, delivers every change, resync re-delivers', async (t) => {
  await api.client.create(cm('before', 'a'));
  const informer = new Informer(api.client, 'ConfigMap', { resyncMs: 300, source: localSources(api.server)('ConfigMap'), namespace: 'default' });
  const rec = recorder(informer);
  await informer.start();
  t.ok(rec.calls.includes('upsert before=a'), 'objects already stored are delivered at start');
  t.equal(informer.get('default', 'before'), api.server.stores.get('ConfigMap')!.peek('default', 'before'), 'the very object the API server holds: no second copy');

  await api.client.create(cm('after', 'b'));
  await rec.until(() => rec.calls.includes('upsert after=b'), 'the created object');
  await api.client.modify('ConfigMap', 'after', 'default', (o) => void ((o as any).data.value = 'c'));
  await rec.until(() => rec.calls.includes('upsert after=c'), 'the update');
  t.equal((informer.get('default', 'after') as any).data.value, 'c', 'get answers the current version');
  await api.client.delete('ConfigMap', 'after', { namespace: 'default' });
  await rec.until(() => rec.calls.includes('delete after'), 'the delete');
  t.equal(informer.get('default', 'after'), undefined, 'gone from get');
  t.same(informer.list().map((o) => o.metadata!.name), ['before'], 'list holds what is stored');

  const n = rec.calls.filter((c) => c === 'upsert before=a').length;
  await rec.until(() => rec.calls.filter((c) => c === 'upsert before=a').length > n, 'a resync');
  t.pass('a resync re-delivers unchanged objects (level-based)');

  informer.stop();
  const seen = rec.calls.length;
  await api.client.create(cm('stopped', 'x'));
  await api.client.get('ConfigMap', 'stopped', 'default');
  t.equal(rec.calls.length, seen, 'a stopped informer hears nothing');
  await api.client.delete('ConfigMap', 'before', { namespace: 'default' });
  await api.client.delete('ConfigMap', 'stopped', { namespace: 'default' });
});

t.test('in-process: a throwing handler neither stops the others nor the API server', async (t) => {
  const informer = new Informer(api.client, 'ConfigMap', { resyncMs: 60_000, source: localSources(api.server)('ConfigMap') });
  informer.on({ upsert: () => { throw new Error('boom'); } });
  const rec = recorder(informer);
  await informer.start();
  await api.client.create(cm('thrown', 'a'));
  await rec.until(() => rec.calls.includes('upsert thrown=a'), 'the second handler');
  t.equal((await api.client.get<KubeObject>('ConfigMap', 'thrown', 'default')).metadata?.name, 'thrown', 'the API server still answers');
  informer.stop();
  await api.client.delete('ConfigMap', 'thrown', { namespace: 'default' });
});

t.test('over NATS: a relist keeps the copy it holds and delivers nothing when nothing changed, and repairs a missed delete', async (t) => {
  await api.client.create(cm('kept', 'a'));
  const informer = new Informer(api.client, 'ConfigMap', { resyncMs: 60_000, relistMs: 300 });
  const rec = recorder(informer);
  const relists: number[] = [];
  api.nc.subscribe(subjects.api('list', 'configmaps'), { callback: () => relists.push(rec.calls.length) });
  await informer.start();
  const held = informer.get('default', 'kept');
  t.ok(held, 'listed at start');
  const n = rec.calls.length;
  for (const deadline = Date.now() + 10_000; relists.length < 3; await new Promise((r) => setTimeout(r, 50))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for three relists (saw ${relists.length})`);
  }
  await api.nc.flush();
  t.equal(rec.calls.length, n, 'unchanged objects are not delivered again by a relist');
  t.equal(informer.get('default', 'kept'), held, 'same object after the relists: the listed copy was dropped');
  // A delete the watch never delivers (its subscription is gone): the relist removes it.
  (informer as any).watch.stop();
  await api.client.delete('ConfigMap', 'kept', { namespace: 'default' });
  await rec.until(() => rec.calls.includes('delete kept'), 'the relist to notice the delete');
  t.equal(informer.get('default', 'kept'), undefined, 'removed by the relist');
  informer.stop();
});

t.test('over NATS: a resync re-delivers the cache to resync handlers only', async (t) => {
  await api.client.create(cm('held', 'a'));
  const informer = new Informer(api.client, 'ConfigMap', { resyncMs: 200, relistMs: 60_000 });
  const changesOnly: string[] = [];
  informer.on({ upsert: (o) => o.metadata!.name === 'held' && changesOnly.push('upsert held') }, { resync: false });
  const rec = recorder(informer);
  await informer.start();
  await rec.until(() => rec.calls.filter((c) => c === 'upsert held=a').length >= 3, 'two resyncs');
  t.same(changesOnly, ['upsert held'], 'the changes-only handler heard the object once, at the list');
  await api.client.modify('ConfigMap', 'held', 'default', (o) => void ((o as any).data.value = 'b'));
  await rec.until(() => rec.calls.includes('upsert held=b'), 'the update');
  t.same(changesOnly, ['upsert held', 'upsert held'], 'and each change');
  informer.stop();
  await api.client.delete('ConfigMap', 'held', { namespace: 'default' });
});

t.test('over NATS: a reconnect relists at once (events sent meanwhile may be lost)', async (t) => {
  const own = await api.nats.connect();
  const ownClient = new ApiClient(own);
  await api.client.create(cm('gone', 'a'));
  const informer = new Informer(ownClient, 'ConfigMap', { resyncMs: 60_000, relistMs: 60_000 });
  const rec = recorder(informer);
  await informer.start();
  t.ok(informer.get('default', 'gone'), 'listed at start');
  (informer as any).watch.stop(); // the delete below is lost, as one sent while disconnected would be
  await api.client.delete('ConfigMap', 'gone', { namespace: 'default' });
  await own.reconnect();
  await rec.until(() => rec.calls.includes('delete gone'), 'the relist after the reconnect');
  t.equal(informer.get('default', 'gone'), undefined, 'repaired long before the next periodic relist');
  informer.stop();
});

t.test('byNamespace: the objects of one namespace, both ways, through creates, updates, deletes and a recreate', async (t) => {
  await api.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'idx-other' } } as KubeObject);
  const inNs = (name: string, namespace: string, value: string) => ({ ...cm(name, value), metadata: { name, namespace } }) as KubeObject;
  await api.client.create(inNs('idx-early', 'default', '1'));
  for (const mode of ['in-process', 'over NATS'] as const) {
    const informer = new Informer(api.client, 'ConfigMap', { resyncMs: 60_000, ...(mode === 'in-process' ? { source: localSources(api.server)('ConfigMap') } : {}) });
    const rec = recorder(informer);
    await informer.start();
    const names = (ns: string) => [...informer.byNamespace(ns)].map((o) => `${o.metadata!.name}=${(o as any).data.value}`).sort();
    const scan = (ns: string) => informer.list((o) => o.metadata?.namespace === ns).map((o) => `${o.metadata!.name}=${(o as any).data.value}`).sort();
    t.same(names('default').filter((n) => n.startsWith('idx-')), ['idx-early=1'], `${mode}: what was stored before the first call`);
    await api.client.create(inNs(`idx-a-${mode.length}`, 'default', '2'));
    await api.client.create(inNs(`idx-b-${mode.length}`, 'idx-other', '3'));
    await rec.until(() => rec.calls.includes(`upsert idx-b-${mode.length}=3`), 'the creates');
    await api.client.modify('ConfigMap', `idx-a-${mode.length}`, 'default', (o) => void ((o as any).data.value = '4'));
    await rec.until(() => rec.calls.includes(`upsert idx-a-${mode.length}=4`), 'the update');
    await api.client.delete('ConfigMap', `idx-b-${mode.length}`, { namespace: 'idx-other' });
    await rec.until(() => rec.calls.includes(`delete idx-b-${mode.length}`), 'the delete');
    for (const ns of ['default', 'idx-other']) t.same(names(ns), scan(ns), `${mode}: ${ns} as a full scan has it`);
    t.same(names('idx-other'), [], `${mode}: the deleted one is gone`);
    t.ok(names('default').includes(`idx-a-${mode.length}=4`), `${mode}: the updated one in its current version`);
    t.same(names('no-such-namespace'), [], `${mode}: a namespace without objects`);
    informer.stop();
    await api.client.delete('ConfigMap', `idx-a-${mode.length}`, { namespace: 'default' });
  }
});
