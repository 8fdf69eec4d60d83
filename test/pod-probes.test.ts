/**
 * Container probes in the pod actor (actors/pod/probe.ts and the container machine): pure,
 * driven by a SimulatedClock; the runtime and `runProbe` are fakes whose promises the test
 * settles. No NATS, no processes, no sleeps.
 */
import t from 'tap';
import { createActor, fromPromise, SimulatedClock } from 'xstate';
import type { Container, ContainerStatus, Pod, PodStatus } from '../protocol/objects.js';
import { nowTimestamp } from '../protocol/objects.js';
import type { ExitStatus } from '../nodes/worker/runtime/types.js';
import {
  podMachine,
  probeConfig,
  type PodEventRecord,
  type Probe,
  type ProbeKind,
  type RunProbeInput,
  type RunProbeOutput,
  type StartContainerInput,
  type StartContainerOutput,
} from '../actors/pod/index.js';

const T0 = Date.parse('2025-01-01T00:00:00Z');
const POD_IP = '127.64.0.5';

function makePod(container: Partial<Container>, spec: Partial<Pod['spec']> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', uid: 'uid-1' },
    spec: { restartPolicy: 'Always', nodeName: 'n1', ...spec, containers: [{ name: 'app', image: 'app:1', ...container }] },
  };
}

const http = (extra: Partial<Probe> = {}): Probe => ({ httpGet: { path: '/healthz', port: 8080 }, ...extra });

interface Deferred<T> {
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}

/** Starts, waits and stops are promises the test settles; stop kills at once (exit 143). */
class FakeRuntime {
  readonly pendingStarts: Array<StartContainerInput & Deferred<StartContainerOutput>> = [];
  readonly stopCalls: Array<{ containerId: string; graceMs: number }> = [];
  readonly live = new Set<string>();
  private readonly waits = new Map<string, Deferred<ExitStatus>>();
  private readonly exits = new Map<string, ExitStatus>();

  constructor(private readonly clock: SimulatedClock) {}

  start(input: StartContainerInput): Promise<StartContainerOutput> {
    return new Promise((resolve, reject) => this.pendingStarts.push({ ...input, resolve, reject }));
  }

  wait(id: string): Promise<ExitStatus> {
    const done = this.exits.get(id);
    if (done) return Promise.resolve(done);
    return new Promise((resolve, reject) => this.waits.set(id, { resolve, reject }));
  }

  stop(id: string, graceMs: number): Promise<ExitStatus> {
    this.stopCalls.push({ containerId: id, graceMs });
    return Promise.resolve(this.finish(id, 143, 'Error'));
  }

  hasPendingStart(): boolean {
    return this.pendingStarts.length > 0;
  }

  resolveStart(): string {
    const s = this.pendingStarts.shift();
    if (!s) throw new Error('no pending start');
    const id = `${s.container}-${s.restartCount}`;
    this.live.add(id);
    s.resolve({ containerId: id, startedAt: nowTimestamp(this.clock.now()) });
    return id;
  }

  exit(id: string, code: number): void {
    this.finish(id, code, code === 0 ? 'Completed' : 'Error');
  }

  private finish(id: string, exitCode: number, reason: string): ExitStatus {
    const existing = this.exits.get(id);
    if (existing) return existing;
    const exit: ExitStatus = { exitCode, reason, finishedAt: nowTimestamp(this.clock.now()) };
    this.exits.set(id, exit);
    this.live.delete(id);
    this.waits.get(id)?.resolve(exit);
    this.waits.delete(id);
    return exit;
  }
}

interface ProbeCall extends Deferred<RunProbeOutput> {
  input: RunProbeInput;
  at: number;
  settled: boolean;
  aborted: boolean;
}

/** The injected `runProbe`: every call is a pending promise the test answers. */
class FakeProber {
  readonly calls: ProbeCall[] = [];

  constructor(private readonly clock: SimulatedClock) {}

  run(input: RunProbeInput, signal: AbortSignal): Promise<RunProbeOutput> {
    return new Promise((resolve, reject) => {
      const call: ProbeCall = { input, at: this.clock.now() - T0, settled: false, aborted: false, resolve, reject };
      signal.addEventListener('abort', () => (call.aborted = true));
      this.calls.push(call);
    });
  }

  of(kind: ProbeKind): ProbeCall[] {
    return this.calls.filter((c) => c.input.probe === kind);
  }

  pending(kind?: ProbeKind): ProbeCall[] {
    return this.calls.filter((c) => !c.settled && !c.aborted && (!kind || c.input.probe === kind));
  }

