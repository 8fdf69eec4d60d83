/**
 * The benchmark's results: printed to the terminal and written to docs/BENCHMARKS.md, newest
 * run first (earlier runs are kept below it, up to MAX_RUNS).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dockerLines, type DockerBenchResult } from './docker.js';
import type { FailoverRun } from './failover.js';
import { NETPOL_BENCH_DESCRIPTION, netpolRows, type NetpolBenchResult } from './netpol.js';
import { SCHEDULER_BENCH_DESCRIPTION, schedulerRows, type SchedulerBenchResult } from './scheduler.js';
import { PROXY_BENCH_DESCRIPTION, proxyRows, proxyTargetLines, type ProxyBenchResult } from './proxy.js';
import { DNS_BENCH_DESCRIPTION, dnsRows, type DnsBenchResult } from './dns.js';
import { SAMPLING_BENCH_DESCRIPTION, samplingRows, type SamplingBenchResult } from './sampling.js';
import { VOLUMES_BENCH_DESCRIPTION, volumesRows, type VolumesBenchResult } from './volumes.js';
import type { RolloutResult } from './rollout.js';
import { apiSection } from './apiserver/report.js';
import { scaleSection } from './scale/report.js';
import { fmtMs, fmtRatio, percentile, type Summary } from './stats.js';

export const POD_STARTUP_TARGET_P99_MS = 250;
export const FAILOVER_TARGET_MEDIAN_MS = 5000;
const RUN_MARKER = '<!-- bench-run -->';
const MAX_RUNS = 10;

export interface Machine {
  cpu: string;
  cores: number;
  memory: string;
  node: string;
  os: string;
  load: string;
  commit: string;
}

export interface Figure {
  name: string;
  value: Summary;
  baselineName: string;
  baseline: Summary;
}

export interface Stage {
  name: string;
  summary: Summary;
}

export interface BenchReport {
  date: string;
  machine: Machine;
  durationS: number;
  upMs: number;
  pods: { count: number; perSecond: number; nodes: number; warmup: number };
  podStartup: Figure;
  api: Figure & { count: number; objectBytes: number };
  breakdown: Stage[];
  /** Rolling update of a Deployment (bench/rollout.ts). */
  rollout?: RolloutResult;
  /** Worker SIGKILL failover runs (bench/failover.ts). */
  failover?: { replicas: number; runs: FailoverRun[] };
  /** HTTP through kube-proxy vs straight to the pod (bench/proxy.ts). */
  proxy?: ProxyBenchResult;
  /** NetworkPolicy decision and /proc source lookup per connection (bench/netpol.ts). */
  netpol?: NetpolBenchResult;
  /** A scheduling decision at 1,000 nodes and the scheduler actor's pods/s (bench/scheduler.ts). */
  scheduler?: SchedulerBenchResult;
  /** DNS queries through the kube-dns ClusterIP vs straight to the server (bench/dns.ts). */
  dns?: DnsBenchResult;
  /** One resource sample of N process containers vs N /proc reads (bench/sampling.ts). */
  sampling?: SamplingBenchResult;
  /** Container start with 0, 1 and 3 volume mounts vs a raw spawn (bench/volumes.ts). */
  volumes?: VolumesBenchResult;
  /** Pod startup on the docker runtime vs `docker run -d` (bench/docker.ts). */
  docker?: DockerBenchResult;
  notes: string[];
}

export function machineInfo(): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    load: os.loadavg().map((l) => l.toFixed(2)).join(' / '),
    commit: gitCommit(),
  };
}

/** Short hash of HEAD, `+` when the work tree has changes; `unknown` outside a git checkout. */
function gitCommit(): string {
  try {
    const opts = { encoding: 'utf8' as const, stdio: ['ignore', 'pipe', 'ignore'] as ['ignore', 'pipe', 'ignore'] };
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], opts).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], opts).trim() !== '';
    return dirty ? `${head}+` : head;
  } catch {
    return 'unknown';
  }
}

function figureRows(f: Figure, label: (p: 'p50' | 'p99') => string): string[] {
  return (['p50', 'p99'] as const).map((p) => `| ${label(p)} | ${fmtMs(f.value[p])} | ${f.baselineName} ${p}: ${fmtMs(f.baseline[p])} | ${fmtRatio(f.value[p], f.baseline[p])} |`);
}

