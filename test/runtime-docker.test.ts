/** The `docker` container runtime against the real Docker engine (skipped with the reason without one). */
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { DockerRuntime, sweepDockerContainers } from '../nodes/worker/runtime/docker.js';
import { LABEL } from '../nodes/worker/runtime/docker-labels.js';
import { RuntimeError, type ContainerConfig } from '../nodes/worker/runtime/types.js';
import { hostAddress, parseCidr } from '../nodes/shared/cidr.js';
import { allocateBlock } from './helpers/blocks.js';
import { getText as get } from './helpers/http.js';
import { BUSYBOX_IMAGE, NATS_IMAGE, withDocker } from './helpers/docker.js';
import { until } from './helpers/wait.js';

const scope = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeact-docker-rt-'));
const NODE = 'node-rt';
const block = allocateBlock();
const pods = parseCidr(block.podNetwork);
const docker = new Docker();
const runtimes: DockerRuntime[] = [];

function newRuntime(): DockerRuntime {
  const rt = new DockerRuntime({ nodeName: NODE, scope });
  runtimes.push(rt);
  return rt;
}

let podSeq = 0;
function config(over: Partial<ContainerConfig> = {}): ContainerConfig {
  const podUid = over.podUid ?? `uid-${process.pid}-${++podSeq}`;
  const name = over.name ?? 'main';
  const restartCount = over.restartCount ?? 0;
  return {
    id: `${podUid}/${name}/${restartCount}`,
    podUid,
    podName: `pod-${podSeq}`,
    namespace: 'default',
    name,
    image: BUSYBOX_IMAGE,
    argv: [],
    env: {},
    podIP: hostAddress(pods, podSeq),
    restartCount,
    imagePullPolicy: 'IfNotPresent',
    ...over,
  };
}

const sh = (script: string) => ({ argv: ['sh', '-c', script], command: ['sh', '-c', script] });

