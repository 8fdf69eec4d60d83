/** The scale section of docs/BENCHMARKS.md: the latest runs, newest first, kept across `npm run bench`. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Machine } from '../report.js';
import { fmtMs, type Summary } from '../stats.js';

export const SCALE_BEGIN = '<!-- scale:begin -->';
export const SCALE_END = '<!-- scale:end -->';
const RUN = '<!-- scale-run -->';
const MAX_RUNS = 5;

export interface ScaleReport {
  date: string;
  machine: Machine;
  durationS: number;
  nodes: number;
  /** Throughput pods (created directly). */
  pods: number;
  /** Pods held in all (absent in older runs: the throughput pods). */
  holdPods?: number;
  /** How the pods beyond the throughput ones were made, and how long they took to run. */
  fill?: { via: string; workloads: number; pods: number; seconds: number };
  kvPutsPerS: number;
  createPerS: number;
  boundPerS: number;
  runningPerS: number;
  /** CPU ms per pod from the first create to every pod Running, by process (absent in older runs): the figure load disturbs least. */
  cpuMsPerPod?: { controlPlane: number; simulatedNodes: number; natsServer: number };
  /** The same less each process's idle CPU (measured for 3 s before the window) over the window's length. */
  cpuMsPerPodNet?: { controlPlane: number; simulatedNodes: number; natsServer: number };
  rss: { controlPlane: number; simulatedNodes: number; natsServer: number };
  cpBytesPerPod: number;
  /** RSS growth of the simulated-nodes host per held pod (absent in older runs). */
  simBytesPerPod?: number;
  api: { get: Summary; list: Summary; create: Summary };
  idleCpuPct: number;
  /** CPU of the simulated-nodes host over the same idle window (absent in older runs). */
  simIdleCpuPct?: number;
  heartbeatMs?: number;
  churn: { seconds: number; rate: number; startup: Summary; notRunning?: number };
  /** Extra control-plane flags of the run (KUBEACT_SCALE_CP_ARGS). */
  controlPlaneArgs: string;
  /** Extra simulated-nodes flags of the run (KUBEACT_SCALE_SIM_ARGS; absent in older runs). */
  simulatedArgs?: string;
  /** Lease renewals' lateness against their due time, throughput window (absent in older runs). */
  leaseLateness?: Summary;
  /** CPU of the simulated-nodes host over the throughput window, % of a core (absent in older runs). */
  simBusyPct?: number;
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

