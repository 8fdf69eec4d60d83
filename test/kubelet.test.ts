/**
 * The kubelet end to end, on a real cluster (nats-server, control plane, 2 workers as OS
 * processes): the container environment, pod IPs, restart policies and CrashLoopBackOff,
 * start failures, graceful termination, multi-container pods, and a kubelet restart.
 * Everything is asserted as a user sees it: the stored pod status, Events, logs, the CLI.
 */
import t from 'tap';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { saveContext } from '../nodes/launcher/context.js';
import { launch } from '../nodes/launcher/up.js';
import { contains, parseCidr } from '../nodes/shared/cidr.js';
import type { Container, KubeObject } from '../protocol/objects.js';
import { startCluster, waitForObject, waitForPodEvents, type TestCluster } from './helpers/cluster.js';
import { processesMarked, running } from './helpers/procs.js';

const NS = 'default';
const BACKOFF_INITIAL_MS = 200;
const BACKOFF_MAX_MS = 800;

let cluster: TestCluster;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeact-kubelet-test-'));

t.before(async () => {
  cluster = await startCluster({
    nodes: 2,
    workerArgs: ['--backoff-initial-ms', String(BACKOFF_INITIAL_MS), '--backoff-max-ms', String(BACKOFF_MAX_MS)],
    // A killed kubelet is restarted by a test: its node must not be declared unreachable (and
    // its pods evicted) while the new process boots, however loaded the machine is.
    controlPlaneArgs: ['--node-monitor-grace-ms', '30000'],
  });
});

t.teardown(async () => {
  await cluster?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------
// helpers

type Pod = KubeObject;

function podObject(name: string, containers: Container[], spec: Record<string, unknown> = {}): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS }, spec: { containers, ...spec } };
}

/** A container running `sh -c script` (argv[0] of the script is `sh`). */
function sh(name: string, script: string, extra: Partial<Container> = {}): Container {
  return { name, image: 'busybox:1.36', command: ['sh', '-c', script, 'sh'], ...extra };
}

function waitPod(name: string, predicate: (pod: Pod | undefined) => boolean, timeoutMs = 15_000): Promise<Pod | undefined> {
  return waitForObject<Pod>(cluster.client, 'Pod', name, NS, predicate, timeoutMs);
}

const statusOf = (pod: Pod | undefined, container = 'main') => pod?.status?.containerStatuses?.find((s: { name: string }) => s.name === container);
const isRunning = (pod: Pod | undefined) =>
  pod?.status?.phase === 'Running' && (pod.status.containerStatuses ?? []).length > 0 && pod.status.containerStatuses.every((s: any) => s.state?.running);
const isFinished = (pod: Pod | undefined) => pod?.status?.phase === 'Succeeded' || pod?.status?.phase === 'Failed';

async function runPod(pod: Pod, until: (pod: Pod | undefined) => boolean = isRunning, timeoutMs?: number): Promise<Pod> {
  await cluster.client.create(pod);
  const got = await waitPod(pod.metadata!.name!, until, timeoutMs);
  return got!;
}

/** Deletes a pod right away (grace 0) and waits until it is gone from the store. */
async function removePod(name: string): Promise<void> {
  await cluster.client.delete('Pod', name, { namespace: NS, gracePeriodSeconds: 0 }).catch((e) => {
    if (e?.reason !== 'NotFound') throw e;
  });
  await waitPod(name, (p) => p === undefined);
}

/**
 * Deletes a pod (its own grace period) watching it from before the request: resolves once it
 * is gone, with every state it went through and how long the deletion took.
 */
async function deleteAndWatch(name: string, timeoutMs = 15_000): Promise<{ states: Pod[]; tookMs: number }> {
  const states: Pod[] = [];
  let settle!: () => void;
  const gone = new Promise<void>((r) => (settle = r));
  const watch = await cluster.client.watch('Pod', { namespace: NS, fieldSelector: `metadata.name=${name}` }, (ev) => {
    if (ev.type === 'DELETED') settle();
    else states.push(ev.object);
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const t0 = Date.now();
    await cluster.client.delete('Pod', name, { namespace: NS });
    await Promise.race([
      gone,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`pod ${name} still there ${timeoutMs} ms after its deletion; last status: ${JSON.stringify(states.at(-1)?.status)}`)), timeoutMs);
      }),
    ]);
    return { states, tookMs: Date.now() - t0 };
  } finally {
    clearTimeout(timer);
    watch.stop();
  }
}

