/**
 * kube-proxy: HTTP through a ClusterIP against HTTP straight to the pod IP, same pod, same
 * run, interleaved so both paths see the same machine noise. The pod serves a small JSON
 * answer on its pod IP; the Service (no selector) has that one pod as its endpoint, written by
 * the benchmark. Clients are node's `http` with keep-alive agents, in this process.
 *
 *  - Latency: one keep-alive connection, sequential requests; chunks of `chunk` requests
 *    alternate between the two paths until each has `latencyRequests` samples. p50/p99 each,
 *    and the p50 the proxy adds.
 *  - Throughput: `connections` keep-alive connections, each sending its next request when the
 *    answer arrives, for `roundMs`; `rounds` pairs of rounds, one per path, the order swapped
 *    every pair (D P, P D, …) so drift in the machine's load cancels out. The ratio is the median
 *    of the pairs' ratios (robust to a round hit by other work); requests per second are medians
 *    of the rounds; and the latency under that load.
 *
 * Standalone (without the rest of the benchmark): `node dist/bench/proxy.js` brings up its own
 * one-node cluster in a temporary home.
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { ApiClient } from '../protocol/client.js';
import type { KubeObject } from '../protocol/objects.js';
import { hostAddress, parseCidr } from '../nodes/shared/cidr.js';
import { now, throwIfAborted } from './pace.js';
import { runIfMain } from './standalone.js';
import { percentile, summarize, type Summary } from './stats.js';

export const PROXY_TARGET_THROUGHPUT_RATIO = 0.7;
export const PROXY_TARGET_ADDED_P50_MS = 0.2;

export interface ProxyBenchOptions {
  runId: string;
  /** The cluster's service CIDR (the ClusterIP is taken from it). */
  serviceNetwork: string;
  say: (line: string) => void;
  signal?: AbortSignal;
  latencyRequests?: number;
  chunk?: number;
  connections?: number;
  rounds?: number;
  roundMs?: number;
  namespace?: string;
  /** The worker processes (kube-proxy runs in them): their CPU time gives the proxy's cost per request. */
  workerPids?: number[];
}

export interface PathFigures {
  /** Sequential requests on one connection (ms). */
  latency: Summary;
  /** Requests per second of each throughput round. */
  rps: number[];
  /** Request latency during the throughput rounds (ms). */
  loadedLatency: Summary;
}

export interface ProxyBenchResult {
  clusterIP: string;
  podIP: string;
  connections: number;
  rounds: number;
  roundMs: number;
  latencyRequests: number;
  direct: PathFigures;
  proxied: PathFigures;
  /** Response body size (bytes). */
  bodyBytes: number;
  /** Proxied / direct requests per second of each pair of adjacent rounds. */
  pairRatios: number[];
  /**
   * CPU per request (µs) during the throughput rounds: the worker processes' (proxied rounds
   * minus their background, taken from the direct rounds), and this process' HTTP client.
   */
  cpu?: { proxyUs: number; clientDirectUs: number; clientProxiedUs: number };
}

/** utime + stime of a process, in µs (Linux /proc; undefined elsewhere or when it is gone). */
function processCpuUs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100; // clock ticks (USER_HZ = 100)
  } catch {
    return undefined;
  }
}

function workersCpuUs(pids: number[]): number | undefined {
  let sum = 0;
  for (const pid of pids) {
    const v = processCpuUs(pid);
    if (v === undefined) return undefined;
    sum += v;
  }
  return sum;
}

const SERVER = [
  "const http = require('http');",
  "const body = JSON.stringify({ pod: process.env.POD_NAME, ip: process.env.POD_IP, padding: 'x'.repeat(64) });",
  "const server = http.createServer((req, res) => { res.setHeader('content-type', 'application/json'); res.end(body); });",
  'server.keepAliveTimeout = 120000;',
  'server.listen(8080, process.env.POD_IP);',
  "process.on('SIGTERM', () => process.exit(0));",
].join('\n');

