// The scale bench runner's pure parts: how the hold is split into workloads, the progress
// lines and the stall detector (a simulated clock), and the report rows of a hold.
import t from 'tap';
import { Progress } from '../bench/scale/progress.js';
import { renderScaleRun, type ScaleReport } from '../bench/scale/report.js';
import { holdWorkload, parseHoldKind, splitReplicas } from '../bench/scale/workloads.js';
import { validateObject } from '../protocol/validation/index.js';

t.test('the hold is split into workloads of at most N replicas', async (t) => {
  t.same(splitReplicas(90_000, 1000).length, 90);
  t.same(splitReplicas(2500, 1000), [1000, 1000, 500]);
  t.same(splitReplicas(0, 1000), []);
  t.throws(() => splitReplicas(10, 0), /at least 1/);
  t.equal(parseHoldKind(undefined), 'Deployment');
  t.equal(parseHoldKind('rs'), 'ReplicaSet');
  t.throws(() => parseHoldKind('statefulset'), /deployment or replicaset/);
});

t.test('a hold workload is a valid object whose pods carry the bench label', async (t) => {
  for (const kind of ['Deployment', 'ReplicaSet'] as const) {
    const w = holdWorkload(kind, 'hold-abc-0', 1000, 'abc') as any;
    t.same(validateObject(w), [], `${kind} validates`);
    t.equal(w.spec.template.metadata.labels.bench, 'abc');
    t.same(w.spec.selector.matchLabels, { app: 'hold-abc-0' });
  }
});

t.test('progress lines show rates; a waiting phase that stands still stalls, a non-waiting one does not', async (t) => {
  let now = 0;
  let bound = 0;
  const lines: string[] = [];
  const p = new Progress((l) => lines.push(l), () => ({ bound }), () => 'cp 1 MiB', 30_000, 90_000, () => now);
  let stalled: Error | undefined;
  p.stalled.catch((e) => (stalled = e));
  p.start();
  p.enter('throughput', true);
  now = 30_000;
  bound = 300;
  p.tick();
  t.match(lines.at(-1), /\[throughput\] bound 300 \(\+10\/s\); cp 1 MiB; load/);
  for (let i = 0; i < 3; i++) {
    now += 30_000;
    p.tick();
  }
  await new Promise((r) => setImmediate(r));
  t.match(stalled?.message, /nothing moved for 90 s during throughput/);

  const q = new Progress(() => {}, () => ({ bound: 1 }), () => '', 30_000, 90_000, () => now);
  let qStalled = false;
  q.stalled.catch(() => (qStalled = true));
  q.start();
  q.enter('hold', false);
  now += 600_000;
  q.tick();
  await new Promise((r) => setImmediate(r));
  t.notOk(qStalled, 'holding still is not a stall');
  p.stop();
  q.stop();
});

t.test('the report shows the hold size, how it was filled and the host memory per pod', async (t) => {
  const s = { n: 1, p50: 1, p99: 2, mean: 1, min: 1, max: 2 };
  const r: ScaleReport = {
    date: '2026-11-27T11:00:00Z',
    machine: { cpu: 'x', cores: 2, memory: '1 GiB', node: 'v20', os: 'Linux', load: '1', commit: 'abc' },
    durationS: 100, nodes: 1000, pods: 10_000, holdPods: 50_000,
    fill: { via: 'Deployment', workloads: 40, pods: 40_000, seconds: 200 },
    kvPutsPerS: 5000, createPerS: 800, boundPerS: 200, runningPerS: 190,
    rss: { controlPlane: 2 ** 30, simulatedNodes: 2 ** 29, natsServer: 2 ** 26 },
    cpBytesPerPod: 20_480, simBytesPerPod: 5120,
    api: { get: s, list: s, create: s }, idleCpuPct: 10, simIdleCpuPct: 5, heartbeatMs: 10_000,
    churn: { seconds: 10, rate: 20, startup: s }, controlPlaneArgs: '',
  };
  const text = renderScaleRun(r);
  t.match(text, /1000 simulated nodes, 10000 pods, 50000 held/);
  t.match(text, /\| hold fill: 40000 pods by 40 Deployments → Running \| 200 s \(200 pods\/s\) \|/);
  t.match(text, /\| simulated-nodes host RSS per pod \| 5\.0 KiB \|/);
});
