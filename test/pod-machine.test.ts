/**
 * The pod actor (actors/pod): pure XState, driven by a SimulatedClock and a tiny fake runtime
 * whose promises the test settles. No NATS, no processes, no sleeps.
 */
import t from 'tap';
import { createActor, fromPromise, SimulatedClock } from 'xstate';
import type { Container, Pod, PodStatus, ContainerStatus } from '../protocol/objects.js';
import { nowTimestamp } from '../protocol/objects.js';
import { RuntimeError, type ExitStatus } from '../nodes/worker/runtime/types.js';
import {
  computePodStatus,
  formatDuration,
  podMachine,
  type ContainerView,
  type PodEventRecord,
  type PodInput,
  type StartContainerInput,
  type StartContainerOutput,
} from '../actors/pod/index.js';

const T0 = Date.parse('2025-01-01T00:00:00Z');
const ts = (ms: number) => nowTimestamp(T0 + ms);

function makePod(containers: Array<string | Container>, restartPolicy: 'Always' | 'OnFailure' | 'Never' = 'Always'): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', uid: 'uid-1' },
    spec: {
      restartPolicy,
      nodeName: 'n1',
      containers: containers.map((c) => (typeof c === 'string' ? { name: c, image: `${c}:1` } : c)),
    },
  };
}

interface Deferred<T> {
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}

/** The injected effects: every start/wait/stop is a promise the test settles. */
class FakeRuntime {
  readonly pendingStarts: Array<StartContainerInput & Deferred<StartContainerOutput>> = [];
  readonly startCalls: StartContainerInput[] = [];
  readonly stopCalls: Array<{ containerId: string; graceMs: number }> = [];
  /** Started and not exited yet: must be empty once the pod is finished. */
  readonly live = new Map<string, { startedAt: string }>();
  private readonly waits = new Map<string, Deferred<ExitStatus>>();
  private readonly exits = new Map<string, ExitStatus>();

  constructor(private readonly clock: SimulatedClock) {}

  start(input: StartContainerInput): Promise<StartContainerOutput> {
    this.startCalls.push(input);
    return new Promise((resolve, reject) => this.pendingStarts.push({ ...input, resolve, reject }));
  }

  wait(containerId: string): Promise<ExitStatus> {
    const done = this.exits.get(containerId);
    if (done) return Promise.resolve(done);
    return new Promise((resolve, reject) => this.waits.set(containerId, { resolve, reject }));
  }

  /** Stops at once: the process dies of SIGTERM. */
  stop(containerId: string, graceMs: number): Promise<ExitStatus> {
    this.stopCalls.push({ containerId, graceMs });
    return Promise.resolve(this.finish(containerId, 143, 'Error', 15));
  }

  private takeStart(name: string) {
    const i = this.pendingStarts.findIndex((s) => s.container === name);
    if (i < 0) throw new Error(`no pending start for ${name}`);
    return this.pendingStarts.splice(i, 1)[0];
  }

  resolveStart(name: string): string {
    const s = this.takeStart(name);
    const id = `${name}-${s.restartCount}`;
    const startedAt = nowTimestamp(this.clock.now());
    this.live.set(id, { startedAt });
    s.resolve({ containerId: id, startedAt });
    return id;
  }

  failStart(name: string, error: unknown): void {
    this.takeStart(name).reject(error);
  }

  hasPendingStart(name: string): boolean {
    return this.pendingStarts.some((s) => s.container === name);
  }

  /** The live instance of a container exits with `code`. */
  exit(name: string, code: number): void {
    const id = [...this.live.keys()].find((k) => k.startsWith(`${name}-`));
    if (!id) throw new Error(`${name} is not running`);
    this.finish(id, code, code === 0 ? 'Completed' : 'Error');
  }

  private finish(id: string, exitCode: number, reason: string, signal?: number): ExitStatus {
    const existing = this.exits.get(id);
    if (existing) return existing;
    const exit: ExitStatus = {
      exitCode,
      reason,
      ...(signal ? { signal } : {}),
      startedAt: this.live.get(id)?.startedAt,
      finishedAt: nowTimestamp(this.clock.now()),
    };
    this.exits.set(id, exit);
    this.live.delete(id);
    this.waits.get(id)?.resolve(exit);
    this.waits.delete(id);
    return exit;
  }
}

/** Lets promise callbacks and the actor mailboxes run (no timers involved). */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

