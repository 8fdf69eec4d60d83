/**
 * Requests over a connection from connectNats (real nats-server): answered ones resolve without
 * nats.js building an error, timeouts and missing responders still fail as before.
 */
import { createRequire } from 'node:module';
import t from 'tap';
import { connectNats } from '../nodes/shared/connect.js';
import { cheapRequestEnd } from '../nodes/shared/nats-requests.js';
import { startTestNats } from './helpers/nats.js';

const nats = await startTestNats();
t.teardown(() => nats.stop());
const nc = await connectNats(nats.url, 'nats-requests-test');
t.teardown(() => nc.close());
t.ok(cheapRequestEnd(), 'the patch applies to this nats.js');

const { NatsError } = createRequire(import.meta.url)('nats/lib/nats-base-client/core.js') as { NatsError: { errorForCode: (...a: unknown[]) => Error } };
let built = 0;
const original = NatsError.errorForCode;
NatsError.errorForCode = (...a: unknown[]) => {
  built++;
  return original.apply(NatsError, a);
};
t.teardown(() => void (NatsError.errorForCode = original));

const echo = nc.subscribe('test.echo', { callback: (_e, m) => m.respond(m.data) });
t.teardown(() => echo.unsubscribe());

t.test('answered requests resolve with their reply and build no error', async (t) => {
  built = 0;
  const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => nc.request('test.echo', new TextEncoder().encode(`m${i}`), { timeout: 5000 })));
  t.same(replies.map((r) => new TextDecoder().decode(r.data)), Array.from({ length: 200 }, (_, i) => `m${i}`));
  t.equal(built, 0, 'no NatsError per answered request');
});

t.test('a request nobody answers in time still times out, and one without responders fails', async (t) => {
  nc.subscribe('test.silent', { callback: () => {} });
  await t.rejects(nc.request('test.silent', new Uint8Array(), { timeout: 100 }), { code: 'TIMEOUT' });
  await t.rejects(nc.request('test.nobody', new Uint8Array(), { timeout: 1000 }), { code: '503' });
  const reply = await nc.request('test.echo', new TextEncoder().encode('after'), { timeout: 5000 });
  t.equal(new TextDecoder().decode(reply.data), 'after', 'the connection carries on');
});