export function renderScaleRun(r: ScaleReport): string {
  const m = r.machine;
  return [
    `### Scale run ${r.date} — ${r.nodes} simulated nodes, ${r.pods} pods${r.holdPods && r.holdPods !== r.pods ? `, ${r.holdPods} held` : ''}`,
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memory}, node ${m.node}, ${m.os}, load ${m.load} at the end, commit ${m.commit}; ${r.durationS.toFixed(0)} s; control-plane flags: ${r.controlPlaneArgs || 'defaults'}${r.simulatedArgs ? `; simulated-nodes flags: ${r.simulatedArgs}` : ''}.`,
    '',
    '| measure | value | target |',
    '|---|---|---|',
    `| raw JetStream KV puts (baseline, 200 in flight) | ${r.kvPutsPerS.toFixed(0)}/s | — |`,
    `| pods created (API, 200 in flight) | ${r.createPerS.toFixed(0)}/s | — |`,
    `| create → bound | ${r.boundPerS.toFixed(0)} pods/s (${((r.boundPerS / r.kvPutsPerS) * 100).toFixed(0)}% of KV puts) | ≥ 1,500/s |`,
    `| create → Running | ${r.runningPerS.toFixed(0)} pods/s | — |`,
    ...(r.cpuMsPerPod
      ? [`| CPU per pod, create → Running: control plane / simulated nodes / nats-server | ${r.cpuMsPerPod.controlPlane.toFixed(2)} / ${r.cpuMsPerPod.simulatedNodes.toFixed(2)} / ${r.cpuMsPerPod.natsServer.toFixed(2)} ms | — |`]
      : []),
    ...(r.cpuMsPerPodNet
      ? [`| the same net of each process's idle CPU (Leases, metrics; sampled 3 s before) | ${r.cpuMsPerPodNet.controlPlane.toFixed(2)} / ${r.cpuMsPerPodNet.simulatedNodes.toFixed(2)} / ${r.cpuMsPerPodNet.natsServer.toFixed(2)} ms | — |`]
      : []),
    ...(r.simBusyPct === undefined ? [] : [`| simulated-nodes host CPU over the throughput window | ${r.simBusyPct.toFixed(0)}% of a core | — |`]),
    ...(r.leaseLateness
      ? [`| Lease renewals late during the throughput window (${r.leaseLateness.n}): p50 / p99 / max | ${fmtMs(r.leaseLateness.p50)} / ${fmtMs(r.leaseLateness.p99)} / ${fmtMs(r.leaseLateness.max)} | — |`]
      : []),
    ...(r.fill
      ? [`| hold fill: ${r.fill.pods} pods by ${r.fill.workloads} ${r.fill.via}s → Running | ${r.fill.seconds.toFixed(0)} s (${(r.fill.pods / r.fill.seconds).toFixed(0)} pods/s) | — |`]
      : []),
    `| RSS control plane / simulated nodes / nats-server | ${mib(r.rss.controlPlane)} / ${mib(r.rss.simulatedNodes)} / ${mib(r.rss.natsServer)} | CP ≤ 2 GB at 100k pods |`,
    `| control-plane memory per pod | ${(r.cpBytesPerPod / 1024).toFixed(1)} KiB | ≤ 20 KiB |`,
    ...(r.simBytesPerPod === undefined ? [] : [`| simulated-nodes host RSS per pod | ${(r.simBytesPerPod / 1024).toFixed(1)} KiB | — |`]),
    `| API get p50 / p99 while holding | ${fmtMs(r.api.get.p50)} / ${fmtMs(r.api.get.p99)} | p99 ≤ 100 ms |`,
    `| API list (500-item page) p50 / p99 | ${fmtMs(r.api.list.p50)} / ${fmtMs(r.api.list.p99)} | p99 ≤ 100 ms |`,
    `| API create p50 / p99 | ${fmtMs(r.api.create.p50)} / ${fmtMs(r.api.create.p99)} | p99 ≤ 100 ms |`,
    `| heartbeat cost: control-plane CPU with ${r.nodes} idle nodes (${(r.heartbeatMs ?? 5000) / 1000} s leases) | ${r.idleCpuPct.toFixed(1)}% of a core | — |`,
    ...(r.simIdleCpuPct === undefined ? [] : [`| simulated-nodes host CPU, same idle window | ${r.simIdleCpuPct.toFixed(1)}% of a core | — |`]),
    `| churn ${r.churn.rate} pods/s for ${r.churn.seconds} s: startup p50 / p99 | ${fmtMs(r.churn.startup.p50)} / ${fmtMs(r.churn.startup.p99)}${r.churn.notRunning ? ` (${r.churn.notRunning} not Running after 5 min)` : ''} | — |`,
    '',
  ].join('\n');
}

/** Puts the run at the top of the scale section (creating it), keeping the rest of the file. */
export function writeScaleSection(file: string, r: ScaleReport): string {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const run = renderScaleRun(r);
  let before = text;
  let after = '';
  let runs: string[] = [];
  const b = text.indexOf(SCALE_BEGIN);
  const e = text.indexOf(SCALE_END);
  if (b >= 0 && e > b) {
    before = text.slice(0, b);
    after = text.slice(e + SCALE_END.length);
    runs = text.slice(b + SCALE_BEGIN.length, e).split(RUN).slice(1).map((s) => s.trim()).filter(Boolean);
  }
  const section = [
    SCALE_BEGIN,
    '## Scale (simulated nodes)',
    '',
    '`KUBEACT_BENCH_PARTS=scale npm run bench` (sizes: KUBEACT_SCALE_NODES, KUBEACT_SCALE_PODS, KUBEACT_SCALE_HOLD_PODS, KUBEACT_SCALE_CHURN_S).',
    '',
    ...[run.trim(), ...runs].slice(0, MAX_RUNS).map((x) => `${RUN}\n${x}\n`),
    SCALE_END,
  ].join('\n');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${before.trimEnd()}\n\n${section}\n${after.trimStart()}`);
  return run;
}

/** The scale section of a file's text (empty when there is none), so other writers can keep it. */
export function scaleSection(text: string): string {
  const b = text.indexOf(SCALE_BEGIN);
  const e = text.indexOf(SCALE_END);
  return b >= 0 && e > b ? text.slice(b, e + SCALE_END.length) : '';
}
