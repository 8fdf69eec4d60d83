/**
 * What the kubelet's resource sampling costs: one sample of N running process containers
 * (N = 10, 100, 500; `stats()` of every container at once, as MetricsSampler asks, answered by
 * one walk of /proc) beside a baseline measured in the same run — N reads of /proc/self/stat —
 * and the kubelet CPU that sampling takes at the default period (5 s). Real containers of the
 * process runtime (`sleep 3600`), no cluster. Also runnable alone: `node dist/bench/sampling.js`.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProcessRuntime } from '../nodes/worker/runtime/process.js';
import { now } from './pace.js';
import { summarize, type Summary } from './stats.js';

export interface SamplingRow {
  containers: number;
  /** Wall time of one sample of all N containers, ms. */
  sample: Summary;
  /** CPU (user + system) of this process per sample, ms. */
  cpuMsPerSample: number;
  /** The baseline: N reads of /proc/self/stat, wall ms. */
  baseline: Summary;
  /** Processes on the host (the /proc walk reads every one of them). */
  hostProcesses: number;
}

export interface SamplingBenchResult {
  periodMs: number;
  rows: SamplingRow[];
}

const SIZES = [10, 100, 500];
const SAMPLES = 20;
const DEFAULT_PERIOD_MS = 5000;

async function baselineOnce(n: number): Promise<number> {
  const t0 = now();
  await Promise.all(Array.from({ length: n }, () => fsp.readFile('/proc/self/stat', 'utf8')));
  return now() - t0;
}

export async function samplingBench(opts: { say?: (line: string) => void; sizes?: number[] } = {}): Promise<SamplingBenchResult> {
  const say = opts.say ?? (() => {});
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeact-bench-sampling-'));
  const rt = new ProcessRuntime({ dataDir, cgroups: 'off' });
  const ids: string[] = [];
  const rows: SamplingRow[] = [];
  try {
    for (const n of opts.sizes ?? SIZES) {
      say(`  ${n} containers: starting ${n - ids.length} more`);
      while (ids.length < n) {
        const podUid = `bench-sampling-${process.pid}-${ids.length}`;
        const h = await rt.start({ id: `${podUid}/main/0`, podUid, podName: podUid, namespace: 'default', name: 'main', image: 'process', argv: ['sleep', '3600'], env: {}, podIP: '127.0.0.1', restartCount: 0 });
        ids.push(h.id);
      }
      const sample = async () => (await Promise.all(ids.map((id) => rt.stats(id)))).filter(Boolean).length;
      if ((await sample()) !== n) throw new Error(`a sample of ${n} containers did not measure them all`);
      const walls: number[] = [];
      const base: number[] = [];
      let cpuMicros = 0;
      for (let i = 0; i < SAMPLES; i++) {
        base.push(await baselineOnce(n)); // interleaved one-for-one, so load changes hit both alike
        const c0 = process.cpuUsage();
        const t0 = now();
        await sample();
        walls.push(now() - t0);
        const c = process.cpuUsage(c0);
        cpuMicros += c.user + c.system;
      }
      const hostProcesses = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).length;
      rows.push({ containers: n, sample: summarize(walls), cpuMsPerSample: cpuMicros / 1000 / SAMPLES, baseline: summarize(base), hostProcesses });
      say(`  ${n} containers: sample p50 ${walls.length ? summarize(walls).p50.toFixed(2) : '?'} ms, ${(cpuMicros / 1000 / SAMPLES).toFixed(2)} ms CPU`);
    }
  } finally {
    await rt.close(); // stops every container it started
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  return { periodMs: DEFAULT_PERIOD_MS, rows };
}

export const SAMPLING_BENCH_DESCRIPTION = `- **Resource sampling** (in the benchmark process, no cluster): one sample of N running process
  containers (\`sleep 3600\`; N = 10, 100, 500) — \`stats()\` of all of them at once, as the kubelet's
  sampler asks, answered by one walk of /proc that reads every process on the host — 20 samples
  each; the CPU share is the CPU time of a sample over the default period (\`--metrics-ms\` 5000).
  *Baseline*: N concurrent reads of \`/proc/self/stat\`, interleaved one-for-one with the samples.
`;

const ms = (v: number) => `${v.toFixed(2)} ms`;

export function samplingRows(r: SamplingBenchResult | undefined): string[] {
  if (!r) return [];
  return r.rows.map((x) =>
    `| Sample of ${x.containers} process containers (one /proc walk, ${x.hostProcesses} host processes): p50 / p99; CPU per sample, share of a ${r.periodMs / 1000} s period | ${ms(x.sample.p50)} / ${ms(x.sample.p99)}; ${ms(x.cpuMsPerSample)} CPU = ${((x.cpuMsPerSample / r.periodMs) * 100).toFixed(3)} % | ${x.containers} reads of /proc/self/stat p50 ${ms(x.baseline.p50)} | ${(x.sample.p50 / x.baseline.p50).toFixed(1)}× |`,
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await samplingBench({ say: console.log });
  console.log(['| Figure | Value | Baseline (same run) | Ratio |', '| --- | --- | --- | --- |', ...samplingRows(r)].join('\n'));
}
