/**
 * CPU and memory limits of the process runtime through cgroups (real processes, the real
 * cgroup filesystem): a busy loop limited to 200m is throttled to ≈ 0.2 CPU as the runtime's
 * stats() measure it; a memory hog is killed by the kernel (sampling turned off) and reported
 * OOMKilled; the container's cgroup is removed when it stops. Skipped, saying why, where the
 * kubelet cannot write cgroups.
 */
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cfsQuotaUs, detectCgroups, ownCgroups } from '../nodes/worker/runtime/cgroups.js';
import { ProcessRuntime } from '../nodes/worker/runtime/process.js';
import type { ContainerConfig } from '../nodes/worker/runtime/types.js';
import { until } from './helpers/proxy.js';

t.test('pure parts: /proc/self/cgroup and the CFS quota', async (t) => {
  const own = ownCgroups('4:memory:/a/b\n1:cpu,cpuacct:/\n0::/user.slice\n');
  t.equal(own.get('memory'), '/a/b');
  t.equal(own.get('cpu'), '/');
  t.equal(own.get('cpuacct'), '/');
  t.equal(own.get(''), '/user.slice');
  t.equal(cfsQuotaUs(200), 20_000, '200m of a 100 ms period');
  t.equal(cfsQuotaUs(1500), 150_000);
  t.equal(cfsQuotaUs(1), 1000, 'never below the kernel minimum of 1 ms');
});

const found = detectCgroups();
const skip = found.support ? false : `cgroups are not writable here: ${found.reason}`;

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeact-rt-cgroups-'));
// No sampling check (one hour): only the kernel can enforce the memory limit here.
const rt = new ProcessRuntime({ dataDir, memoryCheckMs: 3_600_000 });
t.teardown(async () => {
  await rt.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});
let seq = 0;
function config(argv: string[], limits: ContainerConfig['limits']): ContainerConfig {
  const podUid = `cg-${process.pid}-${++seq}`;
  return { id: `${podUid}/main/0`, podUid, podName: podUid, namespace: 'default', name: 'main', image: 'process', argv, env: {}, podIP: '127.0.0.1', restartCount: 0, limits };
}

t.test('a busy loop limited to 200m uses at most about 0.2 CPU', { skip: skip || !found.support?.cpu && 'no writable cpu cgroup' }, async (t) => {
  const h = await rt.start(config([process.execPath, '-e', 'for(;;){}'], { cpuMillis: 200 }));
  const cgroupDir = path.join('/sys/fs/cgroup/cpu', ownCgroups(fs.readFileSync('/proc/self/cgroup', 'utf8')).get('cpu') ?? '/', 'kubeact', `cg-${process.pid}-${seq}`, 'main');
  if (found.support!.version === 1) {
    t.equal(fs.readFileSync(path.join(cgroupDir, 'cpu.cfs_quota_us'), 'utf8').trim(), '20000');
    t.equal(fs.readFileSync(path.join(cgroupDir, 'cgroup.procs'), 'utf8').trim(), String(h.pid), 'the container runs in it');
  }
  const first = await until('first sample', async () => (await rt.stats(h.id)) ?? Promise.reject(new Error('no stats yet')), 10_000, 50);
  // A 3 s window: 30 CFS periods, long enough that one period's burst does not matter.
  await until('a 3 s window', async () => {
    if (Date.now() - first.timestamp < 3000) throw new Error('not yet');
  }, 20_000, 100);
  const second = (await rt.stats(h.id))!;
  const cores = (second.cpuUsageNanos - first.cpuUsageNanos) / 1e9 / ((second.timestamp - first.timestamp) / 1000);
  t.ok(cores <= 0.25, `used ${cores.toFixed(3)} CPU over ${second.timestamp - first.timestamp} ms (limit 0.2)`);
  if (found.support!.version === 1) {
    const throttled = Number(/nr_throttled (\d+)/.exec(fs.readFileSync(path.join(cgroupDir, 'cpu.stat'), 'utf8'))?.[1]);
    t.ok(throttled > 0, `the kernel throttled it (${throttled} periods): the quota, not a busy machine, held it back`);
  }
  await rt.stop(h.id, 0);
  await until('cgroup removed', async () => {
    if (fs.existsSync(cgroupDir)) throw new Error(`${cgroupDir} still there`);
  }, 10_000, 50);
  t.pass('the container\'s cgroup is removed once it stopped');
});

t.test('the kernel kills a memory hog over its cgroup limit: OOMKilled, 137', { skip: skip || !found.support?.memory && 'no writable memory cgroup' }, async (t) => {
  const hog = 'const a=[];setInterval(()=>a.push(Buffer.alloc(16*1024*1024,1)),50)';
  const h = await rt.start(config([process.execPath, '-e', hog], { memoryBytes: 100 * 2 ** 20 }));
  let timer: NodeJS.Timeout | undefined;
  const exit = await Promise.race([
    rt.wait(h.id),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('the hog was not killed within 30 s')), 30_000))),
  ]).finally(() => clearTimeout(timer));
  t.equal(exit.reason, 'OOMKilled');
  t.equal(exit.exitCode, 137);
});
