/**
 * The API server alone (`KUBEACT_BENCH_PARTS=api npm run bench`, or a phase of the main run):
 * one nats-server, the API server in its own process (bench/apiserver/host.ts), and this process
 * as its clients, doing per pod what a cluster does — create, bind (bindMany batches, as the
 * scheduler sends them), a status update and an Event create — each phase with `window`
 * requests in flight, beside raw JetStream KV puts of the same bytes measured in the same run.
 * A watcher of every pod takes the fan-out, as the informers do. Then get / list-page latency
 * while the pods are held. Per phase: requests/s and the API server's CPU per request (from
 * /proc), which is what a loaded machine disturbs least.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NatsConnection } from 'nats';
import { ApiClient } from '../../protocol/client.js';
import { encode } from '../../protocol/codec.js';
import type { KubeObject } from '../../protocol/objects.js';
import { subjects } from '../../protocol/subjects.js';
import { connectNats } from '../../nodes/shared/connect.js';
import { startNatsServer, stopChild, type NatsServerHandle } from '../../nodes/shared/nats-server.js';
import { now } from '../pace.js';
import { summarize, type Summary } from '../stats.js';
import { cpuMs } from '../scale/procfs.js';
import { eventManifest, nodeManifest, podManifest, runningStatus } from './objects.js';

export interface ApiPhase {
  name: string;
  requests: number;
  perS: number;
  /** API server CPU per request (ms); NaN for the KV baseline. */
  serverCpuMs: number;
  natsCpuMs: number;
}

export interface ApiBenchResult {
  pods: number;
  window: number;
  bindBatch: number;
  phases: ApiPhase[];
  get: Summary;
  list: Summary;
  watchEvents: number;
}

export interface ApiBenchOptions {
  pods?: number;
  window?: number;
  bindBatch?: number;
  say?: (line: string) => void;
  /** Extra node flags of the API server process (e.g. `--cpu-prof`, `--cpu-prof-dir=/tmp/p`). */
  serverNodeArgs?: string[];
}

const WARMUP = 300;
const HOST = new URL('./host.js', import.meta.url).pathname;

