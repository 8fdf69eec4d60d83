/** Lease renewal lateness: the host's window of samples, its log line, and the benchmark merging the lines of a time window. */
import t from 'tap';
import { renewalLateness } from '../bench/scale/lateness.js';
import { HEARTBEAT_LATENESS_MSG, LatenessWindow, percentile } from '../nodes/worker/heartbeat-lateness.js';
import { eventName } from '../nodes/shared/events.js';

t.test('percentile is nearest-rank over sorted values', async (t) => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
  t.equal(percentile(hundred, 50), 50);
  t.equal(percentile(hundred, 99), 99);
  t.equal(percentile(hundred, 100), 100);
  t.equal(percentile([7], 99), 7);
  t.equal(percentile([], 99), 0);
});

t.test('a window summarizes its samples once, then starts afresh', async (t) => {
  const w = new LatenessWindow();
  t.equal(w.take(), undefined, 'nothing renewed: no line');
  for (const ms of [0.4, 3, 1200.6, 0, 15]) w.record(ms);
  const s = w.take()!;
  t.same(s, { renewals: 5, p50Ms: 3, p99Ms: 1201, maxMs: 1201, lateMs: [0, 3, 1201, 0, 15] }, 'whole ms, samples in renewal order');
  t.equal(w.take(), undefined, 'the next window is empty');
});

t.test('the benchmark merges the lines within its window and ignores the rest', async (t) => {
  const line = (time: number, lateMs: number[], msg = HEARTBEAT_LATENESS_MSG) => JSON.stringify({ level: 30, time, msg, renewals: lateMs.length, lateMs });
  const log = [
    line(1000, [900]), // before the window
    line(2000, [1, 2, 3]),
    'not json at all: heartbeat lateness',
    JSON.stringify({ level: 40, time: 2500, msg: 'heartbeat failed' }),
    line(3000, [40, 5]),
    line(9000, [7000]), // after it
    '',
  ].join('\n');
  const s = renewalLateness(log, 1500, 5000);
  t.equal(s.n, 5);
  t.equal(s.max, 40);
  t.equal(s.min, 1);
  t.equal(renewalLateness('', 0, 1).n, 0, 'no log: no samples');
});

t.test('Event names: <object>.<hex ns>, time-ordered, unique within one ms', async (t) => {
  const at = Date.UTC(2026, 10, 27, 16, 0, 0);
  const names = Array.from({ length: 1000 }, () => eventName('web-0', at));
  t.equal(new Set(names).size, 1000, 'a thousand Events of one object in one ms: no collision');
  t.ok(names.every((n) => /^web-0\.[0-9a-f]+$/.test(n)), 'client-go style');
  const ns = BigInt(`0x${names[0].split('.')[1]}`);
  t.equal(ns / 1_000_000n, BigInt(at), 'the hex is the time in ns');
});