  /** Answers the oldest pending probe of `kind`. */
  answer(kind: ProbeKind, ok: boolean, message = ok ? '' : 'HTTP probe failed with statuscode: 500'): void {
    const call = this.pending(kind)[0];
    if (!call) throw new Error(`no pending ${kind} probe`);
    call.settled = true;
    call.resolve({ ok, message });
  }

  fail(kind: ProbeKind, error: Error): void {
    const call = this.pending(kind)[0];
    if (!call) throw new Error(`no pending ${kind} probe`);
    call.settled = true;
    call.reject(error);
  }
}

/** JSON-serializable: primitives, arrays and plain objects only (no functions, refs, class instances). */
function plainData(v: unknown): boolean {
  if (v === null || v === undefined || ['string', 'number', 'boolean'].includes(typeof v)) return true;
  if (Array.isArray(v)) return v.every(plainData);
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) return Object.values(v as object).every(plainData);
  return false;
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

function run(pod: Pod) {
  const clock = new SimulatedClock();
  clock.set(T0);
  const rt = new FakeRuntime(clock);
  const prober = new FakeProber(clock);
  const statuses: PodStatus[] = [];
  const events: PodEventRecord[] = [];
  let finished = 0;
  const machine = podMachine.provide({
    actors: {
      startContainer: fromPromise(({ input }: { input: StartContainerInput }) => rt.start(input)),
      waitContainer: fromPromise(({ input }: { input: { containerId: string } }) => rt.wait(input.containerId)),
      stopContainer: fromPromise(({ input }: { input: { containerId: string; graceMs: number } }) => rt.stop(input.containerId, input.graceMs)),
      runProbe: fromPromise<RunProbeOutput, RunProbeInput>(({ input, signal }) => prober.run(input, signal)),
    },
    actions: {
      publishStatus: (_, status) => void statuses.push(status),
      recordEvent: (_, record) => void events.push(record),
      podFinished: () => void finished++,
    },
  });
  const actor = createActor(machine, { input: { pod, nodeName: 'n1', podIP: POD_IP, hostIP: '127.0.0.1', now: () => clock.now() }, clock });
  actor.start();
  const status = () => statuses[statuses.length - 1];
  const h = {
    actor,
    clock,
    rt,
    prober,
    events,
    finished: () => finished,
    status,
    app: (): ContainerStatus => status().containerStatuses![0],
    condition: (type: string) => status().conditions!.find((c) => c.type === type)!,
    /** Moves simulated time one step (at most one period per step), then lets the consequences settle. */
    advance: async (ms: number) => {
      clock.increment(ms);
      await flush();
    },
    answer: async (kind: ProbeKind, ok: boolean, message?: string) => {
      prober.answer(kind, ok, message);
      await flush();
    },
    /** The start resolves: the container runs. */
    started: async () => {
      await flush();
      const id = rt.resolveStart();
      await flush();
      return id;
    },
    unhealthy: () => events.filter((e) => e.reason === 'Unhealthy').map((e) => e.message),
    killing: () => events.filter((e) => e.reason === 'Killing').map((e) => e.message),
  };
  return h;
}

t.test('probeConfig applies the kubelet defaults', async (t) => {
  t.same(probeConfig({ exec: { command: ['true'] } }, 'readiness'), {
    spec: { exec: { command: ['true'] } },
    initialDelayMs: 0,
    periodMs: 10_000,
    timeoutMs: 1000,
    successThreshold: 1,
    failureThreshold: 3,
  });
  const c = probeConfig(http({ initialDelaySeconds: 5, periodSeconds: 2, timeoutSeconds: 3, successThreshold: 4, failureThreshold: 6, terminationGracePeriodSeconds: 9 }), 'liveness');
  t.match(c, { initialDelayMs: 5000, periodMs: 2000, timeoutMs: 3000, successThreshold: 1, failureThreshold: 6, terminationGraceMs: 9000 });
  t.equal(probeConfig(http({ successThreshold: 4 }), 'readiness').successThreshold, 4);
});