async function ourContainers(podUid: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${LABEL.scope}=${scope}`, `${LABEL.podUid}=${podUid}`] }) });
}

t.teardown(async () => {
  await Promise.all(runtimes.map((rt) => rt.close()));
  await sweepDockerContainers(scope);
  fs.rmSync(scope, { recursive: true, force: true });
  block.release();
});

await withDocker(t, async () => {
  t.test('reports the engine version as docker://<version>', async (t) => {
    t.match(await newRuntime().version(), /^docker:\/\/\d+\.\d+/);
  });

  t.test('a container serves on its pod IP (host network), sees POD_IP, and its logs demultiplex stdout and stderr', async (t) => {
    const rt = newRuntime();
    const c = config({ env: { GREETING: 'hi there' }, ...sh('echo "out $GREETING on $POD_IP"; echo "to stderr" >&2; exec httpd -f -p $POD_IP:8080 -h /www') });
    c.env.POD_IP = c.podIP;
    const handle = await rt.start(c);
    t.match(handle.id, /^docker:\/\/[0-9a-f]{64}$/);
    const res = await until('httpd answering on the pod IP', () => get(`http://${c.podIP}:8080/index.html`).catch(() => undefined));
    t.equal(res.status, 200);
    t.equal(res.body, 'hello from kubeact-test/busybox\n');
    const logs = await until('both lines in the logs', async () => {
      const text = await rt.logs(c.podUid, c.name);
      return text.includes('to stderr') && text;
    });
    t.match(logs, `out hi there on ${c.podIP}\n`);
    t.equal((await rt.logs(c.podUid, c.name, { tailLines: 1 })).split('\n').filter(Boolean).length, 1, 'tailLines');
    const info = await rt.inspect(handle.id);
    t.equal(info?.running, true);
    await rt.stop(handle.id, 5000);
  });

  t.test('exit codes and reasons; current and previous logs after a restart', async (t) => {
    const rt = newRuntime();
    const first = config(sh('echo first run; exit 3'));
    const h1 = await rt.start(first);
    const exit1 = await rt.wait(h1.id);
    t.equal(exit1.exitCode, 3);
    t.equal(exit1.reason, 'Error');
    t.match(exit1.finishedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const second = config({ ...sh('echo second run'), podUid: first.podUid, restartCount: 1, id: `${first.podUid}/main/1` });
    const h2 = await rt.start(second);
    const exit2 = await rt.wait(h2.id);
    t.equal(exit2.exitCode, 0);
    t.equal(exit2.reason, 'Completed');
    t.equal(await rt.logs(first.podUid, 'main'), 'second run\n');
    t.equal(await rt.logs(first.podUid, 'main', { previous: true }), 'first run\n');
    // A third instance: the first one (two dead instances back) is garbage-collected.
    const third = config({ ...sh('echo third run'), podUid: first.podUid, restartCount: 2, id: `${first.podUid}/main/2` });
    await rt.wait((await rt.start(third)).id);
    await until('the oldest dead instance removed', async () => (await ourContainers(first.podUid)).length === 2);
    t.equal(await rt.logs(first.podUid, 'main', { previous: true }), 'second run\n');
    await rt.removePod(first.podUid);
    t.equal((await ourContainers(first.podUid)).length, 0, 'removePod removes every container of the pod');
    await t.rejects(rt.logs(first.podUid, 'main'), { code: 'NotFound' });
  });

  t.test('stop: the signal first (handled within the grace period), SIGKILL when the grace runs out', async (t) => {
    const rt = newRuntime();
    const polite = config(sh('trap "echo got TERM; exit 0" TERM; echo ready; while true; do sleep 0.1; done'));
    const h1 = await rt.start(polite);
    await until('ready', async () => (await rt.logs(polite.podUid, 'main')).includes('ready'));
    let t0 = Date.now();
    const e1 = await rt.stop(h1.id, 20_000);
    t.ok(Date.now() - t0 < 15_000, `a container handling SIGTERM stops long before its grace (${Date.now() - t0} ms)`);
    t.equal(e1.exitCode, 0);
    t.match(await rt.logs(polite.podUid, 'main'), 'got TERM');

    const stubborn = config(sh('trap "" TERM; echo ready; while true; do sleep 0.1; done'));
    const h2 = await rt.start(stubborn);
    await until('ready', async () => (await rt.logs(stubborn.podUid, 'main')).includes('ready'));
    t0 = Date.now();
    const e2 = await rt.stop(h2.id, 1500);
    const took = Date.now() - t0;
    t.ok(took >= 1400, `ignoring SIGTERM, it runs for the grace period (${took} ms)`);
    t.ok(took < 15_000, `and is killed after it (${took} ms)`);
    t.equal(e2.exitCode, 137);
    t.equal(e2.reason, 'Error');
  });

  t.test('limits, init, host network and mounts appear in the engine inspect output', async (t) => {
    const rt = newRuntime();
    const dir = fs.mkdtempSync(path.join(scope, 'vol-'));
    fs.writeFileSync(path.join(dir, 'data.txt'), 'from the host\n');
    const c = config({
      ...sh('cat /data/data.txt; touch /data/new 2>&1 || echo read-only; sleep 60'),
      limits: { memoryBytes: 64 * 2 ** 20, cpuMillis: 500 },
      requests: { cpuMillis: 250 },
      mounts: [{ name: 'data', hostPath: dir, containerPath: '/data', readOnly: true }],
      workingDir: '/tmp',
    });
    const h = await rt.start(c);
    const info = await docker.getContainer(h.id.slice('docker://'.length)).inspect();
    t.equal(info.HostConfig.Memory, 64 * 2 ** 20, 'memory limit');
    t.equal(info.HostConfig.NanoCpus, 500_000_000, 'cpu limit (500m)');
    t.equal(info.HostConfig.CpuShares, 256, 'cpu request → shares');
    t.equal(info.HostConfig.Init, true, 'init process');
    t.equal(info.HostConfig.NetworkMode, 'host');
    t.equal(info.Config.WorkingDir, '/tmp');
    t.same(info.Mounts.map((m) => [m.Source, m.Destination, m.RW]), [[dir, '/data', false]]);
    t.equal(info.Config.Labels[LABEL.podUid], c.podUid);
    t.equal(info.Config.Labels[LABEL.restartCount], '0');
    const logs = await until('mount output', async () => {
      const text = await rt.logs(c.podUid, 'main');
      return text.includes('read-only') && text;
    });
    t.match(logs, 'from the host');
    await rt.stop(h.id, 0);
  });

  t.test('over its memory limit a container is OOMKilled', async (t) => {
    const rt = newRuntime();
    const c = config({ ...sh('dd if=/dev/zero of=/dev/null bs=64M count=1'), limits: { memoryBytes: 16 * 2 ** 20 } });
    const exit = await rt.wait((await rt.start(c)).id);
    t.equal(exit.reason, 'OOMKilled');
    t.equal(exit.exitCode, 137);
  });

  t.test('stats of a running container come from the engine', async (t) => {
    const rt = newRuntime();
    const c = config(sh('i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 60'));
    const h = await rt.start(c);
    const s = await until('CPU used', async () => {
      const st = await rt.stats(h.id);
      return st && st.cpuUsageNanos > 0 && st;
    });
    t.ok(s.memoryBytes > 0, `working set ${s.memoryBytes} bytes`);
    t.ok(Math.abs(s.timestamp - Date.now()) < 60_000, 'timestamp is now');
    await rt.stop(h.id, 0);
    t.equal(await rt.stats(h.id), undefined, 'no stats once stopped');
  });

  t.test('command replaces the entrypoint, args only keep it; start failures carry the engine message', async (t) => {
    const rt = newRuntime();
    const argsOnly = config({ image: NATS_IMAGE, argv: ['--version'], args: ['--version'] });
    const exit = await rt.wait((await rt.start(argsOnly)).id);
    t.equal(exit.exitCode, 0);
    t.match(await rt.logs(argsOnly.podUid, 'main'), /nats-server: v\d/);

    // docker-init execs the command: a missing executable ends the container as a StartError.
    const missing = config({ argv: ['no-such-binary'], command: ['no-such-binary'] });
    const failed = await rt.wait((await rt.start(missing)).id);
    t.equal(failed.reason, 'StartError');
    t.equal(failed.exitCode, 128);
    t.match(failed.message, /exec no-such-binary failed: No such file or directory/);

    const err = await rt.start(config({ ...sh('true'), mounts: [{ name: 'v', hostPath: path.join(scope, 'no-such-dir'), containerPath: '/v', readOnly: false }] })).catch((e) => e);
    t.type(err, RuntimeError);
    t.equal(err.code, 'ContainerCannotRun');
    t.match(err.message, /bind source path does not exist/);
  });

  t.test('a missing image is ErrImagePull (or ErrImageNeverPull) and nothing is pulled', async (t) => {
    const rt = newRuntime();
    const started = Date.now();
    const err = await rt.start(config({ image: 'kubeact-test/not-there:1', ...sh('true') })).catch((e) => e);
    t.equal(err.code, 'ErrImagePull');
    t.match(err.message, /failed to pull image "kubeact-test\/not-there:1": Error response from daemon: .*No such image/);
    const always = await rt.start(config({ image: 'kubeact-test/not-there:1', imagePullPolicy: 'Always', ...sh('true') })).catch((e) => e);
    t.equal(always.code, 'ErrImagePull', 'Always: no registry to ask, an error at once');
    const never = await rt.start(config({ image: 'kubeact-test/not-there:1', imagePullPolicy: 'Never', ...sh('true') })).catch((e) => e);
    t.equal(never.code, 'ErrImageNeverPull');
    t.equal(never.message, 'Container image "kubeact-test/not-there:1" is not present with pull policy of Never');
    t.ok(Date.now() - started < 10_000, 'answers without waiting on a registry');
    const pulled = await docker.getImage('kubeact-test/not-there:1').inspect().then(() => true, () => false);
    t.equal(pulled, false, 'the image was not pulled');
    const present = await rt.start(config({ imagePullPolicy: 'Always', ...sh('true') }));
    t.equal((await rt.wait(present.id)).exitCode, 0, 'Always with a local image runs it');
  });

  t.test('a restarted kubelet adopts its running containers (no duplicates) and removes orphans', async (t) => {
    const before = newRuntime();
    const kept = config(sh('echo adopted; sleep 300'));
    const orphan = config(sh('sleep 300'));
    const finished = config(sh('echo done'));
    const hKept = await before.start(kept);
    await before.start(orphan);
    await before.wait((await before.start(finished)).id);
    await before.close(); // kubelet shutdown: the containers keep running

    const after = newRuntime();
    const found = await after.recover();
    const mine = found.filter((i) => [kept.podUid, orphan.podUid, finished.podUid].includes(i.podUid));
    t.same(
      mine.map((i) => [i.podUid, i.running, i.exit?.exitCode]).sort(),
      [[kept.podUid, true, undefined], [orphan.podUid, true, undefined], [finished.podUid, false, 0]].sort(),
    );
    const adopted = await after.adopt(kept.podUid, 'main');
    t.equal(adopted?.id, hKept.id, 'the same container, not a new one');
    t.equal(adopted?.startedAt, hKept.startedAt);
    t.equal(await after.adopt(kept.podUid, 'main'), undefined, 'adopted once only');
    t.equal(await after.adopt(finished.podUid, 'main'), undefined, 'exited containers are not adopted');
    t.equal(await after.logs(kept.podUid, 'main'), 'adopted\n', 'logs of the adopted container');
    t.equal((await ourContainers(kept.podUid)).length, 1, 'no duplicate');

    const removed = await after.removeOrphans(new Set([kept.podUid, finished.podUid]));
    t.ok(removed >= 1);
    t.equal((await ourContainers(orphan.podUid)).length, 0, 'the orphan is gone');
    t.equal((await ourContainers(finished.podUid)).length, 1, 'a finished pod keeps its container (logs)');
    const exit = await after.stop(hKept.id, 0);
    t.equal(exit.exitCode, 137, 'the adopted container is stopped by the new runtime');
  });

  t.test('followLogs streams text until the container exits', async (t) => {
    const rt = newRuntime();
    const c = config(sh('echo one; sleep 0.5; echo two; sleep 0.5; echo three'));
    await rt.start(c);
    let text = '';
    await rt.followLogs(c.podUid, 'main', (s) => (text += s), new AbortController().signal, { fromStart: true });
    t.equal(text, 'one\ntwo\nthree\n');
  });

  t.test('no engine: a clear RuntimeUnavailable error', async (t) => {
    const err = await DockerRuntime.connect({ nodeName: NODE, scope, socketPath: path.join(scope, 'no-such.sock') }).catch((e) => e);
    t.type(err, RuntimeError);
    t.equal(err.code, 'RuntimeUnavailable');
    t.match(err.message, /no Docker engine answers at unix:\/\/.*no-such\.sock/);
  });
});