/** One GET on `agent`; resolves with the body length. */
function get(agent: http.Agent, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, path: '/', agent }, (res) => {
      let n = 0;
      res.on('data', (d: Buffer) => (n += d.length));
      res.on('end', () => (res.statusCode === 200 ? resolve(n) : reject(new Error(`HTTP ${res.statusCode} from ${host}:${port}`))));
      res.on('error', reject);
    });
    req.setTimeout(5000, () => req.destroy(new Error(`GET ${host}:${port} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

async function until<T>(what: string, fn: () => Promise<T>, timeoutMs: number, signal?: AbortSignal): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    throwIfAborted(signal);
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms (${(e as Error).message})`);
    }
    await new Promise((r) => setTimeout(r, 50)); // retry interval of a deadline loop
  }
}

export async function proxyBench(client: ApiClient, opts: ProxyBenchOptions): Promise<ProxyBenchResult> {
  const { runId, say, signal } = opts;
  const ns = opts.namespace ?? 'default';
  const latencyRequests = opts.latencyRequests ?? 3000;
  const chunk = opts.chunk ?? 250;
  const connections = opts.connections ?? 8;
  const rounds = opts.rounds ?? 8;
  const roundMs = opts.roundMs ?? 1000;
  const name = `bench-${runId}-proxy`;
  const clusterIP = hostAddress(parseCidr(opts.serviceNetwork), 200);
  const cleanup: (() => Promise<unknown>)[] = [];
  try {
    const pod: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: ns, labels: { 'kubeact-bench': 'proxy' } },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'web',
            image: 'kubeact/bench-http:1.0',
            command: [process.execPath, '-e', SERVER],
            ports: [{ name: 'http', containerPort: 8080 }],
            readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
          },
        ],
      },
    };
    await client.create(pod);
    cleanup.push(() => client.delete('Pod', name, { namespace: ns }));
    const ready = await client.waitFor(
      'Pod',
      name,
      ns,
      (p) => !!p?.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True'),
      60_000,
    );
    const podIP = ready!.status.podIP as string;
    await client.create({
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name, namespace: ns },
      subsets: [{ addresses: [{ ip: podIP, nodeName: ready!.spec.nodeName, targetRef: { kind: 'Pod', namespace: ns, name, uid: ready!.metadata!.uid } }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }],
    } as KubeObject);
    cleanup.push(() => client.delete('Endpoints', name, { namespace: ns }));
    await client.create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: ns },
      spec: { type: 'ClusterIP', clusterIP, ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }] },
    });
    cleanup.push(() => client.delete('Service', name, { namespace: ns }));
    say(`  pod ${podIP}:8080 on ${ready!.spec.nodeName}; Service ${clusterIP}:80`);

    const direct = { host: podIP, port: 8080 };
    const proxied = { host: clusterIP, port: 80 };
    const probe = new http.Agent({ keepAlive: true, maxSockets: 1 });
    await until('the ClusterIP answering', () => get(probe, proxied.host, proxied.port), 30_000, signal);
    probe.destroy();

    // Warm-up: both paths, not counted.
    const bodyBytes = await sequential(direct, 300, signal).then((r) => r.bytes);
    await sequential(proxied, 300, signal);

    say(`  latency: ${latencyRequests} sequential requests per path on one keep-alive connection, alternating in chunks of ${chunk}`);
    const lat = { direct: [] as number[], proxied: [] as number[] };
    const agents = { direct: new http.Agent({ keepAlive: true, maxSockets: 1 }), proxied: new http.Agent({ keepAlive: true, maxSockets: 1 }) };
    try {
      while (lat.direct.length < latencyRequests) {
        for (const which of ['direct', 'proxied'] as const) {
          const target = which === 'direct' ? direct : proxied;
          for (let i = 0; i < chunk; i++) {
            const t0 = now();
            await get(agents[which], target.host, target.port);
            lat[which].push(now() - t0);
          }
          throwIfAborted(signal);
        }
      }
    } finally {
      agents.direct.destroy();
      agents.proxied.destroy();
    }

    say(`  throughput: ${connections} keep-alive connections, ${rounds} pairs of ${roundMs} ms rounds (direct/proxied, order swapped every pair)`);
    const rps = { direct: [] as number[], proxied: [] as number[] };
    const loaded = { direct: [] as number[], proxied: [] as number[] };
    const pairRatios: number[] = [];
    const pids = opts.workerPids ?? [];
    const spent = { direct: { workers: 0, client: 0, requests: 0, ms: 0 }, proxied: { workers: 0, client: 0, requests: 0, ms: 0 } };
    let cpuKnown = pids.length > 0;
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? (['direct', 'proxied'] as const) : (['proxied', 'direct'] as const);
      const pair: Record<string, number> = {};
      for (const which of order) {
        const target = which === 'direct' ? direct : proxied;
        const w0 = workersCpuUs(pids);
        const c0 = process.cpuUsage();
        const t0 = now();
        const res = await closedLoop(target, connections, roundMs, signal);
        const c1 = process.cpuUsage(c0);
        const w1 = workersCpuUs(pids);
        if (w0 === undefined || w1 === undefined) cpuKnown = false;
        else spent[which].workers += w1 - w0;
        spent[which].client += c1.user + c1.system;
        spent[which].requests += res.latencies.length;
        spent[which].ms += now() - t0;
        rps[which].push(res.rps);
        loaded[which].push(...res.latencies);
        pair[which] = res.rps;
      }
      pairRatios.push(pair.proxied / pair.direct);
      say(`    pair ${r + 1}: direct ${pair.direct.toFixed(0)} req/s, proxied ${pair.proxied.toFixed(0)} req/s (${(pair.proxied / pair.direct).toFixed(2)}×)`);
    }
    return {
      clusterIP,
      podIP,
      connections,
      rounds,
      roundMs,
      latencyRequests,
      bodyBytes,
      pairRatios,
      ...(spent.direct.requests && spent.proxied.requests
        ? {
            cpu: {
              // The workers' background CPU (kubelet, heartbeats) per ms, from the direct rounds, is taken off.
              proxyUs: cpuKnown ? (spent.proxied.workers - (spent.direct.workers / spent.direct.ms) * spent.proxied.ms) / spent.proxied.requests : NaN,
              clientDirectUs: spent.direct.client / spent.direct.requests,
              clientProxiedUs: spent.proxied.client / spent.proxied.requests,
            },
          }
        : {}),
      direct: { latency: summarize(lat.direct), rps: rps.direct, loadedLatency: summarize(loaded.direct) },
      proxied: { latency: summarize(lat.proxied), rps: rps.proxied, loadedLatency: summarize(loaded.proxied) },
    };
  } finally {
    for (const c of cleanup.reverse()) await c().catch(() => {});
  }
}

