/**
 * The scheduler's own cost, in the benchmark process (no cluster, no NATS): a synthetic
 * 1,000-node / 10,000-placed-pod snapshot, then
 *  - decision: one `schedulePod` call per pod (filter from the rotating start until 420 nodes
 *    fit, score, pick), beside a plain loop over the same 420 nodes (read allocatable, compare)
 *    measured in the same run;
 *  - machine: pending pods through the XState machine (POD_UPSERT → decide → assume → BIND to the
 *    binder → BIND_RESULTS → bound version back as POD_UPSERT), the binder answering each BIND at
 *    once: pods/s the scheduler actor can place when nothing else limits it.
 * Also runnable alone: `node dist/bench/scheduler.js`.
 */
import { fileURLToPath } from 'node:url';
import { createActor, fromCallback } from 'xstate';
import type { Node, Pod } from '../protocol/objects.js';
import { addPod, newNodeInfo, podInfo, scheduleOnNodes, schedulerMachine, setNode, type BindEvent, type NodeInfo } from '../actors/scheduler/index.js';
import { batchedSender } from '../nodes/scheduler/watch-batch.js';
import { now } from './pace.js';
import { summarize, type Summary } from './stats.js';

export const SCHED_NODES = 1000;
export const SCHED_PLACED = 10_000;
const OWNERS = 100;
const DECISIONS = 5000;
const MACHINE_PODS = 3000;

export interface SchedulerBenchResult {
  nodes: number;
  placed: number;
  /** ms per decision, per batch of 100. */
  decision: Summary;
  /** ms per loop over as many nodes as a decision filters, per batch of 100. */
  loop: Summary;
  machinePods: number;
  /** Pending pods placed per second through the machine (binds answering at once). */
  machinePodsPerSec: number;
  /** CPU time (user + system) of the process per pod over the same stretch: less noisy than wall time on a loaded machine. */
  machineCpuMsPerPod: number;
}

export function benchNode(i: number): Node {
  const name = `sim-${String(i).padStart(4, '0')}`;
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' } },
    spec: {},
    status: {
      allocatable: { cpu: '32', memory: '128Gi', pods: '110' },
      capacity: { cpu: '32', memory: '128Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  };
}

export function benchPod(name: string, owner: number, nodeName?: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      resourceVersion: '1',
      labels: { app: `app-${owner}`, 'pod-template-hash': `h${owner}` },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `rs-${owner}`, uid: `uid-rs-${owner}`, controller: true }],
    },
    spec: { nodeName, containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '100m', memory: '64Mi' } } }] },
    status: { phase: nodeName ? 'Running' : 'Pending' },
  };
}

function snapshot(): { nodes: Node[]; placed: Pod[] } {
  const nodes = Array.from({ length: SCHED_NODES }, (_, i) => benchNode(i));
  // Deterministic, uneven spread: node i holds between 0 and 19 pods.
  const placed: Pod[] = [];
  for (let p = 0; p < SCHED_PLACED; p++) placed.push(benchPod(`placed-${p}`, p % OWNERS, nodes[(p * 7919) % SCHED_NODES].metadata!.name!));
  return { nodes, placed };
}

function decisionSamples(nodes: Node[], placed: Pod[]): { decision: number[]; loop: number[] } {
  // The scheduler machine's index: one NodeInfo per node with its running totals.
  const byNode = new Map<string, NodeInfo>();
  const totals = new Map<string, number>();
  for (const node of nodes) {
    const ni = newNodeInfo(node.metadata!.name!);
    setNode(ni, node);
    byNode.set(ni.name, ni);
  }
  for (const p of placed) {
    const info = podInfo(p);
    addPod(byNode.get(info.nodeName!)!, `default/${info.name}`, info, totals);
  }
  const infos = [...byNode.values()];
  const pods = Array.from({ length: 64 }, (_, i) => benchPod(`new-${i}`, i % OWNERS));
  const decision: number[] = [];
  const loop: number[] = [];
  let start = 0;
  let sink = 0;
  const stats = { evaluated: 0 };
  for (let b = 0; b < DECISIONS / 100; b++) {
    let t0 = now();
    for (let i = 0; i < 100; i++) {
      const r = scheduleOnNodes(pods[(b * 100 + i) % pods.length], infos, totals, undefined, undefined, { start, stats });
      start = (start + stats.evaluated) % nodes.length;
      if ('nodeName' in r) sink++;
    }
    decision.push((now() - t0) / 100);
    // Baseline: touch as many nodes as a decision filters (420 of 1,000), the least a filter pass does.
    t0 = now();
    for (let i = 0; i < 100; i++) {
      for (let k = 0; k < stats.evaluated; k++) {
        const alloc = nodes[(start + k) % nodes.length].status!.allocatable!;
        if (alloc.cpu !== '0') sink++;
      }
    }
    loop.push((now() - t0) / 100);
  }
  if (sink < 0) console.log(sink);
  return { decision, loop };
}

