/**
 * Requests whose client has given up are dropped, not served (nodes/apiserver/request-queue.ts,
 * protocol/request-deadline.ts), on a real nats-server and API server with one workload seat.
 * A client floods ConfigMap creates: the first 600 and every other one after say the client waits
 * 60 s (patient), the rest that it waits 50 ms (impatient; the timeout header) — but it listens
 * for every answer for 60 s, so it sees what the server did with each. Served one at a time
 * (~1 ms each here), the impatient ones wait behind hundreds of creates, past their deadline:
 * they are answered Timeout and NOT stored (checked with a list), while every patient one is
 * created. The server counts the dropped ones, and a fresh request afterwards is served.
 * Garbage in the header never makes the server drop a request at once.
 */
import t from 'tap';
import { headers } from 'nats';
import { decode, encode } from '../protocol/codec.js';
import { ApiClient } from '../protocol/client.js';
import type { Reply } from '../protocol/messages.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, REQUEST_TIMEOUT_HEADER, requestTimeoutMs, timeoutHeaders } from '../protocol/request-deadline.js';
import { subjects } from '../protocol/subjects.js';
import { startTestApiServer } from './helpers/apiserver.js';

const FLOOD = 1500;
/** Patient creates before the first impatient one: ≥ 600 serial creates take far more than 50 ms. */
const HEAD = 600;
const NAMESPACE = 'default';

const api = await startTestApiServer({ maxRequestsInflight: 1 });
const clientNc = await api.nats.connect();
t.teardown(async () => {
  await clientNc.close().catch(() => {});
  await api.stop();
});

const configMap = (name: string) => ({ object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NAMESPACE }, data: { k: 'v' } } });

/** One create that says the client waits what `hdrs` says but listens 60 s: the server's answer, whatever it is. */
async function create(name: string, hdrs = timeoutHeaders(60_000)): Promise<Reply<unknown>> {
  const msg = await clientNc.request(subjects.api('create', 'configmaps'), encode(configMap(name)), { timeout: 60_000, headers: hdrs });
  return decode<Reply<unknown>>(msg.data);
}

t.test('queued creates whose client gave up are answered Timeout and not stored', async (t) => {
  const names = Array.from({ length: FLOOD }, (_, i) => (i < HEAD || i % 2 === 0 ? `patient-${i}` : `impatient-${i}`));
  const replies = await Promise.all(names.map((n) => create(n, n.startsWith('patient') ? timeoutHeaders(60_000) : timeoutHeaders(50))));
  const created = names.filter((_, i) => replies[i].ok);
  const expired = names.filter((_, i) => !replies[i].ok && replies[i].error.reason === 'Timeout');
  t.equal(created.length + expired.length, FLOOD, 'every create is either served or dropped as expired (nothing else)');
  t.ok(expired.length > 0, `impatient creates that waited past their 50 ms were dropped (${expired.length})`);
  t.same(expired.filter((n) => n.startsWith('patient')), [], 'no patient create was dropped');
  t.equal(api.server.queue.stats().expired, expired.length, 'the queue counts every dropped request');
  const stored = (await api.client.list('ConfigMap', { namespace: NAMESPACE })).items.map((o) => o.metadata!.name!).filter((n) => n.includes('patient-'));
  t.same(stored.sort(), created.sort(), 'exactly the served creates are stored: none of the dropped ones');
  const fresh = await api.client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fresh', namespace: NAMESPACE } });
  t.equal(fresh.metadata?.name, 'fresh', 'a fresh request afterwards is served');
});

t.test('a missing or garbage timeout header counts as the default, never as "already expired"', async (t) => {
  for (const [label, value] of [['garbage', 'soon'], ['zero', '0'], ['negative', '-5'], ['fraction', '0.5'], ['huge', '99999999999999999']] as const) {
    const h = headers();
    h.set(REQUEST_TIMEOUT_HEADER, value);
    const reply = await create(`header-${label}`, h);
    t.ok(reply.ok, `header "${value}": served`);
  }
  t.ok((await create('no-header', undefined)).ok, 'no header: served');
  t.equal(requestTimeoutMs(undefined), DEFAULT_REQUEST_TIMEOUT_MS);
  const bad = headers();
  bad.set(REQUEST_TIMEOUT_HEADER, '-1');
  t.equal(requestTimeoutMs(bad), DEFAULT_REQUEST_TIMEOUT_MS);
  t.equal(requestTimeoutMs(timeoutHeaders(1234)), 1234, 'what ApiClient sends is what the server reads');
  t.equal(requestTimeoutMs(timeoutHeaders(10 ** 9)), 600_000, 'capped: nobody waits longer for one reply');
});