/** One run as Markdown (also what the terminal shows). */
export function renderRun(r: BenchReport): string {
  const m = r.machine;
  const met = r.podStartup.value.p99 <= POD_STARTUP_TARGET_P99_MS;
  const lines = [
    `## Run of ${r.date}`,
    '',
    '| Date | CPU | Cores | Memory | Node | OS | Load (1/5/15 min, at start) | Commit |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    `| ${r.date} | ${m.cpu} | ${m.cores} | ${m.memory} | ${m.node} | ${m.os} | ${m.load} | ${m.commit} |`,
    '',
    '| Figure | Value | Baseline (same run) | Ratio |',
    '| --- | --- | --- | --- |',
    ...figureRows(r.podStartup, (p) => `Pod startup ${p}: create → Running seen by a watch (${r.pods.count} pods at ${r.pods.perSecond}/s, ${r.pods.nodes} nodes)`),
    ...figureRows(r.api, (p) => `API create ${p} (${r.api.count} Namespaces, sequential, ${r.api.objectBytes} B stored)`),
    `| \`kubeact up --nodes ${r.pods.nodes}\`: call → all nodes Ready | ${fmtMs(r.upMs)} | — | — |`,
    ...workloadRows(r),
    ...proxyRows(r.proxy),
    ...netpolRows(r.netpol),
    ...schedulerRows(r.scheduler),
    ...dnsRows(r.dns),
    ...samplingRows(r.sampling),
    ...volumesRows(r.volumes),
    '',
    `Target p99 pod startup ≤ ${POD_STARTUP_TARGET_P99_MS} ms: **${met ? 'met' : 'not met'}** (${fmtMs(r.podStartup.value.p99)}).`,
    ...failoverTarget(r),
    ...proxyTargetLines(r.proxy),
    ...dockerLines(r.docker),
    '',
    'Where pod startup time goes (per pod, from the same run; each row is its own distribution, so the p99s do not add up):',
    '',
    '| Stage | p50 | p99 | mean |',
    '| --- | --- | --- | --- |',
    ...r.breakdown.map((s) => `| ${s.name} | ${fmtMs(s.summary.p50)} | ${fmtMs(s.summary.p99)} | ${fmtMs(s.summary.mean)} |`),
  ];
  if (r.notes.length) lines.push('', ...r.notes.map((n) => `- ${n}`));
  lines.push('', `Whole benchmark: ${r.durationS.toFixed(0)} s.`, '');
  return lines.join('\n');
}

/** Table rows of the Deployment rollout and the failover runs, when they ran. */
function workloadRows(r: BenchReport): string[] {
  const rows: string[] = [];
  const ro = r.rollout;
  if (ro) {
    rows.push(
      `| Rollout of a ${ro.replicas}-replica Deployment to a new image (RollingUpdate 25%/25%): set image → rollout status complete | ${fmtMs(ro.rolloutMs)} | ${ro.replicas} pods created at once → all Running: ${fmtMs(ro.directMs)} | ${fmtRatio(ro.rolloutMs, ro.directMs)} |`,
      `| Largest surge during that rollout: max Σ ReplicaSet spec.replicas − ${ro.replicas} (maxSurge ${ro.surgeAllowed}); fewest ready pods (floor ${ro.minReadyAllowed}) | ${ro.maxSurge}; ${ro.minReady} ready | — | — |`,
      `| Deployment of ${ro.replicas} replicas: create → all available | ${fmtMs(ro.deployMs)} | ${ro.replicas} pods created at once → all Running: ${fmtMs(ro.directMs)} | ${fmtRatio(ro.deployMs, ro.directMs)} |`,
    );
  }
  const fo = r.failover;
  if (fo?.runs.length) {
    const median = (f: (x: FailoverRun) => number) => percentile(fo.runs.map(f), 50);
    rows.push(
      `| Failover median of ${fo.runs.length}: worker SIGKILL → all its pods Running on other nodes (${fo.replicas}-replica Deployment) | ${fmtMs(median((x) => x.failoverMs))} | — | — |`,
      `|   of which SIGKILL → node NotReady + unreachable taint (grace 3 s after the last lease renewal) | ${fmtMs(median((x) => x.detectMs))} | — | — |`,
      `|   of which SIGKILL → its pods marked for deletion (+ eviction toleration 1 s) | ${fmtMs(median((x) => x.evictMs))} | — | — |`,
    );
  }
  return rows;
}

function failoverTarget(r: BenchReport): string[] {
  const fo = r.failover;
  if (!fo?.runs.length) return [];
  const median = percentile(fo.runs.map((x) => x.failoverMs), 50);
  const runs = fo.runs.map((x) => `${x.victim} (${x.pods} pods) ${fmtMs(x.failoverMs)}`).join(', ');
  return ['', `Target failover median ≤ ${FAILOVER_TARGET_MEDIAN_MS / 1000} s: **${median <= FAILOVER_TARGET_MEDIAN_MS ? 'met' : 'not met'}** (${fmtMs(median)}; runs: ${runs}).`];
}

