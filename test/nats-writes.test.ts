/**
 * Coalesced NATS writes (nodes/shared/nats-writes.ts) against a real nats-server: a burst of
 * messages queued in one event-loop turn leaves in one socket write, every message arrives in
 * order, requests still get their replies, and flush() still pushes everything out.
 */
import t from 'tap';
import type { NatsConnection } from 'nats';
import { WRITE_THRESHOLD_BYTES, coalesceWrites } from '../nodes/shared/nats-writes.js';
import { startTestNats, type TestNats } from './helpers/nats.js';

let nats: TestNats;
t.before(async () => {
  nats = await startTestNats();
});
t.teardown(() => nats.stop());

/** Counts the frames nats.js hands to its socket (one `write` each). */
function countWrites(nc: NatsConnection): { frames: number } {
  const transport = (nc as unknown as { protocol: { transport: { send(frame: Uint8Array): void } } }).protocol.transport;
  const counter = { frames: 0 };
  const send = transport.send.bind(transport);
  transport.send = (frame) => {
    counter.frames++;
    send(frame);
  };
  return counter;
}

async function burst(nc: NatsConnection, subject: string, n: number): Promise<{ frames: number; received: string[] }> {
  const sub = nc.subscribe(subject, { max: n });
  await nc.flush();
  const received: string[] = [];
  const done = (async () => {
    for await (const m of sub) received.push(m.string());
  })();
  const writes = countWrites(nc);
  // One turn: each await on a resolved promise is a microtask, where nats.js would flush.
  for (let i = 0; i < n; i++) {
    nc.publish(subject, `m${i}`);
    await Promise.resolve();
  }
  await done;
  return { frames: writes.frames, received };
}

t.test('a burst of messages within one turn leaves in one write, all delivered in order', async (t) => {
  const plain = await nats.connect();
  const coalesced = await nats.connect();
  t.ok(coalesceWrites(coalesced), 'the installed nats.js has the internals it needs');
  const before = await burst(plain, 'burst.plain', 200);
  const after = await burst(coalesced, 'burst.coalesced', 200);
  const expected = Array.from({ length: 200 }, (_, i) => `m${i}`);
  t.same(before.received, expected);
  t.same(after.received, expected, 'every message, in order');
  t.equal(after.frames, 1, 'one write for the whole burst');
  t.ok(before.frames >= 100, `without coalescing nats.js writes per message: ${before.frames} writes`);
  await plain.close();
  await coalesced.close();
});

t.test('requests, replies and flush() work on coalesced connections', async (t) => {
  const server = await nats.connect();
  const client = await nats.connect();
  t.ok(coalesceWrites(server) && coalesceWrites(client));
  server.subscribe('echo', { callback: (_, m) => m.respond(m.data) });
  await server.flush();
  const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => client.request('echo', `q${i}`, { timeout: 10_000 })));
  t.same(replies.map((r) => r.string()), Array.from({ length: 50 }, (_, i) => `q${i}`));
  // A message over the threshold goes out at once, not at the end of the turn.
  const writes = countWrites(client);
  client.publish('big', new Uint8Array(WRITE_THRESHOLD_BYTES + 1024));
  t.equal(writes.frames, 1, 'written inline');
  // Messages of 40 KiB (over nats.js' own 32 KiB threshold) in one turn: written when they fill the threshold.
  const perWrite = Math.ceil(WRITE_THRESHOLD_BYTES / (40 * 1024));
  for (let i = 0; i < perWrite * 3; i++) client.publish('big', new Uint8Array(40 * 1024));
  t.equal(writes.frames, 4, `${perWrite * 3} messages of 40 KiB in one turn: 3 writes of ${perWrite}, not ${perWrite * 3}`);
  await client.flush();
  await server.close();
  await client.close();
});