async function sequential(target: { host: string; port: number }, count: number, signal?: AbortSignal): Promise<{ bytes: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let bytes = 0;
  try {
    for (let i = 0; i < count; i++) bytes = await get(agent, target.host, target.port);
    throwIfAborted(signal);
  } finally {
    agent.destroy();
  }
  return { bytes };
}

/** `connections` workers, each sending its next request when the answer arrives, for `ms`. */
async function closedLoop(target: { host: string; port: number }, connections: number, ms: number, signal?: AbortSignal): Promise<{ rps: number; latencies: number[] }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const latencies: number[] = [];
  const t0 = now();
  const end = t0 + ms;
  try {
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (now() < end && !signal?.aborted) {
          const s = now();
          await get(agent, target.host, target.port);
          latencies.push(now() - s);
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  throwIfAborted(signal);
  return { rps: latencies.length / ((now() - t0) / 1000), latencies };
}

const median = (xs: number[]) => percentile(xs, 50);
const us = (ms: number) => (Number.isFinite(ms) ? `${(ms * 1000).toFixed(0)} µs` : 'n/a');
const ratio = (a: number, b: number) => (b > 0 && Number.isFinite(a) ? `${(a / b).toFixed(2)}×` : 'n/a');

/** Whether the targets were met: throughput ratio and added p50. */
export function proxyTargets(r: ProxyBenchResult): { throughputRatio: number; addedP50Ms: number; throughputMet: boolean; latencyMet: boolean } {
  const throughputRatio = median(r.pairRatios);
  const addedP50Ms = r.proxied.latency.p50 - r.direct.latency.p50;
  return { throughputRatio, addedP50Ms, throughputMet: throughputRatio >= PROXY_TARGET_THROUGHPUT_RATIO, latencyMet: addedP50Ms <= PROXY_TARGET_ADDED_P50_MS };
}

/** Rows of the benchmark table (| Figure | Value | Baseline | Ratio |). */
export function proxyRows(r: ProxyBenchResult | undefined): string[] {
  if (!r) return [];
  const d = r.direct;
  const p = r.proxied;
  return [
    `| HTTP through a ClusterIP (kube-proxy): throughput, ${r.connections} keep-alive connections (medians of ${r.rounds} rounds of ${r.roundMs / 1000} s per path; ratio: median of the ${r.rounds} adjacent-round ratios) | ${median(p.rps).toFixed(0)} req/s | straight to the pod IP: ${median(d.rps).toFixed(0)} req/s | ${median(r.pairRatios).toFixed(2)}× |`,
    `| HTTP through a ClusterIP: latency p50, 1 connection, sequential (${r.latencyRequests} requests) | ${us(p.latency.p50)} | pod IP p50: ${us(d.latency.p50)} | ${ratio(p.latency.p50, d.latency.p50)} |`,
    `| HTTP through a ClusterIP: latency p99, 1 connection, sequential | ${us(p.latency.p99)} | pod IP p99: ${us(d.latency.p99)} | ${ratio(p.latency.p99, d.latency.p99)} |`,
    `| HTTP through a ClusterIP: latency p50 / p99 under the throughput load | ${us(p.loadedLatency.p50)} / ${us(p.loadedLatency.p99)} | pod IP: ${us(d.loadedLatency.p50)} / ${us(d.loadedLatency.p99)} | ${ratio(p.loadedLatency.p50, d.loadedLatency.p50)} / ${ratio(p.loadedLatency.p99, d.loadedLatency.p99)} |`,
    ...(r.cpu
      ? [
          `| kube-proxy CPU per proxied request (worker processes during proxied rounds, minus their background CPU) | ${Number.isFinite(r.cpu.proxyUs) ? `${r.cpu.proxyUs.toFixed(0)} µs` : 'n/a'} | the HTTP client's CPU per request: ${r.cpu.clientDirectUs.toFixed(0)} µs direct, ${r.cpu.clientProxiedUs.toFixed(0)} µs proxied | — |`,
        ]
      : []),
  ];
}

/** The target lines under the table. */
export function proxyTargetLines(r: ProxyBenchResult | undefined): string[] {
  if (!r) return [];
  const t = proxyTargets(r);
  return [
    '',
    `Target kube-proxy throughput ≥ ${PROXY_TARGET_THROUGHPUT_RATIO}× direct: **${t.throughputMet ? 'met' : 'not met'}** (${t.throughputRatio.toFixed(3)}×); ` +
      `added p50 ≤ ${PROXY_TARGET_ADDED_P50_MS * 1000} µs: **${t.latencyMet ? 'met' : 'not met'}** (${us(t.addedP50Ms)}).`,
  ];
}

/** What the figures mean, for the header of docs/BENCHMARKS.md. */
export const PROXY_BENCH_DESCRIPTION = `- **kube-proxy**: one pod serving a ~100-byte JSON answer on its pod IP, a Service (ClusterIP, no
  selector) whose Endpoints name that pod, and node's \`http\` client with keep-alive agents in the
  benchmark process. Latency: one connection, sequential requests, chunks of 250 alternating
  between the ClusterIP and the pod IP; the proxy's cost is the p50 difference (target ≤ 200 µs).
  Throughput: 8 connections in a closed loop; 8 pairs of 1 s rounds, one round per path, the order
  swapped every pair; the ratio is the median of the pairs' ratios (a round hit by other work
  spoils one pair, not the figure); target ≥ 0.7× the direct throughput. The proxy's CPU per
  request is the worker processes' CPU time (\`/proc\`) during the proxied rounds minus their
  background rate measured during the direct rounds. Client, proxy (a worker process)
  and pod share the machine's cores, so on a 2-core machine the proxied path also competes for
  CPU with the client and the server it sits between.
`;

runIfMain(import.meta.url, {
  name: 'proxy',
  blocks: { nodeNetwork: '127.0.253.0/24', podNetwork: '127.97.0.0/16', serviceNetwork: '127.99.0.0/16', loadBalancerPool: '127.114.0.0/24' },
  async run(client, ctx, say) {
    const workerPids = ctx.processes.filter((p) => p.role === 'worker').map((p) => p.pid);
    const r = await proxyBench(client, { runId: Date.now().toString(36), serviceNetwork: '127.99.0.0/16', say, workerPids });
    return ['| Figure | Value | Baseline (same run) | Ratio |', '| --- | --- | --- | --- |', ...proxyRows(r), ...proxyTargetLines(r)];
  },
});