t.test('readiness: ready after successThreshold successes, unready after failureThreshold failures', async (t) => {
  const spec = http({ periodSeconds: 5, successThreshold: 2, failureThreshold: 3 });
  const h = run(makePod({ readinessProbe: spec }));
  await h.started();
  t.equal(h.status().phase, 'Running');
  t.match(h.app(), { ready: false, started: true, state: { running: {} } });
  t.equal(h.condition('Ready').status, 'False');
  t.equal(h.prober.calls.length, 1, 'first probe right away (initialDelaySeconds 0)');
  t.same(h.prober.calls[0].input, { pod: h.actor.getSnapshot().context.pod, container: 'app', probe: 'readiness', spec, podIP: POD_IP });

  await h.answer('readiness', true);
  t.equal(h.app().ready, false, '1 success of 2: not ready yet');
  await h.advance(4_999);
  t.equal(h.prober.calls.length, 1, 'no probe before the period');
  await h.advance(1);
  t.equal(h.prober.calls.length, 2, 'one probe per period');
  t.equal(h.prober.calls[1].at, 5000);
  await h.answer('readiness', true);
  t.equal(h.app().ready, true, '2 successes: ready');
  t.match(h.condition('Ready'), { status: 'True', lastTransitionTime: nowTimestamp(T0 + 5000) });
  t.equal(h.condition('ContainersReady').status, 'True');

  for (let i = 1; i <= 3; i++) {
    await h.advance(5000);
    await h.answer('readiness', false);
    t.equal(h.app().ready, i < 3, `after ${i} failure(s)`);
  }
  t.match(h.condition('Ready'), { status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [app]', lastTransitionTime: nowTimestamp(T0 + 20_000) });
  t.equal(h.condition('ContainersReady').status, 'False');
  t.same(h.unhealthy(), Array(3).fill('Readiness probe failed: HTTP probe failed with statuscode: 500'));
  t.equal(h.events.find((e) => e.reason === 'Unhealthy')!.type, 'Warning');
  t.equal(h.events.find((e) => e.reason === 'Unhealthy')!.container, 'app');
  t.equal(h.status().phase, 'Running', 'an unready container keeps running');
  t.same(h.rt.stopCalls, [], 'readiness never kills');

  // Failures interrupted by a success start counting over; successes bring it back.
  await h.advance(5000);
  await h.answer('readiness', true);
  t.equal(h.app().ready, false);
  await h.advance(5000);
  await h.answer('readiness', true);
  t.equal(h.app().ready, true, 'ready again after 2 successes');
  t.equal(h.condition('Ready').status, 'True');
});

t.test('a rejected probe counts as a failure, with its error as the message', async (t) => {
  const h = run(makePod({ readinessProbe: http({ periodSeconds: 1, failureThreshold: 1 }) }));
  await h.started();
  await h.answer('readiness', true);
  t.equal(h.app().ready, true);
  await h.advance(1000);
  h.prober.fail('readiness', new Error('boom'));
  await flush();
  t.equal(h.app().ready, false);
  t.same(h.unhealthy(), ['Readiness probe failed: boom']);
});

t.test('initialDelaySeconds: no probe before it, then one per period', async (t) => {
  const h = run(makePod({ readinessProbe: http({ initialDelaySeconds: 10, periodSeconds: 3 }) }));
  await h.started();
  for (let s = 1; s < 10; s++) await h.advance(1000);
  t.equal(h.prober.calls.length, 0, 'nothing during the initial delay');
  t.equal(h.app().ready, false, 'not ready while the probe has not passed');
  await h.advance(1000);
  t.equal(h.prober.calls.length, 1, 'first probe at initialDelaySeconds');
  t.equal(h.prober.calls[0].at, 10_000);
  await h.answer('readiness', true);
  t.equal(h.app().ready, true);
  await h.advance(3000);
  t.equal(h.prober.calls.at(-1)!.at, 13_000);
});

t.test('the period counts from the start of a probe; a slow probe is followed by the next at once', async (t) => {
  const h = run(makePod({ readinessProbe: http({ periodSeconds: 5 }) }));
  await h.started();
  await h.advance(5000);
  await h.advance(2000);
  t.equal(h.prober.calls.length, 1, 'never two probes of a kind in flight');
  await h.answer('readiness', true);
  t.equal(h.prober.calls.length, 2, 'the period that ended meanwhile is kept: probed again at once');
  t.equal(h.prober.calls[1].at, 7000);
  await h.answer('readiness', true);
  await h.advance(3000);
  t.equal(h.prober.calls.length, 3, 'back on the period ticks (10s)');
});

t.test('liveness: failureThreshold failures kill the container (pod grace), restart with restartCount 1 after back-off', async (t) => {
  const h = run(makePod({ livenessProbe: http({ periodSeconds: 10, failureThreshold: 3 }) }, { terminationGracePeriodSeconds: 7 }));
  await h.started();
  t.match(h.app(), { ready: true, started: true }, 'no readiness probe: ready when running');
  await h.answer('liveness', true);
  await h.advance(10_000);
  await h.answer('liveness', false, 'Get "http://127.64.0.5:8080/healthz": dial tcp 127.64.0.5:8080: connect: connection refused');
  await h.advance(10_000);
  await h.answer('liveness', false, 'Get "http://127.64.0.5:8080/healthz": dial tcp 127.64.0.5:8080: connect: connection refused');
  t.same(h.rt.stopCalls, [], 'not killed before failureThreshold');
  await h.advance(10_000);
  await h.answer('liveness', false, 'Get "http://127.64.0.5:8080/healthz": dial tcp 127.64.0.5:8080: connect: connection refused');

  t.same(h.rt.stopCalls, [{ containerId: 'app-0', graceMs: 7000 }], 'killed with the pod grace');
  t.same(h.unhealthy(), Array(3).fill('Liveness probe failed: Get "http://127.64.0.5:8080/healthz": dial tcp 127.64.0.5:8080: connect: connection refused'));
  t.same(h.killing(), ['Container app failed liveness probe, will be restarted']);
  t.same(
    h.events.filter((e) => e.reason === 'Unhealthy' || e.reason === 'Killing').map((e) => e.reason),
    ['Unhealthy', 'Unhealthy', 'Unhealthy', 'Killing'],
    'Unhealthy, then Killing',
  );
  t.equal(h.status().phase, 'Running');
  t.match(h.app(), { ready: false, restartCount: 0, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 143 } } });
  t.equal(h.prober.pending().length, 0);

  await h.advance(10_000);
  t.ok(h.rt.hasPendingStart(), 'restarted after the back-off');
  t.equal(h.rt.pendingStarts[0].restartCount, 1);
  const calls = h.prober.calls.length;
  await h.started();
  t.match(h.app(), { restartCount: 1, ready: true, state: { running: {} } });
  t.equal(h.prober.calls.length, calls + 1, 'the new instance is probed');
  await h.answer('liveness', true);
  await h.advance(10_000);
  t.same(h.rt.stopCalls.length, 1, 'counting started over for the new instance');
});

