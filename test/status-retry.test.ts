/** The kubelet's back-off between failed pod status writes: doubling from 200 ms to 10 s, with jitter. */
import t from 'tap';
import { statusRetryDelayMs } from '../nodes/worker/pod-worker.js';

t.test('doubles from 200 ms and stops at 10 s (jitter at its midpoint)', async (t) => {
  const mid = () => 0.5;
  t.same([0, 1, 2, 3, 4, 5, 6, 10].map((n) => statusRetryDelayMs(n, mid)), [200, 400, 800, 1600, 3200, 6400, 10_000, 10_000]);
});

t.test('jitter spreads a delay over ±50%', async (t) => {
  t.equal(statusRetryDelayMs(0, () => 0), 100);
  t.equal(Math.round(statusRetryDelayMs(0, () => 0.999)), 300);
  t.equal(statusRetryDelayMs(20, () => 0), 5000);
  t.equal(Math.round(statusRetryDelayMs(20, () => 0.999)), 14_990);
});
