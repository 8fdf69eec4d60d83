/** The `process` container runtime, with real host processes. */
import t from 'tap';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ProcessRuntime } from '../nodes/worker/runtime/process.js';
import { RuntimeError, type ContainerConfig } from '../nodes/worker/runtime/types.js';
import { running } from './helpers/procs.js';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeact-process-rt-'));
const runtimes: ProcessRuntime[] = [];
/** Host pids the tests saw, all checked (and killed if needed) at teardown. */
const seenPids = new Set<number>();

function newRuntime(): ProcessRuntime {
  const rt = new ProcessRuntime({ dataDir, followPollMs: 20 });
  runtimes.push(rt);
  return rt;
}

t.teardown(async () => {
  await Promise.all(runtimes.map((rt) => rt.close()));
  for (const pid of seenPids) {
    if (running(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
});

let podSeq = 0;
function config(argv: string[], over: Partial<ContainerConfig> = {}): ContainerConfig {
  const podUid = over.podUid ?? `pod-${++podSeq}`;
  const name = over.name ?? 'main';
  const restartCount = over.restartCount ?? 0;
  return {
    id: `${podUid}/${name}/${restartCount}`,
    podUid,
    podName: `name-of-${podUid}`,
    namespace: 'default',
    name,
    image: 'process',
    argv,
    env: {},
    podIP: '127.0.0.1',
    restartCount,
    ...over,
  };
}

/** Polls a condition until it holds, failing after a deadline. */
async function waitFor<T>(what: string, cond: () => T | undefined | false | Promise<T | undefined | false>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function logsContain(rt: ProcessRuntime, c: ContainerConfig, text: string): Promise<string> {
  return waitFor(`"${text}" in the logs of ${c.id}`, async () => {
    const logs = await rt.logs(c.podUid, c.name).catch(() => '');
    return logs.includes(text) && logs;
  });
}

t.test('version and name', async (t) => {
  const rt = newRuntime();
  t.equal(rt.name, 'process');
  t.equal(await rt.version(), `process://${process.version.slice(1)}`);
});

t.test('a container that prints and exits 0', async (t) => {
  const rt = newRuntime();
  const c = config(['sh', '-c', 'echo hello; echo oops >&2']);
  const h = await rt.start(c);
  t.equal(h.id, c.id);
  t.ok(h.pid && h.pid > 0, 'has a pid');
  seenPids.add(h.pid!);
  t.match(h.startedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const st = await rt.wait(c.id);
  t.equal(st.exitCode, 0);
  t.equal(st.reason, 'Completed');
  t.equal(st.signal, undefined);
  t.match(st.finishedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  t.same(await rt.wait(c.id), st, 'wait after the exit gives the same status');
  t.same(await rt.stop(c.id, 1000), st, 'stop after the exit gives the same status');
  const logs = await rt.logs(c.podUid, c.name);
  t.match(logs, /hello\n/);
  t.match(logs, /oops\n/, 'stderr goes to the same log');
  t.ok(fs.existsSync(path.join(dataDir, 'pods', c.podUid, 'main', '0.log')));
  const info = await rt.inspect(c.id);
  t.equal(info?.running, false);
  t.same(info?.exit, st);
  await rt.destroy(c.id);
  t.equal(await rt.inspect(c.id), undefined, 'destroy forgets it');
  t.equal(await rt.logs(c.podUid, c.name), logs, 'logs survive destroy');
  await rt.removePod(c.podUid);
  t.notOk(fs.existsSync(path.join(dataDir, 'pods', c.podUid)), 'removePod deletes the logs');
  await t.rejects(rt.wait(c.id), { code: 'NotFound' });
});

t.test('exit 3 is an Error', async (t) => {
  const rt = newRuntime();
  const c = config(['sh', '-c', 'exit 3']);
  await rt.start(c);
  const st = await rt.wait(c.id);
  t.equal(st.exitCode, 3);
  t.equal(st.reason, 'Error');
  await rt.destroy(c.id);
});

t.test('env is exactly config.env (plus PATH) and workingDir is the cwd', async (t) => {
  const rt = newRuntime();
  const wd = fs.mkdtempSync(path.join(dataDir, 'wd-'));
  process.env.KUBEACT_TEST_LEAK = 'leaked';
  t.teardown(() => void delete process.env.KUBEACT_TEST_LEAK);
  const c = config(['sh', '-c', 'echo "FOO=$FOO"; pwd; echo "PATH=$PATH"; echo "LEAK=${KUBEACT_TEST_LEAK-unset}"'], {
    env: { FOO: 'bar baz' },
    workingDir: wd,
  });
  await rt.start(c);
  t.equal((await rt.wait(c.id)).exitCode, 0);
  const logs = await rt.logs(c.podUid, c.name);
  t.equal(logs, `FOO=bar baz\n${fs.realpathSync(wd)}\nPATH=${process.env.PATH}\nLEAK=unset\n`);

  const c2 = config(['sh', '-c', 'echo "PATH=$PATH"'], { env: { PATH: '/bin:/usr/bin' } });
  await rt.start(c2);
  await rt.wait(c2.id);
  t.equal(await rt.logs(c2.podUid, c2.name), 'PATH=/bin:/usr/bin\n', "the container's own PATH wins");
});

t.test('start errors', async (t) => {
  const rt = newRuntime();
  const missing = config(['kubeact-no-such-command-xyz', 'arg']);
  await t.rejects(rt.start(missing), {
    name: 'RuntimeError',
    code: 'StartError',
    message: 'exec: "kubeact-no-such-command-xyz": executable file not found in $PATH',
  });
  await t.rejects(rt.start(config(['/nonexistent/bin/thing'])), {
    code: 'StartError',
    message: 'exec: "/nonexistent/bin/thing": stat /nonexistent/bin/thing: no such file or directory',
  });
  const err = await rt.start(config(['sh', '-c', 'true'], { workingDir: '/nonexistent-kubeact-dir' })).catch((e) => e);
  t.ok(err instanceof RuntimeError);
  t.equal(err.code, 'StartError');
  t.match(err.message, /failed to create containerd task.*chdir to cwd \("\/nonexistent-kubeact-dir"\).*no such file or directory/);
  await t.rejects(rt.start(config([])), { code: 'StartError' });
  t.equal(await rt.inspect(missing.id), undefined, 'a failed start leaves nothing behind');
});

t.test('stop: a process that handles SIGTERM exits 0 within the grace', async (t) => {
  const rt = newRuntime();
  const c = config(['sh', '-c', 'trap "echo bye; exit 0" TERM; echo ready; sleep 30 & wait']);
  const h = await rt.start(c);
  seenPids.add(h.pid!);
  await logsContain(rt, c, 'ready');
  const st = await rt.stop(c.id, 5000);
  t.equal(st.exitCode, 0);
  t.equal(st.reason, 'Completed');
  t.match(await rt.logs(c.podUid, c.name), /bye/);
  t.notOk(running(h.pid!));
});

t.test('stop: a process that ignores SIGTERM is SIGKILLed after the grace', async (t) => {
  const rt = newRuntime();
  const c = config(['sh', '-c', 'trap "" TERM; echo ready; while :; do sleep 1; done']);
  const h = await rt.start(c);
  seenPids.add(h.pid!);
  await logsContain(rt, c, 'ready');
  const grace = 400;
  const t0 = Date.now();
  const [st, st2] = await Promise.all([rt.stop(c.id, grace), rt.stop(c.id, grace)]);
  const took = Date.now() - t0;
  t.equal(st.exitCode, 137);
  t.equal(st.signal, 9);
  t.equal(st.reason, 'Error');
  t.same(st2, st, 'concurrent stops agree');
  t.ok(took >= grace - 20, `waited for the grace (${took} ms)`);
  t.ok(took < grace + 1000, `returned soon after the grace (${took} ms)`);
  t.same(await rt.wait(c.id), st);
});

t.test('stop with another signal', async (t) => {
  const rt = newRuntime();
  const c = config(['sleep', '30']);
  const h = await rt.start(c);
  seenPids.add(h.pid!);
  const st = await rt.stop(c.id, 5000, 'SIGINT');
  t.equal(st.exitCode, 130);
  t.equal(st.signal, 2);
});

t.test('the whole process group is killed', async (t) => {
  const rt = newRuntime();
  const c = config(['sh', '-c', 'sleep 30 & echo "child=$!"; wait']);
  const h = await rt.start(c);
  seenPids.add(h.pid!);
  const logs = await logsContain(rt, c, 'child=');
  const child = Number(/child=(\d+)/.exec(logs)![1]);
  seenPids.add(child);
  t.ok(running(child), 'the child sleep runs');
  const st = await rt.stop(c.id, 5000);
  t.equal(st.signal, 15, 'sh was terminated by SIGTERM');
  await waitFor('the child sleep to die', () => !running(child));
  t.pass('the child sleep died with its group');
});

t.test('leftovers of the group die when the main process exits', async (t) => {
  const rt = newRuntime();
  const c = config(['sh', '-c', 'sleep 30 & echo "child=$!"']);
  await rt.start(c);
  t.equal((await rt.wait(c.id)).exitCode, 0);
  const child = Number(/child=(\d+)/.exec(await rt.logs(c.podUid, c.name))![1]);
  seenPids.add(child);
  await waitFor('the orphaned sleep to die', () => !running(child));
  t.pass('the orphaned sleep died');
});

t.test('previous logs and tailLines', async (t) => {
  const rt = newRuntime();
  const c0 = config(['sh', '-c', 'echo first; echo line2; echo line3']);
  await rt.start(c0);
  await rt.wait(c0.id);
  await t.rejects(rt.logs(c0.podUid, 'main', { previous: true }), {
    code: 'NotFound',
    message: `previous terminated container "main" in pod "name-of-${c0.podUid}" not found`,
  });
  await t.rejects(rt.logs(c0.podUid, 'other'), { code: 'NotFound' });
  const c1 = config(['sh', '-c', 'echo second'], { podUid: c0.podUid, restartCount: 1 });
  await rt.start(c1);
  await rt.wait(c1.id);
  t.equal(await rt.logs(c0.podUid, 'main'), 'second\n');
  t.equal(await rt.logs(c0.podUid, 'main', { previous: true }), 'first\nline2\nline3\n');
  t.equal(await rt.logs(c0.podUid, 'main', { previous: true, tailLines: 2 }), 'line2\nline3\n');
  t.equal(await rt.logs(c0.podUid, 'main', { previous: true, tailLines: 10 }), 'first\nline2\nline3\n');
  t.equal(await rt.logs(c0.podUid, 'main', { previous: true, tailLines: 0 }), '');
  await rt.removePod(c0.podUid);
});

t.test('followLogs streams new text and ends when the container exits', async (t) => {
  const rt = newRuntime();
  const wd = fs.mkdtempSync(path.join(dataDir, 'follow-'));
  const c = config(['sh', '-c', 'echo one; while [ ! -e go ]; do sleep 0.02; done; echo two; echo "three é"'], {
    workingDir: wd,
  });
  const h = await rt.start(c);
  seenPids.add(h.pid!);
  await logsContain(rt, c, 'one');
  let got = '';
  const ac = new AbortController();
  // Text written once following has begun must arrive; 'one' was written before and is not repeated.
  await rt.followLogs(c.podUid, c.name, (s) => (got += s), ac.signal, {
    onFollowing: () => fs.writeFileSync(path.join(wd, 'go'), ''),
  });
  t.equal(got, 'two\nthree é\n');
  t.equal((await rt.wait(c.id)).exitCode, 0);

  let all = '';
  await rt.followLogs(c.podUid, c.name, (s) => (all += s), ac.signal, { fromStart: true });
  t.equal(all, 'one\ntwo\nthree é\n', 'fromStart on an exited container gives everything and ends');
});

t.test('followLogs ends when its signal aborts', async (t) => {
  const rt = newRuntime();
  const c = config(['sh', '-c', 'echo tick; while :; do sleep 0.05; echo tick; done']);
  const h = await rt.start(c);
  seenPids.add(h.pid!);
  let got = '';
  const ac = new AbortController();
  const following = rt.followLogs(c.podUid, c.name, (s) => (got += s), ac.signal);
  await waitFor('followed text', () => got.includes('tick'));
  ac.abort();
  await following;
  t.equal((await rt.inspect(c.id))?.running, true, 'the container still runs');
  await rt.stop(c.id, 2000);
});

t.test('recover() after a kubelet crash kills survivors and reports them', async (t) => {
  const rt1 = newRuntime();
  const c = config(['sh', '-c', 'sleep 30 & echo "child=$!"; wait'], { name: 'web' });
  const h = await rt1.start(c);
  seenPids.add(h.pid!);
  const logs = await logsContain(rt1, c, 'child=');
  const child = Number(/child=(\d+)/.exec(logs)![1]);
  seenPids.add(child);
  const done = config(['true'], { name: 'done' });
  await rt1.start(done);
  await rt1.wait(done.id);
  const stateDir = path.join(dataDir, 'containers');
  const stateFile = (id: string) => path.join(stateDir, `${id.replace(/\//g, '_')}.json`);
  t.ok(fs.existsSync(stateFile(c.id)), 'the running container has a state file');
  await waitFor('the exit of the finished container in its state file', () => {
    try {
      return fs.readFileSync(stateFile(done.id), 'utf8').includes('"exit"');
    } catch {
      return false;
    }
  });

  // A second kubelet on the same data dir, while the first one's container still runs.
  const rt2 = newRuntime();
  const infos = await rt2.recover();
  const web = infos.find((i) => i.id === c.id);
  t.ok(web, 'the running container is reported');
  t.equal(web?.running, false);
  t.equal(web?.podUid, c.podUid);
  t.equal(web?.name, 'web');
  t.equal(web?.restartCount, 0);
  t.equal(web?.exit?.reason, 'Error');
  t.equal(web?.exit?.exitCode, 137);
  t.match(web?.exit?.message, /kubelet restarted/);
  t.notOk(running(h.pid!), 'the container process was killed');
  await waitFor('its child to die', () => !running(child));
  const doneInfo = infos.find((i) => i.id === done.id);
  t.equal(doneInfo?.exit?.reason, 'Completed', 'an exit seen before the crash is reported as it was');
  t.notOk(fs.existsSync(stateFile(done.id)), 'state files are deleted');
  t.equal((await rt2.inspect(c.id))?.running, false, 'recovered containers can be inspected');
  t.equal((await rt1.wait(c.id)).signal, 9, 'the first runtime saw it SIGKILLed');
  // The first runtime (still alive here, unlike a crashed kubelet) records that exit: forget it.
  await rt1.destroy(c.id);
  await rt1.destroy(done.id);
  t.same(await rt2.recover(), [], 'nothing is left to recover');
});

// The child kubelet runs the TypeScript runtime through tap's own loader.
const tsLoader = process.execArgv.find((a) => a.includes('@tapjs/typescript'));
const pdeathsigSkip = !fs.existsSync('/usr/bin/setpriv')
  ? 'no /usr/bin/setpriv'
  : !tsLoader
    ? 'not run by tap with its TypeScript loader'
    : false;

t.test('a container dies with its SIGKILLed kubelet (setpriv --pdeathsig)', { skip: pdeathsigSkip }, async (t) => {
  const script = path.join(dataDir, 'kubelet-child.mjs');
  const runtimeUrl = pathToFileURL(path.resolve('nodes/worker/runtime/process.ts')).href;
  fs.writeFileSync(
    script,
    `import { ProcessRuntime } from ${JSON.stringify(runtimeUrl)};
const rt = new ProcessRuntime({ dataDir: ${JSON.stringify(path.join(dataDir, 'child-kubelet'))} });
const h = await rt.start({ id: 'p/c/0', podUid: 'p', podName: 'p', namespace: 'default', name: 'c', image: 'process',
  argv: ['sleep', '30'], env: {}, podIP: '127.0.0.1', restartCount: 0 });
console.log('pid=' + h.pid);
setInterval(() => {}, 1000);
`,
  );
  const kubelet = spawn(process.execPath, [tsLoader!, script], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  t.teardown(() => void kubelet.kill('SIGKILL'));
  let out = '';
  kubelet.stdout.on('data', (b: Buffer) => (out += b.toString()));
  const pid = Number(
    (await waitFor('the child kubelet to start its container', () => /pid=(\d+)/.exec(out) ?? undefined, 60_000))[1],
  );
  seenPids.add(pid);
  t.ok(running(pid), 'the container runs');
  t.match(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /^sleep\0/, 'setpriv exec()ed the command: same pid');
  const exited = new Promise((r) => kubelet.once('exit', r));
  kubelet.kill('SIGKILL');
  await exited;
  await waitFor('the container to die with its kubelet', () => !running(pid));
  t.pass('the container died with its kubelet');
});

t.test('close() stops everything', async (t) => {
  const rt = newRuntime();
  const c = config(['sleep', '30']);
  const h = await rt.start(c);
  seenPids.add(h.pid!);
  await rt.close();
  t.notOk(running(h.pid!));
  t.equal((await rt.wait(c.id)).signal, 15);
  await t.rejects(rt.start(config(['true'])), { code: 'RuntimeUnavailable' });
});