export async function apiServerBench(opts: ApiBenchOptions = {}): Promise<ApiBenchResult> {
  const pods = opts.pods ?? 3000;
  const window = opts.window ?? 200;
  const bindBatch = opts.bindBatch ?? 64;
  const say = opts.say ?? (() => {});
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kubeact-bench-api-'));
  let nats: NatsServerHandle | undefined;
  let host: ChildProcess | undefined;
  let nc: NatsConnection | undefined;
  try {
    nats = await startNatsServer({ dir });
    host = await startHost(nats.url, opts.serverNodeArgs ?? []);
    // Connected as the cluster's own processes connect (controllers, kubelets).
    nc = await connectNats(nats.url, 'kubeact-bench-api-client');
    const client = new ApiClient(nc, { timeoutMs: 30_000 });
    const serverPid = host.pid!;
    const natsPid = nats.pid;
    const phases: ApiPhase[] = [];
    const phase = async (name: string, count: number, lanes: number, one: (i: number) => Promise<unknown>, perRequest = 1): Promise<void> => {
      const cpu0 = cpuMs(serverPid);
      const ncpu0 = cpuMs(natsPid);
      const t0 = now();
      await inLanes(count, lanes, one);
      const seconds = (now() - t0) / 1000;
      const requests = count * perRequest;
      const p: ApiPhase = { name, requests, perS: requests / seconds, serverCpuMs: (cpuMs(serverPid) - cpu0) / requests, natsCpuMs: (cpuMs(natsPid) - ncpu0) / requests };
      if (name.startsWith('raw')) p.serverCpuMs = NaN;
      phases.push(p);
      say(`  ${name}: ${p.perS.toFixed(0)}/s, API server ${fmtCpu(p.serverCpuMs)} CPU per request, nats-server ${fmtCpu(p.natsCpuMs)}`);
    };

    type Phase = typeof phase;
    /** What a cluster does per pod: create, bind, a status update, an Event. */
    const lifecycle = async (namespace: string, podNames: string[], run: Phase): Promise<void> => {
      const n = podNames.length;
      const created: KubeObject[] = new Array(n);
      await run('pod create', n, window, async (i) => (created[i] = await client.create(podManifest(podNames[i], label, undefined, namespace))));
      await run(
        `bind (bindMany of ${bindBatch})`,
        Math.ceil(n / bindBatch),
        Math.max(1, Math.floor(window / bindBatch)),
        async (b) => {
          const idx = Array.from({ length: Math.min(bindBatch, n - b * bindBatch) }, (_, k) => b * bindBatch + k);
          const errors = await client.bindMany(idx.map((i) => ({ namespace, name: podNames[i], uid: created[i].metadata!.uid, nodeName: `node-${i % 10}` })));
          const failed = errors.find(Boolean);
          if (failed) throw failed;
        },
        bindBatch,
      );
      await run('pod status update', n, window, (i) => client.updateStatus({ ...created[i], spec: { ...created[i].spec, nodeName: `node-${i % 10}` }, status: runningStatus(i), metadata: { ...created[i].metadata, resourceVersion: undefined } }));
      await run('Event create', n, window, (i) => client.create(eventManifest(created[i])));
    };

    // The informers' view: every pod event, counted.
    let watchEvents = 0;
    const watch = nc.subscribe(subjects.watchAll('pods'), { callback: () => void watchEvents++ });
    await nc.flush();

    const label = Date.now().toString(36);
    const names = Array.from({ length: pods }, (_, i) => `api-${label}-${String(i).padStart(6, '0')}`);
    const nodes = 10;
    for (let n = 0; n < nodes; n++) await client.create(nodeManifest(`node-${n}`));
    // Every phase once on a few pods in kube-system first, unmeasured: the JIT warms up.
    const warm = Array.from({ length: WARMUP }, (_, i) => `warm-${label}-${i}`);
    await lifecycle('kube-system', warm, (_name, count, lanes, one) => inLanes(count, lanes, one));
    const podBytes = encode(podManifest(names[0], label, 'node-0'));
    const kv = await nc.jetstream().views.kv('kubeact_bench_api_scratch', { history: 1 });
    await phase('raw KV puts (create)', pods, window, (i) => kv.create(`p${i}`, podBytes));
    await kv.destroy();

    await lifecycle('default', names, phase);
    say(`  holding ${pods} pods: 300 gets, ${Math.min(60, Math.ceil(pods / 500) * 6)} list pages of 500, one at a time`);
    const gets: number[] = [];
    for (let i = 0; i < 300; i++) {
      const t0 = now();
      await client.get('Pod', names[(i * 7919) % pods], 'default');
      gets.push(now() - t0);
    }
    const lists: number[] = [];
    for (let round = 0; lists.length < Math.min(60, Math.ceil(pods / 500) * 6); round++) {
      let cont: string | undefined;
      do {
        const t0 = now();
        const page = await client.list('Pod', { namespace: 'default', limit: 500, continue: cont });
        lists.push(now() - t0);
        cont = page.metadata.continue;
      } while (cont && lists.length < 60);
    }
    watch.unsubscribe();
    return { pods, window, bindBatch, phases, get: summarize(gets), list: summarize(lists), watchEvents };
  } finally {
    await nc?.close().catch(() => {});
    if (host) await stopChild(host, 10_000);
    await nats?.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

function fmtCpu(ms: number): string {
  return Number.isFinite(ms) ? `${(ms * 1000).toFixed(0)} µs` : '—';
}

/** Runs one(i) for i = 0..count-1 with `lanes` calls in flight. */
async function inLanes(count: number, lanes: number, one: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) await one(next++);
  };
  await Promise.all(Array.from({ length: Math.min(lanes, count) }, lane));
}

/** Starts the API server process; resolves once it says `ready`. */
export function startHost(natsUrl: string, nodeArgs: string[], hostArgs: string[] = []): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...nodeArgs, HOST, natsUrl, ...hostArgs], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, KUBEACT_LOG_LEVEL: 'warn' } });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the API server process did not get ready within 60 s'));
    }, 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/^ready$/m.test(out)) {
        clearTimeout(timer);
        child.stdout!.resume();
        resolve(child);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the API server process exited with code ${code} before it was ready: ${out.slice(-500)}`));
    });
  });
}
