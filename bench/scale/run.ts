/**
 * The scale benchmark (`KUBEACT_BENCH_PARTS=scale npm run bench`): a control plane and
 * KUBEACT_SCALE_NODES simulated nodes (one process), then
 *  - throughput: KUBEACT_SCALE_PODS pods created (200 requests in flight), pods/s to bound and
 *    to Running, beside the raw JetStream KV write rate measured in the same run;
 *  - fill: up to KUBEACT_SCALE_HOLD_PODS pods held (default: the throughput pods), the rest
 *    created as kwok users do, by Deployments (or ReplicaSets, KUBEACT_SCALE_HOLD_VIA) of
 *    KUBEACT_SCALE_HOLD_REPLICAS replicas each;
 *  - hold: resident memory of each process, control-plane memory per pod, API get / list page /
 *    create p99 while holding, control-plane CPU spent on heartbeats of idle nodes;
 *  - churn: 20 pods/s created and as many deleted for KUBEACT_SCALE_CHURN_S seconds, startup p99.
 * A progress line every 30 s; a run where nothing moves for KUBEACT_SCALE_STALL_S (300) stops,
 * as does Ctrl-C, and both stop the cluster and keep its logs.
 * Results go to docs/BENCHMARKS.md (the scale section).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { ApiClient } from '../../protocol/client.js';
import { encode } from '../../protocol/codec.js';
import { down } from '../../nodes/launcher/down.js';
import { up } from '../../nodes/launcher/up.js';
import { PACKAGE_ROOT } from '../../nodes/shared/paths.js';
import { DEFAULT_SIM_HEARTBEAT_MS } from '../../nodes/worker/simulated-nodes.js';
import { now, sleep } from '../pace.js';
import { machineInfo } from '../report.js';
import { summarize } from '../stats.js';
import { ScalePods } from './pods.js';
import { Census, censusTable } from './census.js';
import { Progress } from './progress.js';
import { cpuMs, rssBytes } from './procfs.js';
import { renewalLatenessOfFile } from './lateness.js';
import { writeScaleSection, type ScaleReport } from './report.js';
import { createHoldWorkloads, parseHoldKind, splitReplicas } from './workloads.js';

const env = (name: string, def: number) => (process.env[name] ? Number(process.env[name]) : def);
const NODES = env('KUBEACT_SCALE_NODES', 1000);
const PODS = env('KUBEACT_SCALE_PODS', 10_000);
const CHURN_S = env('KUBEACT_SCALE_CHURN_S', 60);
/** Pods held in all: the throughput pods plus as many more as this asks for, made by workloads. */
const HOLD_PODS = Math.max(PODS, env('KUBEACT_SCALE_HOLD_PODS', PODS));
const HOLD_VIA = parseHoldKind(process.env.KUBEACT_SCALE_HOLD_VIA);
const HOLD_REPLICAS = env('KUBEACT_SCALE_HOLD_REPLICAS', 1000);
const STALL_S = env('KUBEACT_SCALE_STALL_S', 300);
const CHURN_RATE = 20;
/** At most this many created pods waiting to be bound (default: no limit, every create at once). */
const MAX_UNBOUND = env('KUBEACT_SCALE_MAX_UNBOUND', Infinity);
/** Count every NATS message of the throughput window (census.ts); doubles nats-server's sends, so the rates of such a run are not comparable. */
const CENSUS = process.env.KUBEACT_SCALE_CENSUS === '1';
const WINDOW = 200;
/** The idle sample before the throughput window (for CPU per pod net of idle). */
const IDLE_BEFORE_MS = 3000;
const API_SAMPLES = 200;
/** The idle window after the API samples, where the CPU of holding is measured (and profiled). */
const IDLE_S = env('KUBEACT_SCALE_IDLE_S', 10);
/** The simulated nodes' default Lease period (simulated-nodes.ts). */
const HEARTBEAT_MS = DEFAULT_SIM_HEARTBEAT_MS;
// Our own blocks: simulated nodes 127.124.0.0/16, pods 127.128.0.0/10 (defaults), services as the main bench.
const SERVICE_NETWORK = '127.98.0.0/16';
const LOAD_BALANCER_POOL = '127.113.0.0/24';