function run(pod: Pod, extra: Partial<PodInput> = {}) {
  const clock = new SimulatedClock();
  clock.set(T0);
  const rt = new FakeRuntime(clock);
  const statuses: PodStatus[] = [];
  const events: PodEventRecord[] = [];
  let finished = 0;
  let evicted = 0;
  let statusesWhenFinished = -1;
  const machine = podMachine.provide({
    actors: {
      startContainer: fromPromise(({ input }: { input: StartContainerInput }) => rt.start(input)),
      waitContainer: fromPromise(({ input }: { input: { containerId: string } }) => rt.wait(input.containerId)),
      stopContainer: fromPromise(({ input }: { input: { containerId: string; graceMs: number } }) => rt.stop(input.containerId, input.graceMs)),
    },
    actions: {
      publishStatus: (_, status) => {
        statuses.push(status);
      },
      recordEvent: (_, record) => {
        events.push(record);
      },
      podFinished: () => {
        finished++;
        statusesWhenFinished = statuses.length;
      },
      podEvicted: () => {
        evicted++;
      },
    },
  });
  const actor = createActor(machine, {
    input: { pod, nodeName: 'n1', podIP: '127.1.0.2', hostIP: '127.0.0.1', now: () => clock.now(), ...extra },
    clock,
  });
  actor.start();
  const status = () => statuses[statuses.length - 1];
  return {
    actor,
    clock,
    rt,
    statuses,
    events,
    finished: () => finished,
    evicted: () => evicted,
    statusesWhenFinished: () => statusesWhenFinished,
    state: () => actor.getSnapshot().value,
    status,
    container: (name: string): ContainerStatus => status().containerStatuses!.find((c) => c.name === name)!,
    condition: (type: string) => status().conditions!.find((c) => c.type === type)!,
    /** Moves simulated time, then lets the consequences settle. */
    advance: async (ms: number) => {
      clock.increment(ms);
      await flush();
    },
  };
}

t.test('a single container starts: Pending/ContainerCreating, then Running with Ready True', async (t) => {
  const h = run(makePod(['app']));
  await flush();
  t.equal(h.state(), 'Pending');
  t.equal(h.status().phase, 'Pending');
  t.same(h.container('app').state, { waiting: { reason: 'ContainerCreating' } });
  t.equal(h.container('app').ready, false);
  t.equal(h.condition('Ready').status, 'False');
  t.equal(h.condition('PodScheduled').status, 'True');
  t.equal(h.condition('Initialized').status, 'True');
  t.same(h.rt.startCalls.map((s) => [s.container, s.restartCount, s.pod.metadata?.name]), [['app', 0, 'web']]);

  await h.advance(2000);
  h.rt.resolveStart('app');
  await flush();
  t.equal(h.state(), 'Running');
  const s = h.status();
  t.equal(s.phase, 'Running');
  t.equal(s.podIP, '127.1.0.2');
  t.same(s.podIPs, [{ ip: '127.1.0.2' }]);
  t.equal(s.hostIP, '127.0.0.1');
  t.equal(s.startTime, ts(0));
  t.equal(s.qosClass, 'BestEffort');
  const app = h.container('app');
  t.match(app, { name: 'app', image: 'app:1', ready: true, started: true, restartCount: 0, containerID: 'process://app-0' });
  t.same(app.state, { running: { startedAt: ts(2000) } });
  t.same(app.lastState, {});
  t.match(h.condition('Ready'), { status: 'True', lastTransitionTime: ts(2000) });
  t.match(h.condition('ContainersReady'), { status: 'True', lastTransitionTime: ts(2000) });
  t.equal(h.condition('Initialized').lastTransitionTime, ts(0));
  t.same(
    h.events.map((e) => [e.type, e.reason, e.message]),
    [
      ['Normal', 'Pulled', 'Container image "app:1" already present on machine'],
      ['Normal', 'Created', 'Created container app'],
      ['Normal', 'Started', 'Started container app'],
    ],
  );
  for (let i = 1; i < h.statuses.length; i++) t.notSame(h.statuses[i], h.statuses[i - 1], 'only changes are published');
  t.equal(h.finished(), 0);
});

