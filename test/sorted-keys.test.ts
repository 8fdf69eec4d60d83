/**
 * The watch cache's key index (nodes/apiserver/sorted-keys.ts) against the obvious model, a
 * sorted array: thousands of random adds and deletes (enough to split chunks and empty them),
 * then every starting point's iteration and count.
 */
import t from 'tap';
import { SortedKeys } from '../nodes/apiserver/sorted-keys.js';

/** A small deterministic PRNG (mulberry32), so a failure replays. */
function rng(seed: number): () => number {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const key = (r: () => number) => `${['a', 'a-b', 'b', 'kube-system'][Math.floor(r() * 4)]}/pod-${Math.floor(r() * 5000)}`;

t.test('adds, deletes, iteration and counts agree with a sorted array', async (t) => {
  const r = rng(9);
  const index = new SortedKeys();
  const model = new Set<string>();
  let mismatches = 0;
  for (let step = 0; step < 30_000; step++) {
    const k = key(r);
    // Mostly adds first, then mostly deletes: chunks split, shrink and vanish.
    const adding = r() < (step < 15_000 ? 0.8 : 0.25);
    const changed = adding ? index.add(k) : index.delete(k);
    const expected = adding ? !model.has(k) : model.has(k);
    if (adding) model.add(k);
    else model.delete(k);
    if (changed !== expected) mismatches++;
  }
  t.equal(mismatches, 0, 'add/delete say whether they changed anything');
  const sorted = [...model].sort();
  t.equal(index.size, sorted.length);
  t.same([...index.from('')], sorted, 'everything, in order');
  for (let probe = 0; probe < 300; probe++) {
    const start = probe % 3 === 0 ? sorted[Math.floor(r() * sorted.length)] : key(r);
    const exclusive = probe % 2 === 0;
    const expected = sorted.filter((k) => (exclusive ? k > start : k >= start));
    const got = [...index.from(start, exclusive)];
    if (got.length !== expected.length || got[0] !== expected[0] || got[got.length - 1] !== expected[expected.length - 1]) {
      t.fail(`from(${start}, ${exclusive}): ${got.length} keys, expected ${expected.length}`);
      return;
    }
    t.equal(index.countFrom(start, exclusive), expected.length, `countFrom(${start}, ${exclusive})`);
  }
  t.equal(index.countFrom('a0'), sorted.filter((k) => k >= 'a0').length, 'a namespace range ends before `ns0`');
  for (const k of sorted) index.delete(k);
  t.equal(index.size, 0);
  t.same([...index.from('')], []);
  t.equal(index.countFrom(''), 0);
});
