/**
 * List paging (Kubernetes' limit/continue chunking) against a real nats-server: a list larger
 * than NATS' maximum payload is served in pages, the client reassembles whole lists (and
 * watches) from them, and bad paging parameters are rejected.
 */
import t from 'tap';
import type { NatsConnection } from 'nats';
import type { ApiClient } from '../protocol/client.js';
import type { KubeObject } from '../protocol/objects.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';
import { rejects } from './helpers/errors.js';

let api: TestApiServer;
let nc: NatsConnection;
let client: ApiClient;
let count = 0;
const PADDING = 'x'.repeat(16 * 1024);

const pod = (i: number): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: `big-${String(i).padStart(4, '0')}`, labels: { parity: i % 2 ? 'odd' : 'even' }, annotations: { padding: PADDING } },
  spec: { containers: [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '10'] }] },
});

t.before(async () => {
  api = await startTestApiServer();
  ({ nc, client } = api);
  // Enough 16 KiB pods that the whole list is 1.5 times what one NATS message may carry.
  count = Math.ceil((1.5 * nc.info!.max_payload) / PADDING.length);
  for (let i = 0; i < count; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, count - i) }, (_, j) => client.create(pod(i + j))));
  }
});

t.teardown(async () => {
  await api.stop();
});

t.test('a list larger than the NATS maximum payload arrives whole, in key order', async (t) => {
  const list = await client.list('Pod', { namespace: 'default' });
  const names = list.items.map((p) => p.metadata!.name!);
  t.equal(names.length, count, `${count} pods of 16 KiB (max payload ${nc.info!.max_payload} bytes)`);
  t.same(names, [...names].sort(), 'sorted by key');
  t.equal(new Set(names).size, count, 'no pod twice');
  t.equal(list.metadata.continue, undefined);
  t.equal(list.metadata.remainingItemCount, undefined);
  t.match(list.metadata.resourceVersion, /^\d+$/);
});

t.test('limit and continue walk the list page by page', async (t) => {
  const first = await client.list('Pod', { namespace: 'default', limit: 10 });
  t.equal(first.items.length, 10);
  t.equal(first.metadata.remainingItemCount, count - 10);
  t.type(first.metadata.continue, 'string');
  const names = first.items.map((p) => p.metadata!.name);
  let token = first.metadata.continue;
  let pages = 1;
  const versions = new Set<string>();
  while (token) {
    const page = await client.list('Pod', { namespace: 'default', limit: 10, continue: token });
    versions.add(page.metadata.resourceVersion);
    names.push(...page.items.map((p) => p.metadata!.name));
    token = page.metadata.continue;
    pages++;
  }
  t.equal(pages, Math.ceil(count / 10));
  t.same([...versions], [first.metadata.resourceVersion], 'every page carries the first page\'s resourceVersion');
  t.same(names, Array.from({ length: count }, (_, i) => pod(i).metadata!.name), 'every pod once, in order');
});

t.test('paging applies after the selectors', async (t) => {
  const page = await client.list('Pod', { labelSelector: 'parity=odd', limit: 7 });
  t.equal(page.items.length, 7);
  t.ok(page.items.every((p) => p.metadata?.labels?.parity === 'odd'));
  t.equal(page.metadata.remainingItemCount, Math.floor(count / 2) - 7);
  const all = await client.list('Pod', { labelSelector: 'parity=odd' });
  t.equal(all.items.length, Math.floor(count / 2));
});

t.test('a watch starts from a paged list too', async (t) => {
  let added = 0;
  const watch = await client.watch('Pod', { namespace: 'default' }, (ev) => {
    if (ev.type === 'ADDED') added++;
  });
  watch.stop();
  t.equal(added, count, 'one ADDED event per listed pod');
});

t.test('a page stops short of the maximum payload; an unpaged reply too large is an error, not a crash', async (t) => {
  const page = await client.list('Pod', { namespace: 'default', limit: count });
  t.ok(page.items.length < count && page.items.length > 0, `a page of ${page.items.length} pods, not ${count}`);
  t.equal(page.metadata.remainingItemCount, count - page.items.length);
  const tooLarge = await rejects(client.call('list', 'Pod', { namespace: 'default' }));
  t.equal(tooLarge.reason, 'RequestEntityTooLarge');
  t.match(tooLarge.message, /limit\/continue/);
  t.equal((await client.get('Pod', 'big-0000', 'default')).metadata?.name, 'big-0000', 'the API server still answers');
});

t.test('bad paging parameters are rejected', async (t) => {
  const negative = await rejects(client.list('Pod', { limit: -1 }));
  t.equal(negative.reason, 'BadRequest');
  t.match(negative.message, /limit must be a non-negative integer/);
  const garbage = await rejects(client.list('Pod', { limit: 5, continue: 'not-a-token' }));
  t.equal(garbage.reason, 'BadRequest');
  t.match(garbage.message, /continue key is not valid/);
});