t.test('liveness with restartPolicy Never: killed, not restarted, pod Failed', async (t) => {
  const h = run(makePod({ livenessProbe: { exec: { command: ['sh', '-c', 'exit 1'] }, periodSeconds: 1, failureThreshold: 1 } }, { restartPolicy: 'Never' }));
  await h.started();
  await h.answer('liveness', false, 'command "sh -c exit 1" exited with 1');
  t.same(h.killing(), ['Container app failed liveness probe']);
  t.equal(h.status().phase, 'Failed');
  t.match(h.app(), { restartCount: 0, ready: false, started: false, state: { terminated: { exitCode: 143 } } });
  await h.advance(1000);
  t.equal(h.prober.calls.length, 1, 'no probes after the container stopped');
});

t.test('probe-level terminationGracePeriodSeconds overrides the pod grace for the kill', async (t) => {
  const h = run(makePod({ livenessProbe: http({ failureThreshold: 1, terminationGracePeriodSeconds: 2 }) }, { terminationGracePeriodSeconds: 60 }));
  await h.started();
  await h.answer('liveness', false);
  t.same(h.rt.stopCalls, [{ containerId: 'app-0', graceMs: 2000 }]);
});

t.test('startup probe gates readiness and liveness', async (t) => {
  const h = run(
    makePod({
      startupProbe: http({ periodSeconds: 1, failureThreshold: 30 }),
      readinessProbe: http({ periodSeconds: 5 }),
      livenessProbe: http({ periodSeconds: 5, failureThreshold: 1 }),
    }),
  );
  await h.started();
  t.match(h.app(), { ready: false, started: false, state: { running: {} } });
  t.equal(h.status().phase, 'Running');
  for (let i = 0; i < 3; i++) {
    await h.answer('startup', false, 'dial tcp 127.64.0.5:8080: connect: connection refused');
    await h.advance(1000);
  }
  t.same(
    h.prober.calls.map((c) => c.input.probe),
    ['startup', 'startup', 'startup', 'startup'],
    'only the startup probe runs until it passes',
  );
  t.match(h.app(), { ready: false, started: false });
  t.same(h.unhealthy(), Array(3).fill('Startup probe failed: dial tcp 127.64.0.5:8080: connect: connection refused'));
  t.same(h.rt.stopCalls, [], 'below failureThreshold: not killed');

  await h.answer('startup', true);
  t.match(h.app(), { started: true, ready: false }, 'started; readiness not passed yet');
  t.same(h.prober.pending().map((c) => c.input.probe).sort(), ['liveness', 'readiness'], 'readiness and liveness start once started');
  await h.advance(1000);
  t.equal(h.prober.of('startup').length, 4, 'the startup probe stops once passed');
  await h.answer('readiness', true);
  await h.answer('liveness', true);
  t.match(h.app(), { started: true, ready: true });
  t.equal(h.condition('Ready').status, 'True');

  // Container and probe-worker contexts stay plain data.
  type Inspectable = { getSnapshot(): { context: unknown; children: Record<string, Inspectable> } };
  const container = h.actor.getSnapshot().children['container:app'] as unknown as Inspectable;
  const containerContext = container.getSnapshot().context;
  t.ok(plainData(containerContext), 'container context is plain data');
  const workers = Object.values(container.getSnapshot().children);
  t.equal(workers.length, 2, 'readiness and liveness workers');
  for (const w of workers) t.ok(plainData(w.getSnapshot().context), 'worker context is plain data');
});