t.test('exit 0 with restartPolicy Never: Succeeded, no restart', async (t) => {
  const h = run(makePod(['job'], 'Never'));
  await flush();
  h.rt.resolveStart('job');
  await flush();
  await h.advance(3000);
  h.rt.exit('job', 0);
  await flush();
  t.equal(h.state(), 'Succeeded');
  t.equal(h.status().phase, 'Succeeded');
  t.match(h.container('job').state, { terminated: { exitCode: 0, reason: 'Completed', startedAt: ts(0), finishedAt: ts(3000), containerID: 'process://job-0' } });
  t.equal(h.container('job').ready, false);
  t.equal(h.container('job').started, false);
  t.match(h.condition('Ready'), { status: 'False', reason: 'PodCompleted', lastTransitionTime: ts(3000) });
  await h.advance(3_600_000);
  t.equal(h.rt.startCalls.length, 1, 'never restarted');
  t.equal(h.finished(), 0, 'finished only after deletion');
});

t.test('exit 1 with restartPolicy Never: Failed', async (t) => {
  const h = run(makePod(['job'], 'Never'));
  await flush();
  h.rt.resolveStart('job');
  await flush();
  h.rt.exit('job', 1);
  await flush();
  t.equal(h.state(), 'Failed');
  t.equal(h.status().phase, 'Failed');
  t.match(h.container('job').state, { terminated: { exitCode: 1, reason: 'Error' } });
  await h.advance(3_600_000);
  t.equal(h.rt.startCalls.length, 1);
});