const HEADER = `# Benchmarks

Written by \`npm run bench\` (\`bench/run.ts\`); newest run first. The machine these run on is
shared and noisy, so every figure is given beside a baseline measured **in the same run**, and
the ratio is the number to compare between runs and machines.

- **Pod startup**: a 3-node cluster brought up with \`up()\` (nats-server, control plane and three
  workers, each its own process) in a temporary \`KUBEACT_HOME\`. 100 pods (\`sleep 3600\`, 10m cpu)
  are created at 20 pods/s: one \`client.create\` every 50 ms on a fixed schedule, not waiting for
  the previous create. Latency = from just before \`client.create\` to the arrival of the watch
  event (\`client.watch('Pod', …)\`) whose \`status.phase\` is \`Running\`. A few warm-up pods run
  first and are not counted.
  *Baseline*: the same command spawned straight from node the way the process runtime does it
  (\`setpriv --pdeathsig KILL\` wrapper, detached process group, append-mode log fd), from just
  before the log file is opened until the child's \`spawn\` event; 100 spawns at the same pace.
- **API create**: 500 sequential \`client.create\` of a Namespace (request/reply over NATS,
  validation, KV compare-and-set write, wait for the store's watch, reply).
  *Baseline*: a raw JetStream KV \`put\` of the same bytes into a scratch bucket on the same
  nats-server, interleaved one-for-one with the creates.
- **\`kubeact up --nodes 3\`**: from the call to \`up()\` until all three nodes are Ready (the time
  a user waits); no baseline.
- **Rollout**: a 50-replica Deployment (the same container, RollingUpdate defaults: maxSurge 25%
  → 13, maxUnavailable 25% → 12, no readiness probe) rolled to a new image: from the spec write
  \`kubeact set image\` does (the same compare-and-set, made in-process so no CLI start-up is
  counted) until the Deployment, seen by a watch, meets \`kubeact rollout status\`' completion
  condition. The surge is sampled on every ReplicaSet watch event (Σ spec.replicas − 50), the
  fewest ready pods on every pod watch event.
  *Baseline*: 50 pods of the same spec created directly, all at once, until all are Running.
- **Failover**: five runs, each with a fresh 9-replica Deployment spread over the three nodes and
  the control plane's default node-monitor settings (3 s grace, 1 s eviction toleration): a
  worker is SIGKILLed (each run the next node that runs some of the pods), timed until the
  Deployment has its 9 replicas Running again with none on the lost node. The worker is then
  started again with its recorded argv, and the run ends once its node is Ready without the
  taint, the evicted pods are gone and the Deployment is deleted. Median reported; no
  baseline (the floor is set by the grace period and the toleration); target ≤ 5 s.
${PROXY_BENCH_DESCRIPTION}${NETPOL_BENCH_DESCRIPTION}${SCHEDULER_BENCH_DESCRIPTION}${DNS_BENCH_DESCRIPTION}${VOLUMES_BENCH_DESCRIPTION}${SAMPLING_BENCH_DESCRIPTION}- **Breakdown**: the watch also stamps when the pod object was first seen, when it was bound
  (the scheduler's \`spec.nodeName\`) and when the kubelet's first status write arrived; the
  kubelets' own log line \`container started\` (after \`runtime.start\` returned) gives the time
  the process was up. Times from different processes share the wall clock (ms resolution).

Reading the figures: the load average at the start of the run is shown with it. When other work
keeps the machine's cores busy, the control plane cannot keep up with 20 pods/s and pods queue
in front of the scheduler, which binds one pod at a time (a bind is a full API write); the
breakdown's "waiting for earlier binds" row shows that queue. Queueing is not proportional to
the spawn baseline, so on a loaded machine the pod startup ratio grows as well.

`;

export function writeMarkdown(file: string, r: BenchReport): void {
  let previous: string[] = [];
  let scale = '';
  let api = '';
  if (existsSync(file)) {
    let text = readFileSync(file, 'utf8');
    scale = scaleSection(text); // written by the scale benchmark: kept as it is
    if (scale) text = text.replace(scale, '');
    api = apiSection(text); // written by the API server benchmark: kept as it is
    if (api) text = text.replace(api, '');
    previous = text.split(RUN_MARKER).slice(1).map((s) => s.trim()).filter(Boolean);
  }
  const runs = [renderRun(r).trim(), ...previous].slice(0, MAX_RUNS);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, HEADER + runs.map((run) => `${RUN_MARKER}\n${run}\n`).join('\n') + (scale ? `\n${scale}\n` : '') + (api ? `\n${api}\n` : ''));
}