t.test('startup probe failing failureThreshold times kills and restarts the container', async (t) => {
  const h = run(
    makePod({ startupProbe: http({ periodSeconds: 1, failureThreshold: 2 }), livenessProbe: http() }, { terminationGracePeriodSeconds: 3 }),
  );
  await h.started();
  await h.answer('startup', false);
  await h.advance(1000);
  await h.answer('startup', false);
  t.same(h.rt.stopCalls, [{ containerId: 'app-0', graceMs: 3000 }]);
  t.same(h.killing(), ['Container app failed startup probe, will be restarted']);
  t.equal(h.prober.of('liveness').length, 0, 'liveness never ran');
  t.equal(h.app().state?.waiting?.reason, 'CrashLoopBackOff');
  await h.advance(10_000);
  await h.started();
  t.match(h.app(), { restartCount: 1, started: false });
  t.equal(h.prober.pending('startup').length, 1, 'the new instance starts with its startup probe');
});

t.test('probes stop when the container exits, and a late answer is ignored', async (t) => {
  const h = run(makePod({ readinessProbe: http({ periodSeconds: 1 }) }));
  const id = await h.started();
  await h.answer('readiness', true);
  await h.advance(1000);
  const inFlight = h.prober.pending('readiness')[0];
  h.rt.exit(id, 1);
  await flush();
  t.equal(h.app().state?.waiting?.reason, 'CrashLoopBackOff');
  t.ok(inFlight.aborted, 'the probe in flight is aborted');
  for (let s = 0; s < 5; s++) await h.advance(1000);
  t.equal(h.prober.calls.length, 2, 'no probes while the container is not running');
  inFlight.resolve({ ok: false, message: 'late' });
  await flush();
  t.same(h.unhealthy(), [], 'the late answer about a stopped instance is ignored');
});

t.test('probes stop after deletion', async (t) => {
  const h = run(makePod({ readinessProbe: http({ periodSeconds: 1 }), livenessProbe: http({ periodSeconds: 1 }) }));
  await h.started();
  await h.answer('readiness', true);
  await h.answer('liveness', true);
  await h.advance(1000);
  const inFlight = h.prober.pending();
  t.equal(inFlight.length, 2);
  h.actor.send({ type: 'DELETE', graceMs: 1000 });
  await flush();
  t.equal(h.finished(), 1);
  t.ok(inFlight.every((c) => c.aborted), 'probes in flight aborted');
  t.same(h.killing(), ['Stopping container app'], 'deletion, not a probe kill');
  const calls = h.prober.calls.length;
  for (let s = 0; s < 30; s++) await h.advance(1000);
  t.equal(h.prober.calls.length, calls, 'no probe after deletion');
});

t.test('deletion during a probe kill: no restart', async (t) => {
  const h = run(makePod({ livenessProbe: http({ failureThreshold: 1 }) }));
  await h.started();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const stop = h.rt.stop.bind(h.rt);
  h.rt.stop = (id, grace) => gate.then(() => stop(id, grace));
  await h.answer('liveness', false);
  t.same(h.killing(), ['Container app failed liveness probe, will be restarted']);
  h.actor.send({ type: 'DELETE', graceMs: 0 });
  await flush();
  release();
  await flush();
  t.equal(h.finished(), 1);
  t.equal(h.rt.stopCalls.length, 1);
  await h.advance(60_000);
  t.notOk(h.rt.hasPendingStart(), 'not restarted');
});