t.test('OnFailure + exit 1: CrashLoopBackOff 10s, 20s, 40s, then capped', async (t) => {
  const h = run(makePod(['app'], 'OnFailure'), { backoffMaxMs: 40_000 });
  await flush();
  h.rt.resolveStart('app');
  await flush();

  const delays = [10_000, 20_000, 40_000, 40_000];
  for (let n = 0; n < delays.length; n++) {
    const delay = delays[n];
    await h.advance(1000);
    h.rt.exit('app', 1);
    await flush();
    t.equal(h.state(), 'Running', 'pod phase stays Running while the container restarts');
    t.equal(h.status().phase, 'Running');
    const c = h.container('app');
    t.same(
      c.state,
      { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${formatDuration(delay)} restarting failed container=app pod=web_default(uid-1)` } },
      `back-off ${delay}ms`,
    );
    t.match(c.lastState, { terminated: { exitCode: 1, reason: 'Error', containerID: `process://app-${n}` } });
    t.equal(c.restartCount, n);
    t.equal(c.ready, false);
    t.equal(h.condition('Ready').status, 'False');
    t.match(h.events.at(-1), { type: 'Warning', reason: 'BackOff', message: 'Back-off restarting failed container app in pod web_default(uid-1)' });

    await h.advance(delay - 100);
    t.notOk(h.rt.hasPendingStart('app'), `not restarted at ${delay - 100}ms`);
    await h.advance(100);
    t.ok(h.rt.hasPendingStart('app'), `restarted at ${delay}ms`);
    t.equal(h.rt.startCalls.at(-1)!.restartCount, n + 1);
    h.rt.resolveStart('app');
    await flush();
    t.equal(h.container('app').restartCount, n + 1);
    t.ok(h.container('app').state?.running);
    t.match(h.container('app').lastState, { terminated: { exitCode: 1 } });
  }
  t.equal(formatDuration(10_000), '10s');
});

t.test('back-off resets after the container ran long enough', async (t) => {
  const h = run(makePod(['app'], 'Always'), { backoffResetMs: 60_000 });
  await flush();
  h.rt.resolveStart('app');
  await flush();
  const crash = async () => {
    h.rt.exit('app', 1);
    await flush();
  };
  await crash();
  t.match(h.container('app').state?.waiting?.message, /^back-off 10s /);
  await h.advance(10_000);
  h.rt.resolveStart('app');
  await flush();
  await crash();
  t.match(h.container('app').state?.waiting?.message, /^back-off 20s /);
  await h.advance(20_000);
  h.rt.resolveStart('app');
  await flush();
  await h.advance(59_000);
  await crash();
  t.match(h.container('app').state?.waiting?.message, /^back-off 40s /, 'not reset before backoffResetMs');
  await h.advance(40_000);
  h.rt.resolveStart('app');
  await flush();
  await h.advance(60_000);
  await crash();
  t.match(h.container('app').state?.waiting?.message, /^back-off 10s /, 'reset after running backoffResetMs');
  await h.advance(9_999);
  t.notOk(h.rt.hasPendingStart('app'));
  await h.advance(1);
  t.ok(h.rt.hasPendingStart('app'));
  t.equal(h.rt.startCalls.at(-1)!.restartCount, 4);
});

t.test('Always + exit 0: restarts too', async (t) => {
  const h = run(makePod(['app'], 'Always'));
  await flush();
  h.rt.resolveStart('app');
  await flush();
  h.rt.exit('app', 0);
  await flush();
  t.equal(h.state(), 'Running');
  t.equal(h.container('app').state?.waiting?.reason, 'CrashLoopBackOff');
  t.match(h.container('app').lastState, { terminated: { exitCode: 0, reason: 'Completed' } });
  await h.advance(10_000);
  t.ok(h.rt.hasPendingStart('app'));
  h.rt.resolveStart('app');
  await flush();
  t.equal(h.container('app').restartCount, 1);
  t.equal(h.status().phase, 'Running');
});

t.test('StartError: waiting RunContainerError, Warning Failed event, retried with back-off', async (t) => {
  const h = run(makePod(['app'], 'Always'));
  await flush();
  await h.advance(1000);
  const message = 'exec: "nope": executable file not found in $PATH';
  h.rt.failStart('app', new RuntimeError('StartError', message));
  await flush();
  const c = h.container('app');
  t.same(c.state, { waiting: { reason: 'RunContainerError', message } });
  t.same(c.lastState, { terminated: { exitCode: 128, reason: 'StartError', message, startedAt: ts(1000), finishedAt: ts(1000) } });
  t.equal(c.restartCount, 0);
  t.equal(c.ready, false);
  t.equal(h.status().phase, 'Running', 'it ran (and failed) once: restarting, like kubelet');
  t.ok(
    h.events.some((e) => e.type === 'Warning' && e.reason === 'Failed' && e.message === `Error: ${message}` && e.container === 'app'),
    'Warning Failed recorded',
  );
  await h.advance(9_900);
  t.notOk(h.rt.hasPendingStart('app'));
  await h.advance(100);
  t.ok(h.rt.hasPendingStart('app'), 'retried after 10s');
  t.equal(h.container('app').restartCount, 1);
  h.rt.failStart('app', new RuntimeError('StartError', message));
  await flush();
  await h.advance(19_900);
  t.notOk(h.rt.hasPendingStart('app'));
  await h.advance(100);
  t.ok(h.rt.hasPendingStart('app'), 'then after 20s');
  h.rt.resolveStart('app');
  await flush();
  t.ok(h.container('app').state?.running);
  t.equal(h.container('app').restartCount, 2);
});

t.test('StartError with restartPolicy Never: Failed', async (t) => {
  const h = run(makePod(['app'], 'Never'));
  await flush();
  h.rt.failStart('app', new RuntimeError('StartError', 'no such file'));
  await flush();
  t.equal(h.state(), 'Failed');
  t.match(h.container('app').state, { terminated: { exitCode: 128, reason: 'StartError' } });
});

t.test('two containers, one crashes: phase stays Running, restartCount only on that one', async (t) => {
  const h = run(makePod(['app', 'sidecar'], 'Always'));
  await flush();
  h.rt.resolveStart('app');
  await flush();
  t.equal(h.state(), 'Pending', 'Pending until every container has started');
  t.equal(h.condition('Ready').message, 'containers with unready status: [sidecar]');
  h.rt.resolveStart('sidecar');
  await flush();
  t.equal(h.state(), 'Running');
  t.equal(h.condition('Ready').status, 'True');

  h.rt.exit('sidecar', 2);
  await flush();
  t.equal(h.status().phase, 'Running');
  t.equal(h.condition('Ready').status, 'False');
  t.equal(h.condition('Ready').reason, 'ContainersNotReady');
  t.ok(h.container('app').state?.running);
  t.equal(h.container('sidecar').state?.waiting?.reason, 'CrashLoopBackOff');
  await h.advance(10_000);
  h.rt.resolveStart('sidecar');
  await flush();
  t.equal(h.container('sidecar').restartCount, 1);
  t.equal(h.container('app').restartCount, 0);
  t.equal(h.status().phase, 'Running');
  t.equal(h.condition('Ready').status, 'True');
  t.same(h.rt.startCalls.map((s) => `${s.container}/${s.restartCount}`), ['app/0', 'sidecar/0', 'sidecar/1']);
});

t.test('DELETE while Running stops every container with the grace, then podFinished once', async (t) => {
  const h = run(makePod(['app', 'sidecar']));
  await flush();
  h.rt.resolveStart('app');
  h.rt.resolveStart('sidecar');
  await flush();
  t.equal(h.state(), 'Running');
  h.actor.send({ type: 'DELETE', graceMs: 5000 });
  await flush();
  t.same(
    h.rt.stopCalls.sort((a, b) => a.containerId.localeCompare(b.containerId)),
    [
      { containerId: 'app-0', graceMs: 5000 },
      { containerId: 'sidecar-0', graceMs: 5000 },
    ],
  );
  t.same(
    h.events.filter((e) => e.reason === 'Killing').map((e) => e.message).sort(),
    ['Stopping container app', 'Stopping container sidecar'],
  );
  t.equal(h.finished(), 1);
  t.equal(h.actor.getSnapshot().status, 'done');
  t.equal(h.state(), 'Terminated');
  t.equal(h.rt.live.size, 0);
  t.equal(h.statusesWhenFinished(), h.statuses.length, 'final status published before podFinished');
  t.equal(h.status().phase, 'Failed', 'killed by SIGTERM: exit 143');
  t.match(h.container('app').state, { terminated: { exitCode: 143, signal: 15 } });
  h.actor.send({ type: 'DELETE', graceMs: 0 });
  await flush();
  t.equal(h.finished(), 1, 'DELETE after the end is harmless');
});

t.test('EVICT while Running: containers killed at once, no restart, Failed/Evicted with the message, object kept until DELETE', async (t) => {
  const h = run(makePod(['app', 'sidecar'], 'Always'));
  await flush();
  h.rt.resolveStart('app');
  h.rt.resolveStart('sidecar');
  await flush();
  const message = 'Usage of EmptyDir volume "scratch" exceeds the limit "1Mi".';
  h.actor.send({ type: 'EVICT', reason: 'Evicted', message });
  await flush();
  t.same(h.rt.stopCalls.map((c) => c.graceMs), [0, 0], 'killed without grace, as the kubelet evicts for local storage');
  t.equal(h.state(), 'Evicted');
  t.equal(h.evicted(), 1);
  t.equal(h.finished(), 0, 'the object is not removed: evicted pods stay, Failed');
  t.equal(h.status().phase, 'Failed');
  t.equal(h.status().reason, 'Evicted');
  t.equal(h.status().message, message);
  t.match(h.condition('DisruptionTarget'), { status: 'True', reason: 'TerminationByKubelet' });
  t.same(h.events.filter((e) => e.reason === 'Evicted'), [{ type: 'Warning', reason: 'Evicted', message }]);
  await h.advance(600_000);
  t.equal(h.rt.startCalls.length, 2, 'restartPolicy Always does not restart an evicted pod');
  h.actor.send({ type: 'EVICT', reason: 'Evicted', message: 'again' });
  await flush();
  t.equal(h.events.filter((e) => e.reason === 'Evicted').length, 1, 'a second EVICT is ignored');
  h.actor.send({ type: 'DELETE', graceMs: 0 });
  await flush();
  t.equal(h.finished(), 1);
  t.equal(h.status().reason, 'Evicted', 'still Evicted when removed');
});

t.test('EVICT is ignored once the pod is being deleted or has completed', async (t) => {
  const deleting = run(makePod(['app']));
  await flush();
  deleting.rt.resolveStart('app');
  await flush();
  deleting.actor.send({ type: 'DELETE', graceMs: 5000 });
  deleting.actor.send({ type: 'EVICT', reason: 'Evicted', message: 'm' });
  await flush();
  t.equal(deleting.evicted(), 0);
  t.notOk(deleting.events.some((e) => e.reason === 'Evicted'));

  const done = run(makePod(['app'], 'Never'));
  await flush();
  done.rt.resolveStart('app');
  await flush();
  done.rt.exit('app', 0);
  await flush();
  t.equal(done.status().phase, 'Succeeded');
  done.actor.send({ type: 'EVICT', reason: 'Evicted', message: 'm' });
  await flush();
  t.equal(done.status().phase, 'Succeeded');
  t.equal(done.evicted(), 0);
});

t.test('DELETE without grace uses terminationGracePeriodSeconds', async (t) => {
  const pod = makePod(['app']);
  pod.spec!.terminationGracePeriodSeconds = 7;
  const h = run(pod);
  await flush();
  h.rt.resolveStart('app');
  await flush();
  h.actor.send({ type: 'DELETE' });
  await flush();
  t.same(h.rt.stopCalls, [{ containerId: 'app-0', graceMs: 7000 }]);
});

t.test('DELETE during ContainerCreating stops the container once the start resolves', async (t) => {
  const h = run(makePod(['app']));
  await flush();
  h.actor.send({ type: 'DELETE', graceMs: 1000 });
  await flush();
  t.equal(h.state(), 'Terminating');
  t.equal(h.rt.stopCalls.length, 0, 'nothing to stop yet');
  t.equal(h.finished(), 0, 'not finished while a start is in flight');
  h.rt.resolveStart('app');
  await flush();
  t.same(h.rt.stopCalls, [{ containerId: 'app-0', graceMs: 1000 }]);
  t.equal(h.rt.live.size, 0, 'no leaked container');
  t.equal(h.finished(), 1);
  t.equal(h.state(), 'Terminated');
});

t.test('DELETE during ContainerCreating when the start then fails: finished, nothing to stop', async (t) => {
  const h = run(makePod(['app']));
  await flush();
  h.actor.send({ type: 'DELETE', graceMs: 1000 });
  await flush();
  h.rt.failStart('app', new RuntimeError('StartError', 'boom'));
  await flush();
  t.equal(h.rt.stopCalls.length, 0);
  t.equal(h.finished(), 1);
});

t.test('DELETE during CrashLoopBackOff cancels the restart', async (t) => {
  const h = run(makePod(['app'], 'Always'));
  await flush();
  h.rt.resolveStart('app');
  await flush();
  h.rt.exit('app', 1);
  await flush();
  t.equal(h.container('app').state?.waiting?.reason, 'CrashLoopBackOff');
  h.actor.send({ type: 'DELETE', graceMs: 1000 });
  await flush();
  t.equal(h.rt.stopCalls.length, 0, 'nothing running to stop');
  t.equal(h.finished(), 1);
  t.equal(h.status().phase, 'Failed');
  t.match(h.container('app').state, { terminated: { exitCode: 1 } });
  await h.advance(3_600_000);
  t.equal(h.rt.startCalls.length, 1, 'restart cancelled');
});

t.test('duplicate DELETE is harmless', async (t) => {
  const h = run(makePod(['app']));
  await flush();
  h.rt.resolveStart('app');
  await flush();
  // The stop does not resolve at once here: hold it so the second DELETE lands mid-termination.
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const stop = h.rt.stop.bind(h.rt);
  h.rt.stop = (id, grace) => gate.then(() => stop(id, grace));
  h.actor.send({ type: 'DELETE', graceMs: 3000 });
  h.actor.send({ type: 'DELETE', graceMs: 3000 });
  await flush();
  h.actor.send({ type: 'DELETE', graceMs: 0 });
  await flush();
  t.equal(h.state(), 'Terminating');
  release();
  await flush();
  t.same(h.rt.stopCalls, [{ containerId: 'app-0', graceMs: 3000 }], 'stopped once, with the first grace');
  t.equal(h.events.filter((e) => e.reason === 'Killing').length, 1);
  t.equal(h.finished(), 1);
});

t.test('DELETE of a Succeeded pod finishes at once', async (t) => {
  const h = run(makePod(['job'], 'Never'));
  await flush();
  h.rt.resolveStart('job');
  await flush();
  h.rt.exit('job', 0);
  await flush();
  t.equal(h.state(), 'Succeeded');
  h.actor.send({ type: 'DELETE', graceMs: 30_000 });
  await flush();
  t.equal(h.rt.stopCalls.length, 0);
  t.equal(h.finished(), 1);
  t.equal(h.status().phase, 'Succeeded');
});

t.test('POD_UPDATED keeps the latest object, used for the next start', async (t) => {
  const h = run(makePod(['app'], 'Always'));
  await flush();
  h.rt.resolveStart('app');
  await flush();
  const updated = makePod(['app'], 'Always');
  updated.metadata!.labels = { v: '2' };
  h.actor.send({ type: 'POD_UPDATED', pod: updated });
  h.rt.exit('app', 1);
  await flush();
  await h.advance(10_000);
  t.same(h.rt.startCalls.at(-1)!.pod.metadata?.labels, { v: '2' });
  t.same(h.actor.getSnapshot().context.pod.metadata?.labels, { v: '2' });
});

t.test('computePodStatus: field shapes', async (t) => {
  const pod: Pod = {
    ...makePod([
      { name: 'app', image: 'app:1', resources: { limits: { cpu: '1', memory: '1Gi' } } },
      { name: 'side', image: 'side:1', resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '100m', memory: '64Mi' } } },
    ]),
    status: { conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: '2024-12-31T23:59:00Z' }] },
  };
  const crashLooping: ContainerView = {
    name: 'app',
    image: 'app:1',
    phase: 'CrashLoopBackOff',
    restartCount: 3,
    containerId: 'app-3',
    waiting: { reason: 'CrashLoopBackOff', message: 'back-off 1m20s restarting failed container=app pod=web_default(uid-1)' },
    lastTerminated: { exitCode: 2, reason: 'Error', startedAt: ts(1000), finishedAt: ts(5000), containerId: 'app-3' },
    priorTerminated: { exitCode: 2, reason: 'Error', startedAt: ts(0), finishedAt: ts(500), containerId: 'app-2' },
    ready: false,
    hasRun: true,
  };
  const running: ContainerView = {
    name: 'side',
    image: 'side:1',
    phase: 'Running',
    restartCount: 0,
    containerId: 'docker://abc',
    startedAt: ts(0),
    ready: true,
    hasRun: true,
  };
  const status = computePodStatus(
    {
      pod,
      podIP: '127.1.0.9',
      hostIP: '127.0.0.1',
      startTime: ts(0),
      containers: [crashLooping, running],
      conditions: { Ready: { status: 'True', lastTransitionTime: ts(100) } },
    },
    T0 + 6000,
  );
  t.equal(status.phase, 'Running');
  t.equal(status.qosClass, 'Guaranteed');
  t.same(status.containerStatuses![0], {
    name: 'app',
    image: 'app:1',
    imageID: 'app:1',
    containerID: 'process://app-3',
    ready: false,
    restartCount: 3,
    started: false,
    state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 1m20s restarting failed container=app pod=web_default(uid-1)' } },
    lastState: {
      terminated: { exitCode: 2, reason: 'Error', startedAt: ts(1000), finishedAt: ts(5000), containerID: 'process://app-3' },
    },
  });
  t.same(status.containerStatuses![1], {
    name: 'side',
    image: 'side:1',
    imageID: 'side:1',
    containerID: 'docker://abc',
    ready: true,
    restartCount: 0,
    started: true,
    state: { running: { startedAt: ts(0) } },
    lastState: {},
  });
  t.same(status.conditions, [
    { type: 'Initialized', status: 'True', lastTransitionTime: ts(0) },
    { type: 'Ready', status: 'False', lastTransitionTime: ts(6000), reason: 'ContainersNotReady', message: 'containers with unready status: [app]' },
    { type: 'ContainersReady', status: 'False', lastTransitionTime: ts(6000), reason: 'ContainersNotReady', message: 'containers with unready status: [app]' },
    { type: 'PodScheduled', status: 'True', lastTransitionTime: '2024-12-31T23:59:00Z' },
  ]);

  // Terminated for good: the last run is the state, the one before it the lastState.
  const done = computePodStatus(
    { pod, podIP: '127.1.0.9', hostIP: '127.0.0.1', startTime: ts(0), containers: [{ ...crashLooping, phase: 'Terminated', waiting: undefined }], conditions: {} },
    T0 + 7000,
  );
  t.equal(done.phase, 'Failed');
  t.match(done.containerStatuses![0].state, { terminated: { exitCode: 2, finishedAt: ts(5000), containerID: 'process://app-3' } });
  t.match(done.containerStatuses![0].lastState, { terminated: { exitCode: 2, finishedAt: ts(500), containerID: 'process://app-2' } });
  t.match(done.conditions!.find((c) => c.type === 'Ready'), { status: 'False', reason: 'PodCompleted' });
  t.equal(computePodStatus({ pod: makePod(['a']), podIP: '', hostIP: '', startTime: ts(0), containers: [], conditions: {} }, T0).qosClass, 'BestEffort');
});

