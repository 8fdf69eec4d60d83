/**
 * emptyDir sizeLimit: the usage walk (nodes/worker/dir-usage.ts) on real temporary directories,
 * checked against `du -s -B1`, and one eviction round (nodes/worker/emptydir-eviction.ts).
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DirUsageWalk } from '../nodes/worker/dir-usage.js';
import { EmptyDirEviction, emptyDirEvictionMessage, type EvictionTarget } from '../nodes/worker/emptydir-eviction.js';
import { createLogger } from '../nodes/shared/logger.js';

const log = createLogger('test', {});
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeact-du-test-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

const du = (p: string) => Number(execFileSync('du', ['-s', '-B1', p], { encoding: 'utf8' }).split('\t')[0]);

function tree(name: string): string {
  const root = path.join(tmp, name);
  fs.mkdirSync(path.join(root, 'a', 'b', 'c'), { recursive: true });
  fs.writeFileSync(path.join(root, 'one'), Buffer.alloc(300 * 1024, 1));
  fs.writeFileSync(path.join(root, 'a', 'two'), Buffer.alloc(5000, 2));
  fs.writeFileSync(path.join(root, 'a', 'b', 'c', 'three'), Buffer.alloc(1024 * 1024, 3));
  fs.linkSync(path.join(root, 'one'), path.join(root, 'a', 'hardlink-to-one'));
  fs.symlinkSync('/usr', path.join(root, 'a', 'b', 'link-to-usr'));
  return root;
}

t.test('the walk counts what du counts: blocks, hard links once, symlinks not followed', async (t) => {
  const root = tree('du');
  t.equal(await new DirUsageWalk(root).total(), du(root));
  t.ok(du(root) >= 300 * 1024 + 5000 + 1024 * 1024, 'sanity: the files are really allocated');
});

t.test('a bounded step looks at no more entries than its budget; resumed steps reach the same total', async (t) => {
  const root = tree('steps');
  const walk = new DirUsageWalk(root);
  let steps = 0;
  let last = 0;
  for (;;) {
    const p = await walk.step(2);
    steps++;
    t.ok(p.visited <= 2, `step ${steps} visited ${p.visited}`);
    t.ok(p.bytes >= last, 'the running total only grows (a lower bound)');
    last = p.bytes;
    if (p.done) break;
  }
  t.ok(steps >= 4, `spread over ${steps} steps`);
  t.equal(last, du(root));
  walk.restart();
  fs.writeFileSync(path.join(root, 'more'), Buffer.alloc(64 * 1024, 4));
  t.equal(await walk.total(), du(root), 'a restarted walk sees the change');
});

t.test('a missing directory uses nothing', async (t) => {
  t.same(await new DirUsageWalk(path.join(tmp, 'nope')).step(10), { bytes: 0, done: true, visited: 1 });
});

/** A pod as the eviction round sees it: its emptyDirs, and the evictions it receives. */
function target(uid: string, dirs: { name: string; path: string; sizeLimit: string }[]) {
  const evictions: string[] = [];
  const pod: EvictionTarget & { evictions: string[] } = {
    uid,
    evictions,
    get evictable() {
      return evictions.length === 0;
    },
    limitedEmptyDirs: () => dirs,
    evict: (reason, message) => void evictions.push(`${reason}: ${message}`),
  };
  return pod;
}

t.test('one round evicts the pod over its sizeLimit, with the kubelet message, and only that one', async (t) => {
  const big = path.join(tmp, 'big');
  const small = path.join(tmp, 'small');
  fs.mkdirSync(big);
  fs.mkdirSync(small);
  fs.writeFileSync(path.join(big, 'blob'), Buffer.alloc(2 * 1024 * 1024, 1));
  fs.writeFileSync(path.join(small, 'note'), 'hi');
  const over = target('u1', [{ name: 'cache', path: big, sizeLimit: '1Mi' }]);
  const under = target('u2', [{ name: 'cache', path: small, sizeLimit: '1Mi' }]);
  const unlimited = target('u3', []);
  const eviction = new EmptyDirEviction({ pods: () => [over, under, unlimited], intervalMs: 0, logger: log });
  await eviction.tick();
  t.same(over.evictions, [`Evicted: ${emptyDirEvictionMessage('cache', '1Mi')}`]);
  t.equal(emptyDirEvictionMessage('cache', '1Mi'), 'Usage of EmptyDir volume "cache" exceeds the limit "1Mi".');
  t.same(under.evictions, []);
  await eviction.tick();
  t.equal(over.evictions.length, 1, 'an evicted pod is not evicted twice');
});

t.test('a tiny budget spreads the measuring over rounds, and every pod is reached', async (t) => {
  const dirs = ['p1', 'p2', 'p3'].map((n) => {
    const d = path.join(tmp, 'budget', n);
    fs.mkdirSync(d, { recursive: true });
    for (let i = 0; i < 5; i++) fs.writeFileSync(path.join(d, `f${i}`), 'x');
    return d;
  });
  fs.writeFileSync(path.join(dirs[2], 'blob'), Buffer.alloc(64 * 1024, 1));
  const pods = dirs.map((d, i) => target(`u${i}`, [{ name: 'v', path: d, sizeLimit: '32Ki' }]));
  const eviction = new EmptyDirEviction({ pods: () => pods, intervalMs: 0, budget: 3, logger: log });
  let rounds = 0;
  while (pods[2].evictions.length === 0 && rounds < 50) {
    await eviction.tick();
    rounds++;
  }
  t.same(pods[2].evictions, [`Evicted: ${emptyDirEvictionMessage('v', '32Ki')}`], `evicted after ${rounds} rounds`);
  t.ok(rounds > 1, 'the work was spread over rounds');
  t.same([pods[0].evictions, pods[1].evictions], [[], []]);
});
