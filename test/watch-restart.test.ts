/**
 * Watches across an API server restart, against a real nats-server and API server: a write the
 * old server committed to the store but never published (it was SIGKILLed between the two) has
 * no watch event, so watchers relist when the new server announces itself. The write is made
 * with the store's own code while no API server runs, as the killed one left it.
 */
import t from 'tap';
import { Informer } from '../nodes/controllers/informer.js';
import { KindStore } from '../nodes/apiserver/store.js';
import type { KubeObject, WatchEvent } from '../protocol/objects.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';

let api: TestApiServer;
t.before(async () => {
  api = await startTestApiServer({ serviceCidr: '127.100.14.0/24' });
});
t.teardown(() => api.stop());

const cm = (name: string, value: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { value } }) as KubeObject;

/** The ConfigMap writes a killed API server committed without publishing their events. */
async function unpublishedWrites(write: (store: KindStore) => Promise<void>): Promise<void> {
  const store = new KindStore('ConfigMap');
  await store.open(api.nc.jetstream(), api.nc);
  try {
    await write(store);
  } finally {
    store.close();
  }
}

/** Resolves once `predicate` holds on the events seen so far (checked on each new one), with a deadline. */
function eventsUntil(events: WatchEvent[], predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const check = () => {
      if (predicate()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`not within ${timeoutMs} ms: ${what}; events: ${events.map((e) => `${e.type} ${e.object.metadata?.name}`).join(', ')}`));
      setTimeout(check, 20);
    };
    check();
  });
}

t.test('a watch delivers what a killed API server wrote but never published, once the new one starts', async (t) => {
  for (const name of ['gone', 'changed', 'kept']) await api.client.create(cm(name, 'v1'));
  const events: WatchEvent[] = [];
  const watch = await api.client.watch('ConfigMap', { namespace: 'default' }, (ev) => events.push(ev));
  t.teardown(() => watch.stop());
  const informer = new Informer(api.client, 'ConfigMap', { namespace: 'default' });
  await informer.start();
  t.teardown(() => informer.stop());
  t.same(events.map((e) => `${e.type} ${e.object.metadata?.name}`).sort(), ['ADDED changed', 'ADDED gone', 'ADDED kept']);
  const byName = new Map(events.map((e) => [e.object.metadata!.name!, e.object]));
  events.length = 0;

  await api.restart(() =>
    unpublishedWrites(async (store) => {
      await store.remove('default', 'gone', Number(byName.get('gone')!.metadata!.resourceVersion));
      const changed = { ...byName.get('changed')!, data: { value: 'v2' } };
      await store.update(changed, Number(changed.metadata!.resourceVersion));
    }),
  );
  await eventsUntil(events, () => events.length >= 2, 'the relist after the restart');
  t.same(
    events.map((e) => `${e.type} ${e.object.metadata?.name}`).sort(),
    ['DELETED gone', 'MODIFIED changed'],
    'exactly what changed meanwhile: the deleted object and the modified one, nothing for the unchanged one',
  );
  const deleted = events.find((e) => e.type === 'DELETED')!.object;
  t.equal(deleted.metadata?.uid, byName.get('gone')!.metadata!.uid, 'DELETED carries the last object seen (its uid)');
  t.match(events.find((e) => e.type === 'MODIFIED')!.object, { data: { value: 'v2' } });

  await eventsUntil(events, () => !informer.get('default', 'gone') && (informer.get('default', 'changed') as { data?: Record<string, string> } | undefined)?.data?.value === 'v2', 'the informer relisted');
  t.pass('an informer over NATS relists on the announcement too');

  // Later events flow as before, once each.
  await api.client.create(cm('after', 'v1'));
  await eventsUntil(events, () => events.some((e) => e.object.metadata?.name === 'after'), 'the event of a later create');
  t.same(events.filter((e) => e.object.metadata?.name === 'after').map((e) => e.type), ['ADDED']);
});

t.test('a watch created with relistOnApiServerStart: false hears nothing of those writes', async (t) => {
  const events: WatchEvent[] = [];
  const watch = await api.client.watch('ConfigMap', { namespace: 'default', relistOnApiServerStart: false }, (ev) => events.push(ev));
  t.teardown(() => watch.stop());
  const listed = events.length;
  const probe: WatchEvent[] = [];
  const relisting = await api.client.watch('ConfigMap', { namespace: 'default' }, (ev) => probe.push(ev));
  t.teardown(() => relisting.stop());
  const kept = probe.find((e) => e.object.metadata?.name === 'kept')!.object;
  probe.length = 0;
  await api.restart(() => unpublishedWrites((store) => store.remove('default', 'kept', Number(kept.metadata!.resourceVersion))));
  await eventsUntil(probe, () => probe.length > 0, 'the relisting watch heard of it');
  t.equal(events.length, listed, 'the other watch (a watcher in the API server\'s own process) got no event');
});