t.test('formatDuration writes Go durations', async (t) => {
  t.equal(formatDuration(10_000), '10s');
  t.equal(formatDuration(80_000), '1m20s');
  t.equal(formatDuration(300_000), '5m0s');
  t.equal(formatDuration(250), '250ms');
  t.equal(formatDuration(1500), '1.5s');
  t.equal(formatDuration(3_600_000), '1h0m0s');
});

t.test('effects not provided: the placeholder actors reject', async (t) => {
  const events: PodEventRecord[] = [];
  const actor = createActor(podMachine.provide({ actions: { recordEvent: (_, e) => void events.push(e) } }), {
    input: { pod: makePod(['app'], 'Never'), nodeName: 'n1', podIP: '127.1.0.2', hostIP: '127.0.0.1', now: () => T0 },
    clock: new SimulatedClock(),
  });
  actor.start();
  await flush();
  t.equal(actor.getSnapshot().value, 'Failed');
  t.match(events.find((e) => e.reason === 'Failed')?.message, /startContainer not provided/);
});

t.test('a missing image: ErrImagePull, then ImagePullBackOff with back-off; Pending, no restart counted, retried whatever the policy', async (t) => {
  const h = run(makePod(['app'], 'Never'));
  await flush();
  const message = 'failed to pull image "app:1": Error response from daemon: No such image: app:1';
  h.rt.failStart('app', new RuntimeError('ErrImagePull', message));
  await flush();
  t.same(h.container('app').state, { waiting: { reason: 'ErrImagePull', message } });
  t.same(h.container('app').lastState, {}, 'no container was created: no terminated state');
  t.equal(h.status().phase, 'Pending');
  t.equal(h.container('app').restartCount, 0);
  t.same(
    h.events.map((e) => [e.type, e.reason, e.message]),
    [
      ['Warning', 'Failed', `Failed to pull image "app:1": Error response from daemon: No such image: app:1`],
      ['Warning', 'Failed', 'Error: ErrImagePull'],
    ],
    'no "already present" Pulled event',
  );
  await h.advance(1000);
  t.same(h.container('app').state, { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "app:1"' } });
  t.equal(h.status().phase, 'Pending');
  t.ok(h.events.some((e) => e.reason === 'BackOff' && e.message === 'Back-off pulling image "app:1"'));
  await h.advance(8_900);
  t.notOk(h.rt.hasPendingStart('app'), 'not before the back-off (10s)');
  await h.advance(100);
  t.ok(h.rt.hasPendingStart('app'), 'pulled again after 10s, even with restartPolicy Never');
  h.rt.failStart('app', new RuntimeError('ErrImagePull', message));
  await flush();
  await h.advance(1000); // ErrImagePull shown, then ImagePullBackOff (the simulated clock fires one step at a time)
  t.equal(h.container('app').state?.waiting?.reason, 'ImagePullBackOff');
  await h.advance(18_900);
  t.notOk(h.rt.hasPendingStart('app'));
  await h.advance(100);
  t.ok(h.rt.hasPendingStart('app'), 'then after 20s');
  t.same(h.rt.startCalls.map((s) => s.restartCount), [0, 0, 0], 'the same instance is tried again');
  h.rt.resolveStart('app');
  await flush();
  t.equal(h.status().phase, 'Running');
  t.equal(h.container('app').restartCount, 0);
});

t.test('pull policy Never and no image: ErrImageNeverPull stays (no back-off message)', async (t) => {
  const h = run(makePod(['app']));
  await flush();
  const message = 'Container image "app:1" is not present with pull policy of Never';
  h.rt.failStart('app', new RuntimeError('ErrImageNeverPull', message));
  await flush();
  t.same(h.container('app').state, { waiting: { reason: 'ErrImageNeverPull', message } });
  await h.advance(2000);
  t.same(h.container('app').state, { waiting: { reason: 'ErrImageNeverPull', message } });
  t.same(
    h.events.map((e) => [e.type, e.reason, e.message]),
    [
      ['Warning', 'ErrImageNeverPull', message],
      ['Warning', 'Failed', 'Error: ErrImageNeverPull'],
    ],
  );
});

t.test('a pod deleted while its image is backing off stops at once', async (t) => {
  const h = run(makePod(['app']));
  await flush();
  h.rt.failStart('app', new RuntimeError('ErrImagePull', 'no such image'));
  await flush();
  await h.advance(1000);
  h.actor.send({ type: 'DELETE', graceMs: 30_000 });
  await flush();
  t.equal(h.finished(), 1);
  t.notOk(h.rt.hasPendingStart('app'));
});
