/**
 * The daemons' NATS connection (nodes/shared/connect.ts) runs without nats.js' per-request stack
 * capture; what a user sees when a request times out must not suffer: against a real
 * nats-server, a request nobody answers in time fails with an ApiError Timeout naming the subject
 * and the timeout, and its stack names the function that made the call.
 */
import t from 'tap';
import type { NatsConnection } from 'nats';
import { connectNats } from '../nodes/shared/connect.js';
import { ApiClient } from '../protocol/client.js';
import { ApiError } from '../protocol/errors.js';
import { startTestNats, type TestNats } from './helpers/nats.js';

let nats: TestNats;
let nc: NatsConnection;
t.before(async () => {
  nats = await startTestNats();
  nc = await connectNats(nats.url, 'test-connect');
});
t.teardown(async () => {
  await nc.close();
  await nats.stop();
});

t.test('a timed-out request still says what timed out, and from where', async (t) => {
  const silent = nc.subscribe('kubeact.test.silent', { callback: () => {} }); // receives, never answers
  await nc.flush();
  const client = new ApiClient(nc, { timeoutMs: 200 });
  async function readTheSilentSubject(): Promise<unknown> {
    return await client.requestTyped('kubeact.test.silent', { hello: 1 });
  }
  const err = await readTheSilentSubject().then(
    () => undefined,
    (e: unknown) => e,
  );
  silent.unsubscribe();
  t.ok(err instanceof ApiError, 'an ApiError');
  const e = err as ApiError;
  t.equal(e.reason, 'Timeout');
  t.equal(e.message, 'request on kubeact.test.silent timed out after 200 ms');
  t.match(e.stack ?? '', /readTheSilentSubject/, 'the stack names the caller');
  t.equal((nc as unknown as { protocol: { options: { noAsyncTraces?: boolean } } }).protocol.options.noAsyncTraces, true, 'connected without per-request stack capture');
});

