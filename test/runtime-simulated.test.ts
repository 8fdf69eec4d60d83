/** The `simulated` container runtime: no processes, configurable delay, failures and usage. */
import t from 'tap';
import { SimulatedRuntime } from '../nodes/worker/runtime/simulated.js';
import { RuntimeError, type ContainerConfig } from '../nodes/worker/runtime/types.js';

function config(over: Partial<ContainerConfig> = {}): ContainerConfig {
  return {
    id: 'uid-1/app/0',
    podUid: 'uid-1',
    podName: 'web',
    namespace: 'default',
    name: 'app',
    image: 'nginx:1.27',
    argv: ['nginx'],
    env: {},
    podIP: '127.128.0.2',
    restartCount: 0,
    ...over,
  };
}

t.test('a started container runs until stopped, then reports the signal as Kubernetes does', async (t) => {
  const rt = new SimulatedRuntime();
  const handle = await rt.start(config());
  t.equal(handle.id, 'uid-1/app/0');
  t.match(handle.startedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  t.equal((await rt.inspect(handle.id))?.running, true);
  t.equal(rt.running, 1);
  const waited = rt.wait(handle.id);
  const status = await rt.stop(handle.id, 30_000);
  t.same({ exitCode: status.exitCode, signal: status.signal, reason: status.reason }, { exitCode: 143, signal: 15, reason: 'Error' });
  t.equal(await waited, status, 'wait() resolves with the same exit status');
  t.equal((await rt.inspect(handle.id))?.running, false);
  await t.rejects(rt.start(config()).then(() => rt.start(config())), { code: 'ContainerCannotRun' }, 'a running id cannot start twice');
  await rt.close();
});

t.test('start delay: start() resolves no earlier than the configured delay', async (t) => {
  const rt = new SimulatedRuntime({ startDelayMs: 50 });
  const began = performance.now();
  await rt.start(config());
  t.ok(performance.now() - began >= 45, `took ${(performance.now() - began).toFixed(1)} ms`);
  await rt.close();
});

t.test('failure rate: starts fail with StartError at the configured rate', async (t) => {
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const rt = new SimulatedRuntime({ failureRate: 0.3, random });
  let failed = 0;
  for (let i = 0; i < 1000; i++) {
    try {
      await rt.start(config({ id: `uid-${i}/app/0`, podUid: `uid-${i}` }));
    } catch (e) {
      t.ok(e instanceof RuntimeError && e.code === 'StartError', 'the failure is a StartError');
      failed++;
    }
  }
  t.ok(failed > 230 && failed < 370, `${failed}/1000 starts failed at rate 0.3`);
  t.equal(rt.running, 1000 - failed);
  t.throws(() => new SimulatedRuntime({ failureRate: 1.5 }), RangeError);
  await rt.close();
  t.equal(rt.running, 0, 'close() stops everything');
});

t.test('run time: a container with runMs exits 0 (Completed) by itself', async (t) => {
  const rt = new SimulatedRuntime({ runMs: 20 });
  const { id } = await rt.start(config());
  const status = await rt.wait(id);
  t.same({ exitCode: status.exitCode, reason: status.reason }, { exitCode: 0, reason: 'Completed' });
  await rt.close();
});

t.test('stats: CPU time grows at the requested millicores, memory is the request', async (t) => {
  let now = 1_000_000;
  const rt = new SimulatedRuntime({ now: () => now });
  const { id } = await rt.start(config({ requests: { cpuMillis: 250, memoryBytes: 64 * 2 ** 20 } }));
  now += 2000;
  const s = await rt.stats(id);
  t.same(s, { cpuUsageNanos: 2000 * 250 * 1000, memoryBytes: 64 * 2 ** 20, timestamp: now }, '250m for 2 s = 0.5 s of CPU');
  const custom = new SimulatedRuntime({ now: () => now, usage: () => ({ cpuMillis: 1000, memoryBytes: 1 }) });
  const c = await custom.start(config());
  now += 1000;
  t.equal((await custom.stats(c.id))?.cpuUsageNanos, 1e9, 'one core for one second');
  await rt.stop(id, 0, 'SIGKILL');
  t.equal(await rt.stats(id), undefined, 'no stats for a stopped container');
  await rt.close();
  await custom.close();
});

t.test('logs, restarts and removePod', async (t) => {
  const rt = new SimulatedRuntime();
  await rt.start(config());
  await rt.stop('uid-1/app/0', 0);
  await rt.start(config({ id: 'uid-1/app/1', restartCount: 1 }));
  t.match(await rt.logs('uid-1', 'app'), /simulated container app \(nginx:1\.27\)/);
  t.match(await rt.logs('uid-1', 'app', { previous: true }), /simulated container app/);
  await t.rejects(rt.logs('uid-1', 'sidecar'), { code: 'NotFound' });
  await rt.removePod('uid-1');
  t.equal(await rt.inspect('uid-1/app/1'), undefined, 'removePod forgets the pod\'s containers');
  t.equal(rt.running, 0);
  await t.rejects(rt.wait('uid-1/app/1'), { code: 'NotFound' });
  await rt.close();
  await t.rejects(rt.start(config()), { code: 'RuntimeUnavailable' });
});
