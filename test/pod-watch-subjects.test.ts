/**
 * A pod's watch events are published once, on a subject naming its node: a kubelet's
 * subscription (subjects.nodePods) gets the events of its node's pods only, from the bind on;
 * a watch of every pod (or a namespace's) gets every event, and nothing is sent twice.
 */
import t from 'tap';
import type { NatsConnection, Subscription } from 'nats';
import { decode } from '../protocol/codec.js';
import type { KubeObject, WatchEvent } from '../protocol/objects.js';
import { subjects } from '../protocol/subjects.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';

let api: TestApiServer;
let nc: NatsConnection;

t.before(async () => {
  api = await startTestApiServer();
  nc = api.nc;
  for (const name of ['n1', 'n2']) await api.client.create({ apiVersion: 'v1', kind: 'Node', metadata: { name } } as KubeObject);
});
t.teardown(() => api.stop());

/** What a subscription receives: each event's type and the pod's nodeName. */
function collect(subject: string): { seen: string[]; sub: Subscription } {
  const seen: string[] = [];
  const sub = nc.subscribe(subject, {
    callback: (_err, msg) => {
      const ev = decode<WatchEvent>(msg.data);
      seen.push(`${ev.type} ${ev.object.metadata?.name} ${ev.object.spec?.nodeName ?? '-'}`);
    },
  });
  return { seen, sub };
}

t.test("a kubelet's subscription gets its node's pods from the bind on; every other watcher gets each event once", async (t) => {
  const n1 = collect(subjects.nodePods('n1'));
  const n2 = collect(subjects.nodePods('n2'));
  const all = collect(subjects.watchAll('pods'));
  const ns = collect(subjects.watchAll('pods', 'default'));
  const one = collect(subjects.watchOne('pods', 'default', 'web'));
  const everything = collect('kubeact.watch.>');
  await nc.flush();

  await api.client.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } } as KubeObject);
  await api.client.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'other', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } } as KubeObject);
  t.same(await api.client.bindMany([{ namespace: 'default', name: 'web', nodeName: 'n1' }]), [undefined], 'bound');
  const bound = await api.client.get('Pod', 'web', 'default');
  await api.client.updateStatus({ ...bound, status: { ...bound.status, phase: 'Running' } });
  await api.client.delete('Pod', 'web', { namespace: 'default', gracePeriodSeconds: 0 });
  await api.client.delete('Pod', 'other', { namespace: 'default' });

  const expected = ['ADDED web -', 'ADDED other -', 'MODIFIED web n1', 'MODIFIED web n1', 'DELETED web n1', 'DELETED other -'];
  const deadline = Date.now() + 20_000;
  while (everything.seen.length < expected.length && Date.now() < deadline) await nc.flush();
  await nc.flush();
  t.same(everything.seen, expected, 'each change published once');
  t.same(all.seen, expected, 'a watch of every pod gets every event');
  t.same(ns.seen, expected, "a watch of the namespace's pods gets every event");
  t.same(one.seen, expected.filter((e) => e.includes(' web ')), "a watch of one pod gets that pod's events, bound or not");
  t.same(n1.seen, ['MODIFIED web n1', 'MODIFIED web n1', 'DELETED web n1'], "n1's kubelet gets its pod from the bind on");
  t.same(n2.seen, [], "n2's kubelet gets nothing");
  for (const c of [n1, n2, all, ns, one, everything]) c.sub.unsubscribe();
});
