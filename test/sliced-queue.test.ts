/**
 * SlicedQueue: tasks run in order, a slice of `sliceMs` at a time, handing the event loop back in
 * between (where a host reads its NATS socket). A simulated clock and a manual `later`.
 */
import t from 'tap';
import { SlicedQueue } from '../nodes/shared/sliced-queue.js';

function harness(sliceMs: number, taskMs: number) {
  let now = 0;
  const pending: (() => void)[] = [];
  const q = new SlicedQueue({ sliceMs, now: () => now, later: (fn) => void pending.push(fn) });
  const ran: number[] = [];
  const push = (i: number) =>
    q.push(() => {
      ran.push(i);
      now += taskMs;
    });
  /** Runs one slice (what the event loop would do after its I/O); false when none is due. */
  const turn = () => {
    const fn = pending.shift();
    fn?.();
    return fn !== undefined;
  };
  return { q, ran, push, turn, pending };
}

t.test('a burst runs a slice at a time, in order, yielding between slices', async (t) => {
  const h = harness(10, 3);
  for (let i = 0; i < 10; i++) h.push(i);
  t.same(h.ran, [], 'nothing runs in the caller (the NATS callback)');
  t.equal(h.pending.length, 1, 'one slice scheduled for the whole burst');
  h.turn();
  t.same(h.ran, [0, 1, 2, 3], 'a slice stops once its 10 ms are used');
  t.equal(h.q.waiting, 6);
  h.push(10);
  while (h.turn());
  t.same(h.ran, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'every task, in push order');
  t.equal(h.q.waiting, 0);
  t.equal(h.q.maxWaiting, 10);
});

t.test('a throwing task is reported and the rest still run', async (t) => {
  const errors: unknown[] = [];
  let now = 0;
  const pending: (() => void)[] = [];
  const q = new SlicedQueue({ sliceMs: 10, now: () => now, later: (fn) => void pending.push(fn), onError: (e) => errors.push(e) });
  const ran: string[] = [];
  q.push(() => ran.push('a'));
  q.push(() => {
    throw new Error('boom');
  });
  q.push(() => ran.push('c'));
  while (pending.length) pending.shift()!();
  t.same(ran, ['a', 'c']);
  t.equal((errors[0] as Error).message, 'boom');
});

t.test('stop drops what is queued and ignores later pushes', async (t) => {
  const h = harness(10, 3);
  for (let i = 0; i < 10; i++) h.push(i);
  h.turn();
  h.q.stop();
  h.push(99);
  while (h.turn());
  t.same(h.ran, [0, 1, 2, 3]);
  t.equal(h.q.waiting, 0);
});
