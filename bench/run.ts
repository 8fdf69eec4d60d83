/**
 * `npm run bench`: pod startup and API latency on a real 3-node cluster on this machine, each
 * beside a baseline measured in the same run, then a Deployment rollout, worker failover and
 * HTTP through kube-proxy, the cost of NetworkPolicy checks, DNS through the kube-dns ClusterIP and volume mounts; printed, and written to docs/BENCHMARKS.md.
 * Everything it starts is stopped again, also on failure or Ctrl-C.
 * KUBEACT_BENCH_PARTS=scale runs the scale benchmark instead (bench/scale/run.ts);
 * KUBEACT_BENCH_PARTS=api the API server alone (bench/apiserver/), which the full run also ends with.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { ApiClient } from '../protocol/client.js';
import { isAlive } from '../nodes/launcher/context.js';
import { down } from '../nodes/launcher/down.js';
import { up } from '../nodes/launcher/up.js';
import { PACKAGE_ROOT } from '../nodes/shared/paths.js';
import { apiLatency } from './api-latency.js';
import { SpawnBaseline } from './baseline.js';
import { breakdown } from './breakdown.js';
import { failoverBench } from './failover.js';
import { now } from './pace.js';
import { PodBench, readContainerStarts } from './pod-startup.js';
import { netpolBench } from './netpol.js';
import { schedulerBench } from './scheduler.js';
import { dockerBenchUnavailable, dockerStartupBench } from './docker.js';
import { proxyBench } from './proxy.js';
import { dnsBench } from './dns.js';
import { samplingBench } from './sampling.js';
import { volumesBench } from './volumes.js';
import { machineInfo, renderRun, writeMarkdown, type BenchReport } from './report.js';
import { rolloutBench } from './rollout.js';
import { summarize } from './stats.js';
import { runScale } from './scale/run.js';
import { runApiBench } from './apiserver/main.js';

const NODES = 3;
const PODS = 100;
const WARMUP_PODS = 6;
const INTERVAL_MS = 50; // 20 pods/s
const API_CREATES = 500;
const API_WARMUP = 20;
const ROLLOUT_REPLICAS = 50;
const FAILOVER_RUNS = 5;
const FAILOVER_REPLICAS = 9;
const VOLUME_ROUNDS = 40;
// Our own loopback blocks, outside the default cluster's and the tests' (see test/helpers/blocks.ts).
const NODE_NETWORK = '127.0.252.0/24';
const POD_NETWORK = '127.96.0.0/16';
const SERVICE_NETWORK = '127.98.0.0/16';
const LOAD_BALANCER_POOL = '127.113.0.0/24';
const COMMAND = ['sleep', '3600'];
const keepLogs = process.env.KUBEACT_BENCH_KEEP_LOGS === '1';

const t0 = now();
const say = (line: string) => console.log(`[${((now() - t0) / 1000).toFixed(1).padStart(5)}s] ${line}`);

const scaleAbort = new AbortController();

async function main(): Promise<void> {
  if (process.env.KUBEACT_BENCH_PARTS === 'scale') {
    console.log(`kubeact scale benchmark — ${machineInfo().cpu}, ${machineInfo().cores} cores, load ${machineInfo().load}`);
    // Ctrl-C / SIGTERM: stop waiting; runScale's cleanup stops the cluster.
    // A second Ctrl-C while the cluster stops exits at once (the default signal action).
    process.once('SIGINT', () => scaleAbort.abort());
    process.once('SIGTERM', () => scaleAbort.abort());
    await runScale(say, scaleAbort.signal).catch((e) => {
      // Interrupted on purpose: say so, no stack trace (the cluster is stopped and its logs kept).
      if (scaleAbort.signal.aborted) console.error('\nscale benchmark interrupted');
      else console.error(`\nscale benchmark failed: ${(e as Error).stack}`);
      process.exitCode = scaleAbort.signal.aborted ? 130 : 1;
    });
    // Whatever an interrupted run still had in flight (requests to a cluster now gone) must not keep it alive.
    if (scaleAbort.signal.aborted) process.exit(process.exitCode);
    return;
  }
  if (process.env.KUBEACT_BENCH_PARTS === 'api') {
    console.log(`kubeact API server benchmark — ${machineInfo().cpu}, ${machineInfo().cores} cores, load ${machineInfo().load}`);
    await runApiBench(say).catch((e) => {
      console.error(`\nAPI server benchmark failed: ${(e as Error).stack}`);
      process.exitCode = 1;
    });
    return;
  }
  const runId = Date.now().toString(36);
  const machine = machineInfo();
  const home = mkdtempSync(path.join(os.tmpdir(), 'kubeact-bench-home-'));
  const spawnDir = mkdtempSync(path.join(os.tmpdir(), 'kubeact-bench-spawn-'));
  const abort = new AbortController();
  const onSignal = () => {
    if (abort.signal.aborted) process.exit(130);
    say('interrupted: cleaning up (again to quit at once)');
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const spawner = new SpawnBaseline();
  let nc: NatsConnection | undefined;
  let pods: PodBench | undefined;
  console.log(`kubeact benchmark — ${machine.cpu}, ${machine.cores} cores, ${machine.memory}, node ${machine.node}, load ${machine.load}`);
  try {
    say(`• phase 1: kubeact up --nodes ${NODES} (cluster home ${home})`);
    const tUp = now();
    const ctx = await up({ nodes: NODES, home, nodeNetwork: NODE_NETWORK, podNetwork: POD_NETWORK, serviceNetwork: SERVICE_NETWORK, loadBalancerPool: LOAD_BALANCER_POOL, say: (l) => say(`  ${l.trim()}`) });
    const upMs = now() - tUp;
    say(`  cluster up in ${(upMs / 1000).toFixed(2)} s`);
    nc = await connect({ servers: ctx.natsUrl, name: 'kubeact-bench' });
    const client = new ApiClient(nc, { timeoutMs: 10_000 });
    pods = new PodBench(client, runId);
    await pods.start();

    say(`• warm-up: ${WARMUP_PODS} pods (not counted), then deleted`);
    const warm = await pods.run(names('warm', WARMUP_PODS, runId), INTERVAL_MS, { timeoutMs: 30_000, every: WARMUP_PODS, say, signal: abort.signal });
    await pods.deleteAll(warm.map((t) => t.name), 30_000, say);

    say(`• phase 2: baseline — ${PODS} × spawn(${spawner.wrapped ? 'setpriv --pdeathsig KILL -- ' : ''}${COMMAND.join(' ')}) from node at ${1000 / INTERVAL_MS}/s`);
    const spawnMs = await spawner.run({ argv: COMMAND, count: PODS, intervalMs: INTERVAL_MS, dir: spawnDir, signal: abort.signal, say });
    say(`  killing ${spawner.running} baseline processes`);
    await spawner.killAll();

    say(`• phase 3: pod startup — ${PODS} pods (${COMMAND.join(' ')}, 10m cpu) at ${1000 / INTERVAL_MS}/s on ${NODES} nodes`);
    const timelines = await pods.run(names('pod', PODS, runId), INTERVAL_MS, { timeoutMs: 60_000, every: 20, say, signal: abort.signal });
    const startup = timelines.map((t) => t.running! - t.create!);
    say(`  deleting ${PODS} pods`);
    await pods.deleteAll(timelines.map((t) => t.name), 60_000, say);

    say(`• phase 4: API create latency — ${API_CREATES} sequential Namespace creates, interleaved with raw KV puts (after ${API_WARMUP} of each as warm-up)`);
    const api = await apiLatency(client, nc, { count: API_CREATES, warmup: API_WARMUP, runId, say, signal: abort.signal });

    say(`• phase 5: rollout — ${ROLLOUT_REPLICAS} pods at once (baseline), then a ${ROLLOUT_REPLICAS}-replica Deployment rolled to a new image`);
    const rollout = await rolloutBench(client, { replicas: ROLLOUT_REPLICAS, runId, say, signal: abort.signal });

    say(`• phase 6: failover — ${FAILOVER_RUNS} runs: SIGKILL a worker under a ${FAILOVER_REPLICAS}-replica Deployment, restart it`);
    const failovers = await failoverBench(client, ctx, { runs: FAILOVER_RUNS, replicas: FAILOVER_REPLICAS, runId, say, signal: abort.signal });

    say('• phase 7: kube-proxy — HTTP through a ClusterIP vs straight to the pod IP (keep-alive clients)');
    const workerPids = ctx.processes.filter((p) => p.role === 'worker' && isAlive(p.pid)).map((p) => p.pid);
    const proxy = await proxyBench(client, { runId, serviceNetwork: SERVICE_NETWORK, say, signal: abort.signal, workerPids });

    say('• phase 8: NetworkPolicy — the decision and the /proc source lookup per connection, vs a fresh loopback connect');
    const netpol = await netpolBench({ say });
    say('• phase 8b: scheduler — one decision at 1,000 nodes / 10,000 pods vs a plain loop over the nodes; pods/s through the scheduler actor');
    const scheduler = await schedulerBench({ say });
    say('• phase 9: cluster DNS — A queries through the kube-dns ClusterIP vs straight to the DNS server');
    const dns = await dnsBench(client, ctx, { runId, say, signal: abort.signal });
    say('• phase 9b: resource sampling — one sample of 10/100/500 process containers vs as many /proc/self/stat reads');
    const sampling = await samplingBench({ say });
    // Phase 8 only where a Docker engine answers (with the locally imported test image).
    const noDocker = await dockerBenchUnavailable();
    let docker;
    if (noDocker) say(`• phase 10 skipped: ${noDocker}`);
    else {
      say('• phase 10: pod startup on the docker runtime vs `docker run -d` of the same image');
      docker = await dockerStartupBench({ pairs: 10, say, signal: abort.signal });
    }

    say(`• phase 11: volume mounts — container start with 0, 1 and 3 mounts vs a raw spawn, ${VOLUME_ROUNDS} interleaved rounds`);
    const volumes = await volumesBench({ rounds: VOLUME_ROUNDS, say, signal: abort.signal });

    const offset = Date.now() - now(); // kubelet log times are Date.now(); ours are timeOrigin-based
    const starts = readContainerStarts(path.join(ctx.clusterDir, 'logs'));
    for (const t of timelines) {
      const wall = t.uid ? starts.get(t.uid) : undefined;
      if (wall !== undefined) t.containerStarted = wall - offset;
    }
    const report: BenchReport = {
      date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      machine,
      durationS: (now() - t0) / 1000,
      upMs,
      pods: { count: PODS, perSecond: 1000 / INTERVAL_MS, nodes: NODES, warmup: WARMUP_PODS },
      podStartup: { name: 'pod startup', value: summarize(startup), baselineName: 'spawn', baseline: summarize(spawnMs) },
      api: { name: 'API create', value: summarize(api.create), baselineName: 'KV put', baseline: summarize(api.kvPut), count: API_CREATES, objectBytes: api.objectBytes },
      breakdown: breakdown(timelines),
      rollout,
      failover: { replicas: FAILOVER_REPLICAS, runs: failovers },
      proxy,
      netpol,
      scheduler,
      dns,
      sampling,
      docker,
      volumes,
      notes: [
        spawner.wrapped ? 'Containers and baseline both wrapped with setpriv --pdeathsig KILL.' : 'setpriv with --pdeathsig not available: containers and baseline spawned unwrapped.',
        `Pods per node: ${perNode(timelines)}; watch events per pod until Running: ${summarize(timelines.map((t) => t.events)).mean.toFixed(1)} on average.`,
      ],
    };
    console.log('\n' + renderRun(report));
    const file = path.join(PACKAGE_ROOT, 'docs', 'BENCHMARKS.md');
    writeMarkdown(file, report);
    say(`written to ${path.relative(process.cwd(), file)}`);
    await runApiBench(say);
  } catch (e) {
    console.error(`\nbenchmark failed: ${(e as Error).message}`);
    if (keepLogs) console.error(`cluster logs kept in ${path.join(home, 'cluster', 'logs')}`);
    else console.error('(the cluster logs are removed on exit; KUBEACT_BENCH_KEEP_LOGS=1 keeps them)');
    process.exitCode = 1;
  } finally {
    say('• cleaning up');
    await spawner.killAll().catch(() => {});
    if (pods) {
      if (pods.created.size) await pods.deleteAll([...pods.created], 20_000).catch((e) => say(`  ! deleting pods: ${(e as Error).message}`));
      pods.stop();
    }
    await nc?.close().catch(() => {});
    await down({ home, say: (l) => say(`  ${l.trim()}`) }).catch((e) => say(`  ! down: ${(e as Error).message}`));
    if (keepLogs) rmSync(path.join(home, 'cluster', 'nodes'), { recursive: true, force: true });
    else rmSync(home, { recursive: true, force: true });
    rmSync(spawnDir, { recursive: true, force: true });
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    say('done');
  }
}

function names(kind: string, count: number, runId: string): string[] {
  return Array.from({ length: count }, (_, i) => `bench-${runId}-${kind}-${String(i).padStart(3, '0')}`);
}

function perNode(timelines: { node?: string }[]): string {
  const counts = new Map<string, number>();
  for (const t of timelines) counts.set(t.node ?? '?', (counts.get(t.node ?? '?') ?? 0) + 1);
  return [...counts].sort().map(([n, c]) => `${n} ${c}`).join(', ');
}

void main();
