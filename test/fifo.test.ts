import t from 'tap';
import { Fifo } from '../nodes/shared/fifo.js';

t.test('first in, first out across compactions, with peek and size', async (t) => {
  const q = new Fifo<number>();
  t.equal(q.shift(), undefined, 'empty: nothing to take');
  t.equal(q.peek(), undefined);
  let next = 0;
  let taken = 0;
  let inOrder = true;
  // Pushes and takes interleaved, so the head passes 1,024 with most of the array behind it.
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 3000; i++) q.push(next++);
    for (let i = 0; i < 2500; i++) {
      if (q.peek() !== taken) inOrder = false;
      if (q.shift() !== taken++) inOrder = false;
    }
  }
  t.ok(inOrder, 'every item came out in the order it went in');
  t.equal(q.size, next - taken, 'size counts what is still queued');
  while (q.size) q.shift();
  t.equal(q.shift(), undefined, 'drained');
  q.push(7);
  q.clear();
  t.equal(q.size, 0, 'clear empties it');
});