export async function runScale(say: (line: string) => void, signal?: AbortSignal): Promise<void> {
  const machine = machineInfo();
  const home = mkdtempSync(path.join(os.tmpdir(), 'kubeact-scale-home-'));
  const runId = Date.now().toString(36);
  let nc: NatsConnection | undefined;
  let pods: ScalePods | undefined;
  let progress: Progress | undefined;
  const pids: Record<string, number> = {};
  const t0 = now();
  const aborted = new Promise<never>((_, reject) => {
    if (signal?.aborted) reject(new Error('interrupted'));
    signal?.addEventListener('abort', () => reject(new Error('interrupted')), { once: true });
  });
  aborted.catch(() => {});
  const counters = () => ({ created: pods?.created ?? 0, bound: pods?.reached.bound ?? 0, running: pods?.reached.running ?? 0, retries: pods?.retries ?? 0 });
  const rssLine = () => Object.entries(pids).map(([role, pid]) => `${role} ${(rssBytes(pid) / 2 ** 20).toFixed(0)} MiB`).join(', ');
  progress = new Progress(say, counters, rssLine, 30_000, STALL_S * 1000);
  let failed = true;
  try {
    await Promise.race([measure(), aborted, progress.stalled]);
    failed = false;
  } finally {
    progress.stop();
    // Stops the create lanes and every wait, so nothing keeps an interrupted run alive.
    pods?.stop();
    await Promise.race([nc?.close().catch(() => {}), sleep(2000)]);
    await down({ home, say: (l) => say(`  ${l.trim()}`) }).catch((e) => say(`  ! down: ${(e as Error).message}`));
    // A failed run keeps the daemons' logs: why it failed is in them.
    // KUBEACT_SCALE_KEEP_LOGS=1 keeps them after a good run too (nats-server's own log is beside them, in cluster/nats).
    if (failed || process.env.KUBEACT_SCALE_KEEP_LOGS === '1') say(`  logs kept in ${path.join(home, 'cluster', 'logs')}`);
    else rmSync(home, { recursive: true, force: true });
  }

  async function measure(): Promise<void> {
    say(`• scale: kubeact up --nodes 0 --simulated-nodes ${NODES}`);
    const ctx = await up({
      nodes: 0,
      simulatedNodes: NODES,
      home,
      serviceNetwork: SERVICE_NETWORK,
      loadBalancerPool: LOAD_BALANCER_POOL,
      // Simulated pods resolve no names; and a second bench on the machine holds the default DNS address.
      dnsListen: 'off',
      maxPods: Math.max(110, Math.ceil((HOLD_PODS * 2) / NODES)),
      timeoutMs: 60_000 + NODES * 100,
      // e.g. KUBEACT_SCALE_CP_ARGS="--scheduler-max-binds 256"
      controlPlaneArgs: (process.env.KUBEACT_SCALE_CP_ARGS ?? '').split(' ').filter(Boolean),
      // e.g. KUBEACT_SCALE_SIM_ARGS="--heartbeat-thread false"
      simulatedArgs: (process.env.KUBEACT_SCALE_SIM_ARGS ?? '').split(' ').filter(Boolean),
      say: (l) => say(`  ${l.trim()}`),
    });
    const pid = (role: string) => ctx.processes.find((p) => p.role === role)!.pid;
    const cp = (pids['control plane'] = pid('control-plane'));
    const sim = (pids['simulated nodes'] = pid('simulated-nodes'));
    const natsPid = (pids['nats-server'] = pid('nats-server'));
    nc = await connect({ servers: ctx.natsUrl, name: 'kubeact-scale-bench' });
    const client = new ApiClient(nc, { timeoutMs: 60_000 });
    pods = new ScalePods(client, runId);
    await pods.start();
    const cpRssEmpty = rssBytes(cp);
    const simRssEmpty = rssBytes(sim);

    // Baseline: raw KV writes of a pod's bytes, same window, same nats-server.
    say(`• KV baseline: ${PODS} puts of a pod's bytes, ${WINDOW} in flight`);
    const kv = await nc.jetstream().views.kv('kubeact_bench_scale_scratch', { history: 1 });
    const bytes = encode(ScalePods.manifest('x', runId));
    let next = 0;
    const tKv = now();
    await Promise.all(Array.from({ length: WINDOW }, async () => {
      while (next < PODS && !signal?.aborted) await kv.put(`p${next++}`, bytes);
    }));
    const kvPerS = PODS / ((now() - tKv) / 1000);
    await kv.destroy();
    say(`  ${kvPerS.toFixed(0)} KV puts/s`);

    say(`• throughput: ${PODS} pods onto ${NODES} simulated nodes`);
    progress!.start();
    progress!.enter('throughput', true);
    const names = Array.from({ length: PODS }, (_, i) => `scale-${runId}-${i}`);
    const census = CENSUS ? new Census() : undefined;
    await census?.start(ctx.natsUrl);
    // The idle CPU of each process (Leases, metrics) over a few seconds first: CPU per pod is also given net of it,
    // since a window that runs longer on a loaded machine carries more of that idle work per pod.
    const cpuIdle0 = { controlPlane: cpuMs(cp), simulatedNodes: cpuMs(sim), natsServer: cpuMs(natsPid) };
    const tIdle0 = now();
    await sleep(IDLE_BEFORE_MS);
    const cpuAtCreate = { controlPlane: cpuMs(cp), simulatedNodes: cpuMs(sim), natsServer: cpuMs(natsPid) };
    const idlePerMs = (k: keyof typeof cpuAtCreate) => (cpuAtCreate[k] - cpuIdle0[k]) / (now() - tIdle0);
    const idleRate = { controlPlane: idlePerMs('controlPlane'), simulatedNodes: idlePerMs('simulatedNodes'), natsServer: idlePerMs('natsServer') };
    const tCreate = now();
    await pods.createAll(names, WINDOW, undefined, MAX_UNBOUND);
    const createdAt = now();
    await pods.until(() => pods!.reached.bound >= PODS, 60 * 60_000, 'every pod bound');
    const boundAt = now();
    await pods.until(() => pods!.reached.running >= PODS, 60 * 60_000, 'every pod Running');
    const runningAt = now();
    const cpuMsPerPod = { controlPlane: (cpuMs(cp) - cpuAtCreate.controlPlane) / PODS, simulatedNodes: (cpuMs(sim) - cpuAtCreate.simulatedNodes) / PODS, natsServer: (cpuMs(natsPid) - cpuAtCreate.natsServer) / PODS };
    const windowMs = runningAt - tCreate;
    const netOfIdle = (k: keyof typeof cpuMsPerPod) => cpuMsPerPod[k] - (idleRate[k] * windowMs) / PODS;
    const cpuMsPerPodNet = { controlPlane: netOfIdle('controlPlane'), simulatedNodes: netOfIdle('simulatedNodes'), natsServer: netOfIdle('natsServer') };
    if (census) {
      const rows = await census.stop();
      say(`  census of the throughput window (every NATS message; rates of this run are not comparable)${census.incomplete ? ' — INCOMPLETE: nats-server dropped messages to the census' : ''}:\n${censusTable(rows, PODS)}`);
    }
    const rate = (t: number) => PODS / ((t - tCreate) / 1000);
    const simBusyPct = ((cpuMs(sim) - cpuAtCreate.simulatedNodes) / (runningAt - tCreate)) * 100;
    say(`  create ${rate(createdAt).toFixed(0)}/s, bound ${rate(boundAt).toFixed(0)}/s, Running ${rate(runningAt).toFixed(0)}/s; CPU per pod: control plane ${cpuMsPerPod.controlPlane.toFixed(2)} ms, simulated nodes ${cpuMsPerPod.simulatedNodes.toFixed(2)} ms, nats-server ${cpuMsPerPod.natsServer.toFixed(2)} ms (net of idle: ${cpuMsPerPodNet.controlPlane.toFixed(2)} / ${cpuMsPerPodNet.simulatedNodes.toFixed(2)} / ${cpuMsPerPodNet.natsServer.toFixed(2)} ms)`);
    // The host logs its lateness every 5 s: wait for the line covering the window's end.
    await sleep(5500);
    const simLog = ctx.processes.find((p) => p.role === 'simulated-nodes')!.log;
    const leaseLateness = renewalLatenessOfFile(simLog, tCreate, runningAt + 5500);
    say(`  simulated-nodes host CPU over the window: ${simBusyPct.toFixed(0)}% of a core`);
    say(`  Lease renewals during the window: ${leaseLateness.n}, late p50 ${leaseLateness.p50} ms, p99 ${leaseLateness.p99} ms, max ${leaseLateness.max} ms`);

    let fill: ScaleReport['fill'];
    if (HOLD_PODS > PODS) {
      const replicas = splitReplicas(HOLD_PODS - PODS, HOLD_REPLICAS);
      say(`• fill: ${HOLD_PODS - PODS} more pods by ${replicas.length} ${HOLD_VIA}s of up to ${HOLD_REPLICAS} replicas, ${HOLD_PODS} held in all`);
      progress!.enter('fill', true);
      const tFill = now();
      await createHoldWorkloads(client, HOLD_VIA, replicas, runId);
      await pods.until(() => pods!.reached.running >= HOLD_PODS, 4 * 60 * 60_000, `${HOLD_PODS} pods Running`);
      const s = (now() - tFill) / 1000;
      fill = { via: HOLD_VIA, workloads: replicas.length, pods: HOLD_PODS - PODS, seconds: s };
      say(`  ${HOLD_PODS - PODS} pods Running in ${s.toFixed(0)} s (${((HOLD_PODS - PODS) / s).toFixed(0)}/s)`);
    }

    say(`• hold: ${HOLD_PODS} pods — memory, API latency, heartbeat cost`);
    progress!.enter('hold', false);
    const rss = { controlPlane: rssBytes(cp), simulatedNodes: rssBytes(sim), natsServer: rssBytes(natsPid) };
    const get: number[] = [];
    const list: number[] = [];
    const create: number[] = [];
    for (let i = 0; i < API_SAMPLES && !signal?.aborted; i++) {
      let t = now();
      await client.get('Pod', names[Math.floor(Math.random() * PODS)], 'default');
      get.push(now() - t);
      if (i % 10 === 0) {
        t = now();
        await client.list('Pod', { namespace: 'default', limit: 500 });
        list.push(now() - t);
      }
      t = now();
      await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `scale-${runId}-${i}` } });
      create.push(now() - t);
    }
    const cpu0 = cpuMs(cp);
    const simCpu0 = cpuMs(sim);
    await sleep(IDLE_S * 1000);
    const idleCpuPct = ((cpuMs(cp) - cpu0) / (IDLE_S * 1000)) * 100;
    const simIdleCpuPct = ((cpuMs(sim) - simCpu0) / (IDLE_S * 1000)) * 100;
    say(`  RSS control plane ${(rss.controlPlane / 2 ** 20).toFixed(0)} MiB, simulated nodes ${(rss.simulatedNodes / 2 ** 20).toFixed(0)} MiB; idle CPU: control plane ${idleCpuPct.toFixed(1)}%, simulated nodes ${simIdleCpuPct.toFixed(1)}%`);

    say(`• churn: ${CHURN_RATE} pods/s created and deleted for ${CHURN_S} s`);
    progress!.enter('churn', false);
    const churnNames: string[] = [];
    const tChurn = now();
    const inflight: Promise<unknown>[] = [];
    for (let i = 0; now() - tChurn < CHURN_S * 1000 && !signal?.aborted; i++) {
      const at = tChurn + (i * 1000) / CHURN_RATE;
      if (at > now()) await sleep(at - now());
      const name = `churn-${runId}-${i}`;
      churnNames.push(name);
      inflight.push(pods.create(name).catch(() => {}));
      inflight.push(client.delete('Pod', names[i % PODS], { namespace: 'default' }).catch(() => {}));
    }
    await Promise.all(inflight);
    // Churn faster than the scheduler binds leaves a backlog: what did not start in 5 min is
    // counted, not a reason to lose the run's other figures.
    progress!.enter('churn backlog', false);
    await pods.until(() => churnNames.every((n) => pods!.times.get(n)?.running !== undefined), 5 * 60_000, 'churn pods Running').catch(() => {});
    const started = churnNames.filter((n) => pods!.times.get(n)?.running !== undefined);
    const startup = started.map((n) => pods!.times.get(n)!.running! - pods!.times.get(n)!.created!);
    if (started.length < churnNames.length) say(`  ${churnNames.length - started.length} of ${churnNames.length} churn pods not Running after 5 min`);
    progress!.stop();

    const report: ScaleReport = {
      date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      machine,
      durationS: (now() - t0) / 1000,
      nodes: NODES,
      pods: PODS,
      holdPods: HOLD_PODS,
      fill,
      kvPutsPerS: kvPerS,
      createPerS: rate(createdAt),
      boundPerS: rate(boundAt),
      runningPerS: rate(runningAt),
      cpuMsPerPod,
      cpuMsPerPodNet,
      rss,
      cpBytesPerPod: (rss.controlPlane - cpRssEmpty) / HOLD_PODS,
      simBytesPerPod: (rss.simulatedNodes - simRssEmpty) / HOLD_PODS,
      api: { get: summarize(get), list: summarize(list), create: summarize(create) },
      idleCpuPct,
      simIdleCpuPct,
      heartbeatMs: HEARTBEAT_MS,
      churn: { seconds: CHURN_S, rate: CHURN_RATE, startup: summarize(startup), notRunning: churnNames.length - started.length },
      controlPlaneArgs: process.env.KUBEACT_SCALE_CP_ARGS ?? '',
      simulatedArgs: process.env.KUBEACT_SCALE_SIM_ARGS ?? '',
      leaseLateness,
      simBusyPct,
    };
    const file = path.join(PACKAGE_ROOT, 'docs', 'BENCHMARKS.md');
    console.log('\n' + writeScaleSection(file, report));
    say(`written to ${path.relative(process.cwd(), file)}`);
  }
}
