/** The API-server-alone section of docs/BENCHMARKS.md: the latest runs, newest first, kept across `npm run bench`. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Machine } from '../report.js';
import { fmtMs } from '../stats.js';
import type { ApiBenchResult } from './run.js';

export const API_BEGIN = '<!-- apiserver:begin -->';
export const API_END = '<!-- apiserver:end -->';
const RUN = '<!-- apiserver-run -->';
const MAX_RUNS = 5;

export interface ApiBenchReport extends ApiBenchResult {
  date: string;
  machine: Machine;
  durationS: number;
  /** What was measured (a branch, a commit, a change). */
  label?: string;
}

const perCore = (cpuMs: number) => (Number.isFinite(cpuMs) && cpuMs > 0 ? `${(1000 / cpuMs).toFixed(0)}` : '—');
const cpu = (ms: number) => (Number.isFinite(ms) ? `${(ms * 1000).toFixed(0)} µs` : '—');

export function renderApiRun(r: ApiBenchReport): string {
  const m = r.machine;
  const kv = r.phases.find((p) => p.name.startsWith('raw'));
  return [
    `### API server run ${r.date}${r.label ? ` — ${r.label}` : ''}`,
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, node ${m.node}, load ${m.load} at the end, commit ${m.commit}; ${r.durationS.toFixed(0)} s; ${r.pods} pods, ${r.window} requests in flight, binds in bindMany batches of ${r.bindBatch}; ${r.watchEvents} pod watch events received.`,
    '',
    '| phase | requests/s | vs raw KV puts | API server CPU per request | requests per API-server core-second | nats-server CPU per request |',
    '|---|---|---|---|---|---|',
    ...r.phases.map((p) => `| ${p.name} | ${p.perS.toFixed(0)} | ${kv ? `${((p.perS / kv.perS) * 100).toFixed(0)}%` : '—'} | ${cpu(p.serverCpuMs)} | ${perCore(p.serverCpuMs)} | ${cpu(p.natsCpuMs)} |`),
    '',
    `Holding ${r.pods} pods (one request at a time): get p50 / p99 ${fmtMs(r.get.p50)} / ${fmtMs(r.get.p99)}; list page of 500 p50 / p99 ${fmtMs(r.list.p50)} / ${fmtMs(r.list.p99)}.`,
    '',
  ].join('\n');
}

/** Puts the run at the top of the section (creating it), keeping the rest of the file. */
export function writeApiSection(file: string, r: ApiBenchReport): string {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const run = renderApiRun(r);
  let before = text;
  let after = '';
  let runs: string[] = [];
  const b = text.indexOf(API_BEGIN);
  const e = text.indexOf(API_END);
  if (b >= 0 && e > b) {
    before = text.slice(0, b);
    after = text.slice(e + API_END.length);
    runs = text.slice(b + API_BEGIN.length, e).split(RUN).slice(1).map((s) => s.trim()).filter(Boolean);
  }
  const section = [
    API_BEGIN,
    '## API server alone',
    '',
    '`KUBEACT_BENCH_PARTS=api npm run bench` (bench/apiserver/; sizes: KUBEACT_API_PODS, KUBEACT_API_WINDOW). The API server runs in its own',
    'process against one nats-server; this process is its clients. CPU per request is the API server\'s own (from /proc), the',
    'figure a loaded machine disturbs least; requests/s depend on what else runs.',
    '',
    ...[run.trim(), ...runs].slice(0, MAX_RUNS).map((x) => `${RUN}\n${x}\n`),
    API_END,
  ].join('\n');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${before.trimEnd()}\n\n${section}\n${after.trimStart()}`);
  return run;
}

/** The section in a file's text (empty when there is none), so other writers can keep it. */
export function apiSection(text: string): string {
  const b = text.indexOf(API_BEGIN);
  const e = text.indexOf(API_END);
  return b >= 0 && e > b ? text.slice(b, e + API_END.length) : '';
}
