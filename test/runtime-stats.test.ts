/** Process runtime stats() from /proc (whole process group) and the memory limit (OOMKilled), with real processes. */
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseStat } from '../nodes/worker/runtime/proc-stats.js';
import { ProcessRuntime } from '../nodes/worker/runtime/process.js';
import type { ContainerConfig } from '../nodes/worker/runtime/types.js';
import { retry } from './helpers/wait.js';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeact-rt-stats-'));
const rt = new ProcessRuntime({ dataDir, memoryCheckMs: 100 });
t.teardown(async () => {
  await rt.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

let seq = 0;
function config(argv: string[], over: Partial<ContainerConfig> = {}): ContainerConfig {
  const podUid = `stats-pod-${++seq}`;
  return { id: `${podUid}/main/0`, podUid, podName: podUid, namespace: 'default', name: 'main', image: 'process', argv, env: {}, podIP: '127.0.0.1', restartCount: 0, ...over };
}

t.test('parseStat reads a /proc stat line whose comm has spaces and parentheses', async (t) => {
  const line = '42 (a (b) c) R 1 42 42 0 -1 4194304 10 0 0 0 150 50 7 3 20 0 1 0 12345 1000000 256 18446744073709551615';
  t.same(parseStat(line), { state: 'R', pgrp: 42, cpuTicks: 210, rssPages: 256 });
  t.equal(parseStat('garbage'), undefined);
});

t.test('stats() counts the CPU of a child process of the container (the whole group)', async (t) => {
  // The shell itself is idle: all the CPU is spent by its child.
  const h = await rt.start(config(['sh', '-c', `${process.execPath} -e "for(;;){}" & wait`]));
  const first = await retry('first sample', async () => (await rt.stats(h.id)) ?? Promise.reject(new Error('no stats')));
  const later = await retry('CPU time of the child is counted', async () => {
    const s = await rt.stats(h.id);
    if (!s || s.cpuUsageNanos - first.cpuUsageNanos < 200e6) throw new Error(`cpu ${s?.cpuUsageNanos}`);
    return s;
  }, 30_000);
  t.ok(later.cpuUsageNanos - first.cpuUsageNanos >= 200e6, 'at least 200 ms of CPU in the group');
  t.ok(later.memoryBytes > 10 * 2 ** 20, `rss of shell + node child counted (${later.memoryBytes} bytes)`);
  await rt.stop(h.id, 0);
  t.equal(await rt.stats(h.id), undefined, 'no stats once stopped');
});

t.test('a container over its memory limit is killed: OOMKilled, exit code 137', async (t) => {
  const hog = `const a=[];setInterval(()=>{a.push(Buffer.alloc(16*1024*1024,1))},50)`;
  const h = await rt.start(config([process.execPath, '-e', hog], { limits: { memoryBytes: 150 * 2 ** 20 } }));
  const exit = await rt.wait(h.id);
  t.equal(exit.reason, 'OOMKilled');
  t.equal(exit.exitCode, 137);
  t.equal(exit.signal, 9);
});

t.test('a container under its memory limit keeps running', async (t) => {
  const h = await rt.start(config([process.execPath, '-e', 'setInterval(()=>{},1000)'], { limits: { memoryBytes: 512 * 2 ** 20 } }));
  // Several memory checks (100 ms apart) must have passed: wait until stats() has seen it for 1 s.
  const started = Date.now();
  await retry('a second of checks', async () => {
    if (Date.now() - started < 1000) throw new Error('not yet');
  }, 10_000, 100);
  t.equal((await rt.inspect(h.id))?.running, true);
  await rt.stop(h.id, 0);
});