async function machinePodsPerSec(nodes: Node[], placed: Pod[]): Promise<{ podsPerSec: number; cpuMsPerPod: number }> {
  let bound = 0;
  const actor = createActor(
    schedulerMachine.provide({
      actors: {
        // Every BIND answered on the next microtask with all its binds bound, as one BIND_RESULTS.
        binder: fromCallback<BindEvent>(({ sendBack, receive }) => receive((ev) => queueMicrotask(() => sendBack({ type: 'BIND_RESULTS', results: ev.binds })))),
      },
      actions: {
        // The bound version comes back as the pod watch would deliver it.
        reportScheduled: (_, p) => {
          bound++;
          const pod = benchPod(p.name, Number(p.name.slice(2)) % OWNERS, p.nodeName);
          queueMicrotask(() => feed({ type: 'POD_UPSERT', pod }));
        },
      },
    }),
    { input: {} },
  ).start();
  // As the host feeds its watches: events arriving together go as one BATCH.
  const feed = batchedSender((ev) => actor.send(ev));
  for (const node of nodes) feed({ type: 'NODE_UPSERT', node });
  for (const pod of placed) feed({ type: 'POD_UPSERT', pod });
  await new Promise((r) => setImmediate(r));
  const t0 = now();
  const cpu0 = process.cpuUsage();
  // Created in bursts of 50, as a ReplicaSet controller's creates come back through the watch.
  for (let i = 0; i < MACHINE_PODS; i++) {
    feed({ type: 'POD_UPSERT', pod: benchPod(`m-${i}`, i % OWNERS) });
    if (i % 50 === 49) await new Promise((r) => setImmediate(r));
  }
  const deadline = Date.now() + 120_000;
  while (bound < MACHINE_PODS) {
    if (Date.now() > deadline) throw new Error(`scheduler machine bench: ${bound}/${MACHINE_PODS} bound after 120 s`);
    await new Promise((r) => setImmediate(r));
  }
  const ms = now() - t0;
  const cpu = process.cpuUsage(cpu0);
  actor.stop();
  return { podsPerSec: (MACHINE_PODS * 1000) / ms, cpuMsPerPod: (cpu.user + cpu.system) / 1000 / MACHINE_PODS };
}

export async function schedulerBench(opts: { say?: (line: string) => void } = {}): Promise<SchedulerBenchResult> {
  const say = opts.say ?? (() => {});
  const { nodes, placed } = snapshot();
  say(`  decision: ${DECISIONS} pods against ${SCHED_NODES} nodes holding ${SCHED_PLACED} pods`);
  const { decision, loop } = decisionSamples(nodes, placed);
  say(`  machine: ${MACHINE_PODS} pending pods through the scheduler actor`);
  const machine = await machinePodsPerSec(nodes, placed);
  return { nodes: SCHED_NODES, placed: SCHED_PLACED, decision: summarize(decision), loop: summarize(loop), machinePods: MACHINE_PODS, machinePodsPerSec: machine.podsPerSec, machineCpuMsPerPod: machine.cpuMsPerPod };
}

export const SCHEDULER_BENCH_DESCRIPTION = `- **Scheduler** (in the benchmark process, no cluster): one decision for a pod of a 100-ReplicaSet
  workload against ${SCHED_NODES.toLocaleString('en')} nodes holding ${SCHED_PLACED.toLocaleString('en')} pods (filter from the rotating start until
  420 fit, score, pick; batches of 100), against a plain loop over as many nodes measured in the same
  run; and ${MACHINE_PODS.toLocaleString('en')} pending pods through the scheduler actor (decide → assume → BIND → BIND_RESULTS → bound
  version back), the binder answering at once.
`;

const us = (ms: number) => `${(ms * 1000).toFixed(ms < 0.01 ? 2 : 1)} µs`;

export function schedulerRows(r: SchedulerBenchResult | undefined): string[] {
  if (!r) return [];
  return [
    `| Scheduling decision (${r.nodes.toLocaleString('en')} nodes, ${r.placed.toLocaleString('en')} pods placed) | p50 ${us(r.decision.p50)}, p99 ${us(r.decision.p99)} | plain loop over the filtered nodes p50 ${us(r.loop.p50)} | ${(r.decision.p50 / r.loop.p50).toFixed(1)}× |`,
    `| Scheduler actor, pending → bound (binds answer at once) | ${Math.round(r.machinePodsPerSec).toLocaleString('en')} pods/s, CPU ${us(r.machineCpuMsPerPod)} per pod | one decision p50 ${us(r.decision.p50)} → ${Math.round(1 / (r.decision.p50 / 1000)).toLocaleString('en')}/s | ${((1000 / r.machinePodsPerSec) / r.decision.p50).toFixed(1)}× |`,
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await schedulerBench({ say: console.log });
  console.log(['| Figure | Value | Baseline (same run) | Ratio |', '| --- | --- | --- | --- |', ...schedulerRows(r)].join('\n'));
}
