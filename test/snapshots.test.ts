/**
 * The actor snapshot store (nodes/controllers/snapshots.ts) against a real nats-server: writes
 * of one key coalesce to the latest, come at most once per interval, evaluate a snapshot
 * function only when they write it, and flush() writes what is queued without waiting.
 */
import t from 'tap';
import type { NatsConnection } from 'nats';
import { SnapshotStore } from '../nodes/controllers/snapshots.js';
import { silentLogger } from '../nodes/shared/logger.js';
import { startTestNats, type TestNats } from './helpers/nats.js';

let nats: TestNats;
let nc: NatsConnection;
t.before(async () => {
  nats = await startTestNats();
  nc = await nats.connect();
});
t.teardown(() => nats.stop());

t.test('a burst of saves of one key: the latest is written, at most one write per interval', async (t) => {
  const store = new SnapshotStore(silentLogger(), 60_000);
  await store.open(nc.jetstream());
  let evaluated = 0;
  for (let i = 1; i <= 100; i++) store.save('burst', () => (evaluated++, { i }));
  await store.flush();
  t.same(await store.load('burst'), { i: 100 }, 'the last snapshot is stored');
  t.ok(evaluated <= 2, `the snapshot function ran only for the writes made (${evaluated})`);
  const started = Date.now();
  store.save('burst', { i: 101 });
  store.save('burst', { i: 102 });
  await store.flush();
  t.ok(Date.now() - started < 30_000, 'flush does not wait out the 60 s interval');
  t.same(await store.load('burst'), { i: 102 });
});

t.test('after a write, the next one waits for the interval (or a flush)', async (t) => {
  const store = new SnapshotStore(silentLogger(), 60_000);
  await store.open(nc.jetstream());
  store.save('paced', { i: 1 });
  await store.flush();
  store.save('paced', { i: 2 }); // written at once: the key is idle
  store.save('paced', { i: 3 }); // queued behind the interval
  const deadline = Date.now() + 10_000;
  while ((await store.load<{ i: number }>('paced'))?.i !== 2) if (Date.now() > deadline) throw new Error('the first write never landed');
  t.same(await store.load('paced'), { i: 2 }, 'the queued snapshot is not written yet');
  await store.flush();
  t.same(await store.load('paced'), { i: 3 }, 'flush writes it');
});
