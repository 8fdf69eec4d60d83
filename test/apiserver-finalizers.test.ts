/**
 * metadata.finalizers and deletionTimestamp, as kube-apiserver handles them, against a real
 * nats-server: DELETE of an object with finalizers only marks it; removing the last finalizer
 * removes it (a DELETED event); an object being deleted cannot gain finalizers (422).
 */
import t from 'tap';
import type { NatsConnection } from 'nats';
import type { ApiClient } from '../protocol/client.js';
import { ApiError, CauseType } from '../protocol/errors.js';
import type { KubeObject, WatchEvent } from '../protocol/objects.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';

let api: TestApiServer;
let nc: NatsConnection;
let client: ApiClient;

t.before(async () => {
  api = await startTestApiServer();
  ({ nc, client } = api);
});

t.teardown(async () => {
  await api.stop();
});

const cm = (name: string, finalizers?: string[]): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, ...(finalizers ? { finalizers } : {}) },
  data: { a: '1' },
} as KubeObject);

t.test('delete of an object with finalizers marks it; removing the last finalizer removes it', async (t) => {
  await client.create(cm('held', ['example.com/a', 'example.com/b']));
  const events: WatchEvent[] = [];
  const watch = await client.watch('ConfigMap', { namespace: 'default' }, (ev) => {
    if (ev.object.metadata?.name === 'held') events.push(ev);
  });
  t.teardown(() => watch.stop());

  const deleted = await client.delete('ConfigMap', 'held', { namespace: 'default' });
  t.ok(deleted.metadata?.deletionTimestamp, 'the reply carries the deletionTimestamp');
  const marked = await client.get('ConfigMap', 'held', 'default');
  t.ok(marked.metadata?.deletionTimestamp, 'still stored, marked for deletion');
  t.equal(marked.metadata?.deletionGracePeriodSeconds, 0);
  t.same(marked.metadata?.finalizers, ['example.com/a', 'example.com/b']);

  // A second delete changes nothing.
  const again = await client.delete('ConfigMap', 'held', { namespace: 'default' });
  t.equal(again.metadata?.resourceVersion, marked.metadata?.resourceVersion);

  // Removing one of two finalizers keeps it.
  await client.modify('ConfigMap', 'held', 'default', (o) => {
    o.metadata!.finalizers = ['example.com/b'];
  });
  t.ok(await client.find('ConfigMap', 'held', 'default'), 'one finalizer left: still there');

  // Adding a finalizer to an object being deleted is a 422 with the field.
  const err = await client
    .modify('ConfigMap', 'held', 'default', (o) => {
      o.metadata!.finalizers = ['example.com/b', 'example.com/new'];
    })
    .then(() => undefined, (e) => e);
  t.ok(err instanceof ApiError, 'rejected');
  t.equal((err as ApiError).code, 422);
  t.match((err as ApiError).causes, [{ reason: CauseType.Forbidden, field: 'metadata.finalizers', message: /no new finalizers can be added if the object is being deleted, found new finalizers \[\]string\{"example.com\/new"\}/ }]);

  await client.modify('ConfigMap', 'held', 'default', (o) => {
    o.metadata!.finalizers = [];
  });
  t.equal(await client.find('ConfigMap', 'held', 'default'), undefined, 'gone after the last finalizer');
  const deadline = Date.now() + 10_000;
  while (!events.some((e) => e.type === 'DELETED') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.ok(events.some((e) => e.type === 'DELETED'), 'watchers get a DELETED event');
});

t.test('objects without finalizers are removed at once; finalizers may be added before deletion', async (t) => {
  await client.create(cm('plain'));
  await client.delete('ConfigMap', 'plain', { namespace: 'default' });
  t.equal(await client.find('ConfigMap', 'plain', 'default'), undefined);

  await client.create(cm('later'));
  await client.modify('ConfigMap', 'later', 'default', (o) => {
    o.metadata!.finalizers = ['example.com/x'];
  });
  await client.delete('ConfigMap', 'later', { namespace: 'default' });
  t.ok((await client.get('ConfigMap', 'later', 'default')).metadata?.deletionTimestamp);
  // An update that keeps the finalizer (a label change) keeps the object.
  await client.modify('ConfigMap', 'later', 'default', (o) => {
    o.metadata!.labels = { touched: 'yes' };
  });
  t.equal((await client.get('ConfigMap', 'later', 'default')).metadata?.labels?.touched, 'yes');
  await client.modify('ConfigMap', 'later', 'default', (o) => {
    delete o.metadata!.finalizers;
  });
  t.equal(await client.find('ConfigMap', 'later', 'default'), undefined);
});

t.test('a pod with a finalizer is kept after its kubelet deletes it with grace 0', async (t) => {
  await client.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'fin', finalizers: ['example.com/keep'] },
    spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox:1.36' }] },
  });
  await client.delete('Pod', 'fin', { namespace: 'default' });
  const terminating = await client.get('Pod', 'fin', 'default');
  t.equal(terminating.metadata?.deletionGracePeriodSeconds, 30, 'graceful deletion first');
  // Removing the finalizer during the grace period does not remove the pod: its kubelet still has to stop it.
  await client.modify('Pod', 'fin', 'default', (o) => {
    o.metadata!.finalizers = [];
  });
  t.ok(await client.find('Pod', 'fin', 'default'), 'still there during its grace period');
  await client.modify('Pod', 'fin', 'default', (o) => {
    o.metadata!.finalizers = ['example.com/keep'];
  }).catch(() => {});
  const current = await client.get('Pod', 'fin', 'default');
  t.same(current.metadata?.finalizers ?? [], [], 'no new finalizer on a pod being deleted');
  await client.delete('Pod', 'fin', { namespace: 'default', gracePeriodSeconds: 0 });
  t.equal(await client.find('Pod', 'fin', 'default'), undefined, 'no finalizers left: removed at grace 0');
});