/** The pod's Events once `predicate` holds for them (see waitForPodEvents). */
function waitForEvents(pod: Pod, predicate: (events: KubeObject[]) => boolean, timeoutMs = 10_000): Promise<KubeObject[]> {
  return waitForPodEvents(cluster.client, pod, predicate, timeoutMs);
}

/** Follows a container's log (from its start) until `predicate` holds for the text so far. */
async function waitForLog(pod: Pod, predicate: (text: string) => boolean, container?: string, timeoutMs = 10_000): Promise<string> {
  const abort = new AbortController();
  let text = '';
  let settle!: () => void;
  const found = new Promise<void>((r) => (settle = r));
  const follow = cluster.client.followLogs(
    pod.spec.nodeName,
    { namespace: NS, pod: pod.metadata!.name!, container },
    (chunk) => {
      text += chunk;
      if (predicate(text)) settle();
    },
    abort.signal,
  );
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      found,
      follow.then(() => {
        if (!predicate(text)) throw new Error(`log stream of ${pod.metadata!.name} ended; text: ${JSON.stringify(text)}`);
      }),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out waiting for log text of ${pod.metadata!.name}; got: ${JSON.stringify(text)}`)), timeoutMs);
      }),
    ]);
    return text;
  } finally {
    clearTimeout(timer);
    abort.abort();
    await follow.catch(() => {});
  }
}

/**
 * Waits for processes to die. The test cannot subscribe to the death of a process it is not
 * the parent of, so this looks at /proc at a short interval, with a deadline.
 */
async function waitForDeath(pids: number[], timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(running)) {
    if (Date.now() > deadline) throw new Error(`processes still alive after ${timeoutMs} ms: ${pids.filter(running).join(', ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The rows of `kubeact get pods <names...>` as columns (NAME READY STATUS RESTARTS AGE), by name. */
async function getPodRows(...names: string[]): Promise<Record<string, string[]>> {
  const res = await cluster.kubeact(['get', 'pods', ...names]);
  if (res.code !== 0) throw new Error(`kubeact get pods ${names.join(' ')} failed: ${res.stderr}`);
  const lines = res.stdout.trim().split('\n');
  if (!/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE/.test(lines[0])) throw new Error(`unexpected header: ${lines[0]}`);
  const rows: Record<string, string[]> = {};
  for (const line of lines.slice(1)) {
    const cols = line.split(/\s{2,}/);
    rows[cols[0]] = cols;
  }
  for (const name of names) if (!rows[name]) throw new Error(`no row for ${name} in:\n${res.stdout}`);
  return rows;
}

// ---------------------------------------------------------------------------------------
// tests

t.test('container environment: downward API, $(VAR) expansion, workingDir', async (t) => {
  const cwd = fs.mkdtempSync(path.join(work, 'cwd-'));
  const script = [
    'echo "POD_IP=$POD_IP"',
    'echo "POD_NAME=$POD_NAME"',
    'echo "POD_NAMESPACE=$POD_NAMESPACE"',
    'echo "NODE_NAME=$NODE_NAME"',
    'echo "GREETING=$GREETING"',
    'echo "COMBINED=$COMBINED"',
    'echo "ESCAPED=$ESCAPED"',
    'echo "UNDEFINED_REF=$UNDEFINED_REF"',
    'echo "MY_NAME=$MY_NAME"',
    'echo "MY_IP=$MY_IP"',
    'echo "CWD=`pwd`"',
    'echo "ARG1=$1"',
    'echo "ARG2=$2"',
  ].join('; ');
  const pod = await runPod(
    podObject(
      'env-pod',
      [
        sh('main', script, {
          args: ['$(GREETING)-from-args', '$(MY_NAME)@$(POD_IP)'],
          workingDir: cwd,
          env: [
            { name: 'GREETING', value: 'hello' },
            { name: 'COMBINED', value: '$(GREETING)-$(POD_NAMESPACE)' },
            { name: 'ESCAPED', value: '$$(GREETING)' },
            { name: 'UNDEFINED_REF', value: '$(NOT_DEFINED_ANYWHERE)' },
            { name: 'MY_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'MY_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          ],
        }),
      ],
      { restartPolicy: 'Never' },
    ),
    (p) => p?.status?.phase === 'Succeeded',
  );
  const nodeName: string = pod.spec.nodeName;
  const podIP: string = pod.status.podIP;
  const node = await cluster.client.get('Node', nodeName);
  t.ok(contains(parseCidr(node.spec.podCIDR), podIP), `pod IP ${podIP} is inside ${nodeName}'s pod CIDR ${node.spec.podCIDR}`);
  t.same(pod.status.podIPs, [{ ip: podIP }]);

  const [reply, cli] = await Promise.all([cluster.client.logs(nodeName, { namespace: NS, pod: 'env-pod' }), cluster.kubeact(['logs', 'env-pod'])]);
  const vars = Object.fromEntries(reply.text.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  t.same(vars, {
    POD_IP: podIP,
    POD_NAME: 'env-pod',
    POD_NAMESPACE: NS,
    NODE_NAME: nodeName,
    GREETING: 'hello',
    COMBINED: 'hello-default',
    ESCAPED: '$(GREETING)',
    UNDEFINED_REF: '$(NOT_DEFINED_ANYWHERE)',
    MY_NAME: 'env-pod',
    MY_IP: podIP,
    CWD: fs.realpathSync(cwd),
    ARG1: 'hello-from-args',
    ARG2: `env-pod@${podIP}`,
  });

  t.equal(cli.code, 0, cli.stderr);
  t.equal(cli.stdout.trim(), reply.text.trim(), '`kubeact logs` prints the same text');
  await removePod('env-pod');
});

t.test('two pods on one node: distinct pod IPs, both listening on the same port', async (t) => {
  const server = `const http = require('http');
http.createServer((req, res) => res.end(process.env.POD_NAME + ' ' + process.env.POD_IP))
  .listen(8080, process.env.POD_IP, () => console.log('listening'));`;
  const container = (): Container => ({ name: 'main', image: 'node:20', command: [process.execPath, '-e', server] });
  const [a, b] = await Promise.all(
    ['web-a', 'web-b'].map((name) => runPod(podObject(name, [container()], { nodeName: 'node-1', terminationGracePeriodSeconds: 1 }))),
  );
  t.equal(a.spec.nodeName, 'node-1');
  t.equal(b.spec.nodeName, 'node-1');
  t.not(a.status.podIP, b.status.podIP, 'each pod has its own IP');
  const node = await cluster.client.get('Node', 'node-1');
  for (const p of [a, b]) t.ok(contains(parseCidr(node.spec.podCIDR), p.status.podIP), `${p.status.podIP} in ${node.spec.podCIDR}`);

  await Promise.all([a, b].map((p) => waitForLog(p, (text) => text.includes('listening'))));
  const bodies = await Promise.all([a, b].map(async (p) => (await fetch(`http://${p.status.podIP}:8080/`)).text()));
  t.same(bodies, [`web-a ${a.status.podIP}`, `web-b ${b.status.podIP}`], 'both servers answer on port 8080 of their own pod IP');
  await Promise.all(['web-a', 'web-b'].map(removePod));
});

t.test('restartPolicy Never + exit 3 → Failed (Error, 3); OnFailure + exit 0 → Succeeded (Completed)', async (t) => {
  const [failed, succeeded] = await Promise.all([
    runPod(podObject('never-fails', [sh('main', 'exit 3')], { restartPolicy: 'Never' }), isFinished),
    runPod(podObject('onfailure-ok', [sh('main', 'exit 0')], { restartPolicy: 'OnFailure' }), isFinished),
  ]);
  t.equal(failed.status.phase, 'Failed');
  const fcs = statusOf(failed);
  t.equal(fcs.restartCount, 0);
  t.equal(fcs.ready, false);
  t.match(fcs.state.terminated, { exitCode: 3, reason: 'Error' });
  t.match(failed.status.conditions.find((c: any) => c.type === 'Ready'), { status: 'False', reason: 'PodCompleted' });

  t.equal(succeeded.status.phase, 'Succeeded');
  const scs = statusOf(succeeded);
  t.equal(scs.restartCount, 0);
  t.match(scs.state.terminated, { exitCode: 0, reason: 'Completed' });

  const { 'never-fails': never, 'onfailure-ok': onFailure } = await getPodRows('never-fails', 'onfailure-ok');
  t.same(never.slice(1, 4), ['0/1', 'Error', '0'], '`kubeact get pods`: never-fails');
  t.same(onFailure.slice(1, 4), ['0/1', 'Completed', '0'], '`kubeact get pods`: onfailure-ok');
  await Promise.all(['never-fails', 'onfailure-ok'].map(removePod));
});

t.test('restartPolicy Always: a crashing container goes into CrashLoopBackOff with growing back-off', async (t) => {
  /** First time (test clock) each restartCount was seen in the stored status. */
  const seenAt = new Map<number, number>();
  const waitingMessages: string[] = [];
  const phases = new Set<string>();
  let crashLoopStatus: any;
  const target = 4;
  const pod = await runPod(
    podObject('crashy', [sh('main', 'echo crashing; exit 1')], { restartPolicy: 'Always' }),
    (p) => {
      const cs = statusOf(p);
      if (!cs) return false;
      if (!seenAt.has(cs.restartCount)) seenAt.set(cs.restartCount, Date.now());
      if (cs.restartCount > 0) phases.add(p!.status.phase);
      const waiting = cs.state?.waiting;
      if (waiting?.reason === 'CrashLoopBackOff') {
        crashLoopStatus ??= cs;
        if (waitingMessages.at(-1) !== waiting.message) waitingMessages.push(waiting.message);
      }
      return cs.restartCount >= target;
    },
    20_000,
  );
  const uid = pod.metadata!.uid;
  const label = `crashy_default(${uid})`;
  t.ok(crashLoopStatus, 'state.waiting.reason CrashLoopBackOff was observed');
  t.match(crashLoopStatus.lastState.terminated, { exitCode: 1, reason: 'Error' }, 'lastState.terminated holds the crash');
  t.same([...phases], ['Running'], 'the pod stays Running while its container restarts');
  t.same(
    waitingMessages.slice(0, 3),
    [200, 400, 800].map((ms) => `back-off ${ms}ms restarting failed container=main pod=${label}`),
    'the waiting message names the growing delay',
  );
  for (let n = 1; n <= target; n++) t.ok(seenAt.has(n), `restartCount ${n} was observed`);
  const intervals = [];
  for (let n = 2; n <= target; n++) intervals.push(seenAt.get(n)! - seenAt.get(n - 1)!);
  t.comment(`intervals between restarts: ${intervals.join(', ')} ms`);
  // Restart n+1 comes back-off(n) after restart n: 400, 800, 800 (capped), plus the time to
  // start and exit; the tolerances absorb the latency of observing through status writes.
  t.ok(intervals[0] >= 400 - 150, `restart 1→2 after ≥ ~400 ms (${intervals[0]})`);
  t.ok(intervals[1] >= 800 - 150, `restart 2→3 after ≥ ~800 ms (${intervals[1]})`);
  t.ok(intervals[2] >= BACKOFF_MAX_MS - 150, `restart 3→4 after ≥ ~800 ms (${intervals[2]})`);
  t.ok(intervals[2] < BACKOFF_MAX_MS * 2 - 150, `the back-off is capped at ${BACKOFF_MAX_MS} ms, not doubled again (${intervals[2]})`);
  for (let i = 1; i < intervals.length; i++) t.ok(intervals[i] >= intervals[i - 1] - 250, `intervals do not shrink (${intervals[i - 1]} → ${intervals[i]})`);

  const events = await waitForEvents(pod, (evs) => evs.some((e: any) => e.reason === 'BackOff'));
  const backOff: any = events.find((e: any) => e.reason === 'BackOff');
  t.match(backOff, { type: 'Warning', message: `Back-off restarting failed container main in pod ${label}`, source: { component: 'kubelet' } });
  const logs = await cluster.client.logs(pod.spec.nodeName, { namespace: NS, pod: 'crashy', previous: true });
  t.equal(logs.text, 'crashing\n', '--previous shows the crashed instance');
  await removePod('crashy');
});

t.test('missing executable: RunContainerError with the runtime message and a Failed Warning', async (t) => {
  const pod = await runPod(
    podObject('no-exec', [{ name: 'main', image: 'busybox:1.36', command: ['kubeact-no-such-binary', '--flag'] }]),
    (p) => statusOf(p)?.state?.waiting?.reason === 'RunContainerError' && statusOf(p).restartCount >= 2,
  );
  const cs = statusOf(pod);
  t.equal(cs.state.waiting.message, 'exec: "kubeact-no-such-binary": executable file not found in $PATH');
  t.match(cs.lastState.terminated, { exitCode: 128, reason: 'StartError', message: /executable file not found in \$PATH/ });
  t.equal(cs.ready, false);
  t.equal(cs.started, false);
  const events = await waitForEvents(pod, (evs) => evs.some((e: any) => e.reason === 'Failed'));
  t.match(
    events.find((e: any) => e.reason === 'Failed'),
    { type: 'Warning', message: 'Error: exec: "kubeact-no-such-binary": executable file not found in $PATH' },
  );
  // The container is retried every back-off; between two attempts (a few ms) it reads ContainerCreating.
  let row: string[] = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    row = (await getPodRows('no-exec'))['no-exec'];
    if (row[2] === 'RunContainerError') break;
  }
  t.equal(row[1], '0/1');
  t.equal(row[2], 'RunContainerError', '`kubeact get pods` STATUS column');
  await removePod('no-exec');
});

t.test('graceful termination: SIGTERM handler runs, then the pod is gone', async (t) => {
  const marker = path.join(work, 'graceful.marker');
  const pod = await runPod(
    podObject('graceful', [
      sh('main', `trap 'echo graceful > "$MARKER"; exit 0' TERM; echo ready; while :; do sleep 0.1; done`, { env: [{ name: 'MARKER', value: marker }] }),
    ]),
  );
  await waitForLog(pod, (text) => text.includes('ready'));
  const { states } = await deleteAndWatch('graceful');
  const last = states.at(-1);
  t.equal(fs.readFileSync(marker, 'utf8'), 'graceful\n', 'the TERM trap ran');
  t.ok(last?.metadata?.deletionTimestamp, 'the pod was terminating before it went away');
  t.match(statusOf(last)?.state?.terminated, { exitCode: 0, reason: 'Completed' }, 'last status: the container exited 0');
  const events = await waitForEvents(pod, (evs) => evs.some((e: any) => e.reason === 'Killing'));
  t.match(events.find((e: any) => e.reason === 'Killing'), { type: 'Normal', message: 'Stopping container main' });
});

t.test('graceful termination: a container ignoring SIGTERM is killed after terminationGracePeriodSeconds', async (t) => {
  const pidFile = path.join(work, 'stubborn.pid');
  const pod = await runPod(
    podObject(
      'stubborn',
      [sh('main', `trap '' TERM; echo $$$$ > "$PID_FILE"; echo ready; while :; do sleep 0.1; done`, { env: [{ name: 'PID_FILE', value: pidFile }] })],
      { terminationGracePeriodSeconds: 1 },
    ),
  );
  await waitForLog(pod, (text) => text.includes('ready'));
  const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  t.ok(running(pid), `container process ${pid} runs`);
  const { states, tookMs: took } = await deleteAndWatch('stubborn');
  const last = states.at(-1);
  t.ok(took >= 1000, `deletion waited for the grace period (${took} ms)`);
  t.ok(took < 4000, `deletion did not wait much longer than the grace period (${took} ms)`);
  t.notOk(running(pid), 'the container process is gone');
  t.match(statusOf(last)?.state?.terminated, { exitCode: 137, reason: 'Error' }, 'last status: killed (137)');
});

t.test('multi-container pod: one container restarts, the other keeps running', async (t) => {
  const trigger = path.join(work, 'multi.crash');
  const phases = new Set<string>();
  const pod = await runPod(
    podObject('multi', [
      { name: 'steady', image: 'busybox:1.36', command: ['sleep', '300'] },
      sh('crasher', 'echo up; while [ ! -e "$TRIGGER" ]; do sleep 0.05; done; rm -f "$TRIGGER"; exit 2', { env: [{ name: 'TRIGGER', value: trigger }] }),
    ]),
    (p) => isRunning(p) && p!.status.containerStatuses.every((s: any) => s.ready),
  );
  t.same(pod.status.containerStatuses.map((s: any) => [s.name, s.restartCount, s.ready]), [['steady', 0, true], ['crasher', 0, true]]);
  t.match(pod.status.conditions.find((c: any) => c.type === 'Ready'), { status: 'True' });
  const steadyBefore = statusOf(pod, 'steady');

  fs.writeFileSync(trigger, '');
  const after = await waitPod('multi', (p) => {
    if (p?.status?.phase) phases.add(p.status.phase);
    const c = statusOf(p, 'crasher');
    return c?.restartCount === 1 && c.state?.running && c.ready;
  });
  t.same([...phases], ['Running'], 'the pod stays Running throughout');
  const crasher = statusOf(after, 'crasher');
  t.match(crasher.lastState.terminated, { exitCode: 2, reason: 'Error' });
  const steady = statusOf(after, 'steady');
  t.equal(steady.restartCount, 0, 'the other container did not restart');
  t.same(steady.state, steadyBefore.state, 'the other container is the same instance');
  t.equal(steady.containerID, steadyBefore.containerID);
  const row = (await getPodRows('multi')).multi;
  t.equal(row[1], '2/2', '`kubeact get pods` READY');
  t.equal(row[2], 'Running', '`kubeact get pods` STATUS');
  t.match(row[3], /^1 \(\d+s ago\)$/, '`kubeact get pods` RESTARTS');
  await removePod('multi');
});

t.test('kubelet restart: containers die with the kubelet and run again once it is back', async (t) => {
  const record = cluster.ctx.processes.find((p) => p.name === 'node-2')!;
  t.ok(record?.argv, 'the worker process record keeps its argv');
  const names = ['survivor-a', 'survivor-b'];
  const marks = Object.fromEntries(names.map((n) => [n, randomUUID()]));
  // The main process forks a child, then reports both pids (`$$$$`: the kubelet turns `$$` into `$`).
  const script = 'sleep 300 & echo "started $$$$ $!"; wait';
  const pods = await Promise.all(
    names.map((name) =>
      runPod(podObject(name, [sh('main', script, { env: [{ name: 'KUBEACT_TEST_MARK', value: marks[name] }] })], { nodeName: 'node-2', terminationGracePeriodSeconds: 1 })),
    ),
  );
  const before = new Map<string, number[]>();
  for (const pod of pods) {
    const text = await waitForLog(pod, (s) => /started \d+ \d+\n/.test(s));
    const [, main, child] = text.match(/started (\d+) (\d+)/)!.map(Number);
    before.set(pod.metadata!.name!, [main, child]);
    t.same(processesMarked(marks[pod.metadata!.name!]).map((p) => p.pid).sort(), [main, child].sort(), `${pod.metadata!.name}: two container processes`);
  }

  process.kill(record.pid, 'SIGKILL');
  // PR_SET_PDEATHSIG: each container's main process is killed with the kubelet.
  await waitForDeath([...before.values()].map(([main]) => main));
  t.pass('the containers\' main processes died with the kubelet');

  const again = launch('worker', record.name, record.argv![1], record.argv!.slice(2), path.dirname(record.log));
  record.pid = again.pid;
  saveContext(cluster.ctx); // `down` stops the new process
  t.not(again.pid, undefined);

  for (const pod of pods) {
    const name = pod.metadata!.name!;
    // The new kubelet records its own Started Event (the old one recorded the first).
    await waitForEvents(pod, (evs) => evs.filter((e: any) => e.reason === 'Started').reduce((n, e: any) => n + (e.count ?? 1), 0) >= 2, 15_000);
    // Both instances log to the same file: the second "started" line is the new instance.
    const text = await waitForLog(pod, (s) => (s.match(/started \d+ \d+\n/g) ?? []).length >= 2);
    const [, main, child] = [...text.matchAll(/started (\d+) (\d+)/g)][1].map(Number);
    const old = before.get(name)!;
    t.notOk(old.includes(main), `${name}: a new main process`);
    const now = await waitPod(name, (p) => isRunning(p) && statusOf(p)?.ready === true);
    t.equal(now!.spec.nodeName, 'node-2');
    t.equal(now!.status.podIP, pod.status.podIP, `${name} keeps its pod IP`);
    t.same(processesMarked(marks[name]).map((p) => p.pid).sort(), [main, child].sort(), `${name}: exactly the new instance's processes run (old ones swept, no duplicates)`);
    for (const pid of old) t.notOk(running(pid), `${name}: old process ${pid} is gone`);
  }
  await Promise.all(names.map(removePod));
});
