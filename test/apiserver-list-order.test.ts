/**
 * List pages served from the watch cache's key index, against a real nats-server: for every
 * namespace scope (none, or namespaces whose names prefix one another), with and without
 * selectors, page sizes 1, 7 and 500, walking `continue` gives exactly the filtered objects in
 * key order, and each page's remainingItemCount is what is left; cluster-scoped kinds too;
 * deleted objects leave the index, created ones join it between pages.
 */
import t from 'tap';
import type { NatsConnection } from 'nats';
import { ApiServer } from '../nodes/apiserver/server.js';
import { silentLogger } from '../nodes/shared/logger.js';
import { ApiClient } from '../protocol/client.js';
import type { KubeObject, ObjectList } from '../protocol/objects.js';
import { matchesFilters } from '../protocol/selectors.js';
import { startTestNats, type TestNats } from './helpers/nats.js';

let nats: TestNats;
let nc: NatsConnection;
let server: ApiServer;
let client: ApiClient;
const NAMESPACES = ['a', 'a-b', 'ab', 'b'];
/** What this file stored, by kind: the model every list is checked against. */
const stored: Record<'Pod' | 'Node', Map<string, KubeObject>> = { Pod: new Map(), Node: new Map() };
const keyOf = (o: KubeObject) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;
async function store(o: KubeObject): Promise<void> {
  await client.create(o);
  stored[o.kind as 'Pod' | 'Node'].set(keyOf(o), o);
}

const pod = (namespace: string, i: number): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: `p-${(i * 37) % 100}.${i}`, namespace, labels: { parity: i % 2 ? 'odd' : 'even' } },
  spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] },
});

t.before(async () => {
  nats = await startTestNats();
  nc = await nats.connect();
  server = new ApiServer({ nc, logger: silentLogger() });
  await server.start();
  client = new ApiClient(nc);
  for (const ns of NAMESPACES) if (!(await client.find('Namespace', ns))) await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  await Promise.all(NAMESPACES.flatMap((ns) => Array.from({ length: 15 }, (_, i) => store(pod(ns, i)))));
  await Promise.all(Array.from({ length: 12 }, (_, i) => store({ apiVersion: 'v1', kind: 'Node', metadata: { name: `node-${(i * 5) % 12}`, labels: { parity: i % 2 ? 'odd' : 'even' } } })));
});

t.teardown(async () => {
  await server.stop();
  await nats.stop();
});

/** What a list should give: every stored object passing the filters, in `namespace/name` order. */
function expected(kind: 'Pod' | 'Node', opts: { namespace?: string; labelSelector?: string; fieldSelector?: string }): string[] {
  return [...stored[kind].values()].filter((o) => matchesFilters(o, opts)).map(keyOf).sort();
}

async function walk(kind: 'Pod' | 'Node', opts: { namespace?: string; labelSelector?: string; fieldSelector?: string }, limit: number) {
  const keys: string[] = [];
  const remaining: [number | undefined, number][] = [];
  let token: string | undefined;
  do {
    const page = await client.call<ObjectList>('list', kind, { ...opts, limit, continue: token });
    keys.push(...page.items.map((o) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name}`));
    token = page.metadata.continue;
    remaining.push([page.metadata.remainingItemCount, keys.length]);
  } while (token);
  return { keys, remaining };
}

t.test('pages walk exactly the filtered objects in key order, with the right remaining counts', async (t) => {
  const scopes = [{}, { namespace: 'a' }, { namespace: 'a-b' }, { namespace: 'ab' }, { namespace: 'b' }, { namespace: 'nowhere' }];
  const filters = [{}, { labelSelector: 'parity=odd' }, { fieldSelector: 'metadata.name!=p-0.0' }];
  for (const scope of scopes) {
    for (const filter of filters) {
      const opts = { ...scope, ...filter };
      const want = expected('Pod', opts);
      for (const limit of [1, 7, 500]) {
        const { keys, remaining } = await walk('Pod', opts, limit);
        t.same(keys, want, `${JSON.stringify(opts)} limit ${limit}: ${want.length} pods in order`);
        const wrong = remaining.filter(([count, served], i) => (i === remaining.length - 1 ? count !== undefined : count !== want.length - served));
        t.same(wrong, [], `${JSON.stringify(opts)} limit ${limit}: remainingItemCount on every page`);
      }
    }
  }
});

t.test('a cluster-scoped kind pages the same way', async (t) => {
  for (const filter of [{}, { labelSelector: 'parity=even' }]) {
    const want = expected('Node', filter);
    t.equal(want.length, filter.labelSelector ? 6 : 12);
    for (const limit of [1, 5]) t.same((await walk('Node', filter, limit)).keys, want, `${JSON.stringify(filter)} limit ${limit}`);
  }
});

t.test('objects deleted and created between pages', async (t) => {
  const first = await client.call<ObjectList>('list', 'Pod', { namespace: 'b', limit: 5 });
  const served = first.items.map((o) => o.metadata!.name!);
  const later = (expected('Pod', { namespace: 'b' })).map((k) => k.slice(2)).filter((n) => !served.includes(n));
  await client.delete('Pod', later[0], { namespace: 'b' });
  stored.Pod.delete(`b/${later[0]}`);
  await store(pod('b', 999)); // p-63.999 sorts after every p-<n>.<i> served in the first page of 5
  const next = await client.call<ObjectList>('list', 'Pod', { namespace: 'b', limit: 500, continue: first.metadata.continue });
  const names = next.items.map((o) => o.metadata!.name!);
  t.notOk(names.includes(later[0]), 'the deleted pod is not served');
  t.ok(names.includes('p-63.999'), 'the pod created after the cursor is');
  t.same([...served, ...names], (expected('Pod', { namespace: 'b' })).map((k) => k.slice(2)), 'first page + rest = the namespace now');
  t.equal(first.metadata.remainingItemCount, 10, 'the first page counted the 10 after it');
});
