#!/usr/bin/env node
/**
 * `KUBEACT_BENCH_PARTS=api npm run bench` (or `node dist/bench/apiserver/main.js`): the API server
 * alone (bench/apiserver/run.ts), printed and written to docs/BENCHMARKS.md.
 * KUBEACT_API_PODS (3000), KUBEACT_API_WINDOW (200), KUBEACT_API_LABEL (a note for the table),
 * KUBEACT_API_PROFILE_DIR (CPU-profile the API server into that directory), KUBEACT_API_NO_WRITE=1 (print only).
 */
import path from 'node:path';
import { PACKAGE_ROOT } from '../../nodes/shared/paths.js';
import { now } from '../pace.js';
import { machineInfo } from '../report.js';
import { renderApiRun, writeApiSection } from './report.js';
import { apiServerBench } from './run.js';

export async function runApiBench(say: (line: string) => void): Promise<void> {
  const t0 = now();
  const env = (name: string, def: number) => (process.env[name] ? Number(process.env[name]) : def);
  const profileDir = process.env.KUBEACT_API_PROFILE_DIR;
  say(`• API server alone: ${env('KUBEACT_API_PODS', 3000)} pods, ${env('KUBEACT_API_WINDOW', 200)} in flight${profileDir ? `, profiled into ${profileDir}` : ''}`);
  const result = await apiServerBench({
    pods: env('KUBEACT_API_PODS', 3000),
    window: env('KUBEACT_API_WINDOW', 200),
    say,
    serverNodeArgs: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
  });
  const report = { ...result, date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), machine: machineInfo(), durationS: (now() - t0) / 1000, label: process.env.KUBEACT_API_LABEL };
  if (process.env.KUBEACT_API_NO_WRITE === '1') {
    console.log('\n' + renderApiRun(report));
    return;
  }
  const file = path.join(PACKAGE_ROOT, 'docs', 'BENCHMARKS.md');
  console.log('\n' + writeApiSection(file, report));
  say(`written to ${path.relative(process.cwd(), file)}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const t0 = now();
  runApiBench((l) => console.log(`[${((now() - t0) / 1000).toFixed(1).padStart(5)}s] ${l}`)).catch((e) => {
    console.error(`API server benchmark failed: ${(e as Error).stack}`);
    process.exitCode = 1;
  });
}
