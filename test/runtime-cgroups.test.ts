/**
 * CPU and memory limits of the process runtime through cgroups (real processes, the real
 * cgroup filesystem): a busy loop limited to 200m is throttled to ≈ 0.2 CPU as the runtime's
 * stats() measure it; a memory hog is killed by the kernel (sampling turned off) and reported
 * OOMKilled; the container's cgroup is removed when it stops, and so is the cgroup of a container
 * a crashed kubelet left behind (by the next kubelet's recover()). Skipped, saying why, where the
 * kubelet cannot write cgroups.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cfsQuotaUs, detectCgroups, ownCgroups } from '../nodes/worker/runtime/cgroups.js';
import { ProcessRuntime } from '../nodes/worker/runtime/process.js';
import type { ContainerConfig, ContainerHandle } from '../nodes/worker/runtime/types.js';
import { retry } from './helpers/wait.js';
import { running } from './helpers/procs.js';

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
  const first = await retry('first sample', async () => (await rt.stats(h.id)) ?? Promise.reject(new Error('no stats yet')), 10_000, 50);
  // A 3 s window: 30 CFS periods, long enough that one period's burst does not matter.
  await retry('a 3 s window', async () => {
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
  await retry('cgroup removed', async () => {
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

/**
 * A kubelet in a process of its own that starts one container and is SIGKILLed: it leaves a
 * state file, the container's cgroup and (without pdeathsig) the container itself running.
 */
async function crashedKubelet(dataDir: string, c: ContainerConfig): Promise<ContainerHandle> {
  const runtime = new URL('../nodes/worker/runtime/process.js', import.meta.url).href;
  const script = [
    `import { ProcessRuntime } from ${JSON.stringify(runtime)};`,
    'const rt = new ProcessRuntime({ dataDir: process.argv[1], memoryCheckMs: 3_600_000, pdeathsig: false });',
    'const h = await rt.start(JSON.parse(process.argv[2]));',
    "process.stdout.write(JSON.stringify(h) + '\\n');",
    'setInterval(() => {}, 60_000);',
  ].join('\n');
  const kubelet = spawn(process.execPath, ['--input-type=module', '-e', script, dataDir, JSON.stringify(c)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((r) => kubelet.once('exit', r));
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    kubelet.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(out.split('\n')[0]);
    });
    void exited.then((code) => reject(new Error(`the kubelet exited (${code}) before starting the container`)));
  });
  const handle = JSON.parse(line) as ContainerHandle;
  // The state file is written just after start() answers: a crash before it leaves nothing to recover.
  const stateFile = path.join(dataDir, 'containers', `${handle.id.replace(/\//g, '_')}.json`);
  await retry('the kubelet wrote the container\'s state file', async () => {
    if (!fs.existsSync(stateFile)) throw new Error(`no ${stateFile} yet`);
  }, 10_000, 10);
  kubelet.kill('SIGKILL');
  await exited;
  return handle;
}

t.test('recover() removes the cgroup of a container a crashed kubelet left running', { skip }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeact-rt-cgroups-crash-'));
  const c = config([process.execPath, '-e', 'setInterval(() => {}, 1000)'], { cpuMillis: 200, memoryBytes: 100 * 2 ** 20 });
  const h = await crashedKubelet(dir, c);
  t.teardown(async () => {
    if (running(h.pid!)) process.kill(-h.pid!, 'SIGKILL');
    await found.support!.find(c.podUid, 'main')?.remove(); // left only when the test failed
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const left = found.support!.find(c.podUid, 'main');
  t.ok(left, 'the crashed kubelet left the container\'s cgroup');
  t.ok(running(h.pid!), 'and the container running');

  const next = new ProcessRuntime({ dataDir: dir, memoryCheckMs: 3_600_000 });
  t.teardown(() => next.close());
  const [info] = await next.recover();
  t.match(info, { id: c.id, running: false, exit: { exitCode: 137, reason: 'Error', signal: 9 } }, 'the survivor is killed and reported');
  t.equal(found.support!.find(c.podUid, 'main'), undefined, 'its cgroup is gone');
  for (const d of left!.dirs) t.notOk(fs.existsSync(d), `${d} removed`);
  t.notOk(fs.existsSync(path.dirname(left!.dirs[0])), 'so is the pod\'s cgroup');
});

t.test('a container the kernel OOM-killed while no kubelet ran is recovered as OOMKilled', { skip: skip || !found.support?.memory && 'no writable memory cgroup' }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeact-rt-cgroups-crash-'));
  const hog = 'const a=[];setInterval(()=>a.push(Buffer.alloc(16*1024*1024,1)),50)';
  const c = config([process.execPath, '-e', hog], { memoryBytes: 100 * 2 ** 20 });
  const h = await crashedKubelet(dir, c);
  t.teardown(async () => {
    if (running(h.pid!)) process.kill(-h.pid!, 'SIGKILL');
    await found.support!.find(c.podUid, 'main')?.remove(); // left only when the test failed
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await retry('the kernel OOM-kills the hog and it is gone', async () => {
    const cg = found.support!.find(c.podUid, 'main');
    if (!cg?.oomKilled()) throw new Error('no OOM kill counted yet');
    if (cg.dirs.some((d) => fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8').trim())) throw new Error('still exiting');
  }, 30_000, 50);

  const next = new ProcessRuntime({ dataDir: dir, memoryCheckMs: 3_600_000 });
  t.teardown(() => next.close());
  const [info] = await next.recover();
  t.match(info, { id: c.id, running: false, exit: { exitCode: 137, reason: 'OOMKilled' } });
  t.equal(info.exit?.message, undefined, 'no "exit status unknown": the kernel said why');
  t.equal(found.support!.find(c.podUid, 'main'), undefined, 'its cgroup is gone');
});
