/**
 * `kubeact up`: nats-server, the control plane and N worker nodes, each its own OS process,
 * detached so they outlive the command; progress is printed while the cluster comes up.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { ApiClient } from '../../protocol/client.js';
import { isNodeReady, type Node } from '../../protocol/objects.js';
import { cidrSize, formatCidr, hostAddress, parseCidr, subnet } from '../shared/cidr.js';
import { dnsServiceIP } from '../apiserver/service-ips.js';
import { connectNats } from '../shared/connect.js';
import { ensureNatsServer, startNatsServer } from '../shared/nats-server.js';
import { entryPoint } from '../shared/paths.js';
import { isAlive, kubeactHome, loadContext, saveContext, type ClusterContext, type ProcessRecord } from './context.js';
import { stopProcesses } from './down.js';

export interface UpOptions {
  nodes: number;
  home?: string;
  natsPort?: number;
  /**
   * Use this NATS server (already running, with JetStream and a max_payload of at least 4 MiB)
   * instead of starting one; `down` leaves it alone.
   */
  natsUrl?: string;
  /** Node addresses: node i gets the (i+1)-th host of this block. */
  nodeNetwork?: string;
  /** Pod IPs: node i gets the i-th /24 of this block. */
  podNetwork?: string;
  /** ClusterIPs are allocated from this block (the cluster DNS takes its 10th address). */
  serviceNetwork?: string;
  /** External addresses handed to LoadBalancer services. */
  loadBalancerPool?: string;
  /**
   * Where the control plane's DNS server listens (UDP and TCP), `ADDRESS:PORT`, or `off`.
   * Default: the node block's last host address (127.0.1.254), port 53 (10053 when not root).
   */
  dnsListen?: string;
  /** The cluster domain (default cluster.local). */
  clusterDomain?: string;
  /** Per node: cpu, memory, max pods (defaults 4 cpu, 8Gi, 110). */
  nodeCpu?: string;
  nodeMemory?: string;
  maxPods?: number;
  heartbeatMs?: number;
  /**
   * Container runtime per node: `process` or `docker`. One value for every node, or one per node
   * in order (the last one repeats for the nodes after it). Default process.
   */
  runtimes?: string[];
  /** Extra flags for every worker (tests tune back-off with these). */
  workerArgs?: string[];
  /** Extra flags for the control plane (tests tune the node lifecycle timings with these). */
  controlPlaneArgs?: string[];
  /** Simulated nodes (no processes), all hosted by one extra process; see simulated-nodes.ts. */
  simulatedNodes?: number;
  /** Their addresses (default 127.124.0.0/16) and pod IPs (default 127.128.0.0/10, a /24 each, or /`simulatedPodPrefix`). */
  simulatedNodeNetwork?: string;
  simulatedPodNetwork?: string;
  simulatedPodPrefix?: number;
  /** Extra flags for the simulated-nodes process (start delay, failure rate, usage, heartbeat). */
  simulatedArgs?: string[];
  /** Where the control plane serves the web inspector (default 127.0.0.1:7780; taken → a free port). */
  inspectorAddress?: string;
  /** Inspector capture in the control plane and every worker (`--inspect on`); off by default: it slows pod startup. */
  inspect?: boolean;
  /** HorizontalPodAutoscaler controller flags (`--hpa-sync-period-ms` …); unset: the Kubernetes defaults. */
  hpa?: { syncPeriodMs?: number; downscaleStabilizationMs?: number; tolerance?: number };
  /**
   * Prometheus endpoints (`GET /metrics`): the control plane on `prometheusHost:P`, node i on its
   * own address, port P+1+i. None: no endpoint.
   */
  prometheusPort?: number;
  /** kube-apiserver's `--event-ttl` (a Go duration such as `1h`, `90s`); unset: 1 h. */
  eventTtl?: string;
  /** The control plane's Prometheus address (default 127.0.0.1). */
  prometheusHost?: string;
  say?: (line: string) => void;
  timeoutMs?: number;
}

export const DEFAULT_NODE_NETWORK = '127.0.1.0/24';
export const DEFAULT_POD_NETWORK = '127.64.0.0/16';
export const DEFAULT_SERVICE_NETWORK = '127.100.0.0/16';
export const DEFAULT_LOAD_BALANCER_POOL = '127.112.0.0/24';
export const DEFAULT_INSPECTOR_ADDRESS = '127.0.0.1:7780';

export const CONTROL_PLANE_MAIN = entryPoint('nodes/controlplane/main.js');
export const WORKER_MAIN = entryPoint('nodes/worker/main.js');
export const SIMULATED_NODES_MAIN = entryPoint('nodes/worker/simulated-main.js');

export class ClusterRunningError extends Error {
  override readonly name = 'ClusterRunningError';
}

function hpaArgs(hpa: UpOptions['hpa']): string[] {
  const out: string[] = [];
  if (hpa?.syncPeriodMs !== undefined) out.push('--hpa-sync-period-ms', String(hpa.syncPeriodMs));
  if (hpa?.downscaleStabilizationMs !== undefined) out.push('--hpa-downscale-stabilization-ms', String(hpa.downscaleStabilizationMs));
  if (hpa?.tolerance !== undefined) out.push('--hpa-tolerance', String(hpa.tolerance));
  return out;
}

export async function up(opts: UpOptions): Promise<ClusterContext> {
  const say = opts.say ?? (() => {});
  const home = opts.home ?? kubeactHome();
  const existing = loadContext(home);
  if (existing && existing.processes.some((p) => isAlive(p.pid))) {
    throw new ClusterRunningError(`a cluster is already running (${existing.natsUrl}, started ${existing.startedAt}); run \`kubeact down\` first`);
  }
  const clusterDir = path.join(home, 'cluster');
  const logDir = path.join(clusterDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const nodeNetwork = parseCidr(opts.nodeNetwork ?? DEFAULT_NODE_NETWORK);
  const podNetwork = parseCidr(opts.podNetwork ?? DEFAULT_POD_NETWORK);
  const serviceNetwork = parseCidr(opts.serviceNetwork ?? DEFAULT_SERVICE_NETWORK);
  const dnsListen = opts.dnsListen ?? defaultDnsListen(formatCidr(nodeNetwork));
  const dnsOn = dnsListen.toLowerCase() !== 'off';
  const clusterDomain = opts.clusterDomain ?? 'cluster.local';
  const started: ProcessRecord[] = [];
  const ctx: ClusterContext = {
    natsUrl: '',
    home,
    clusterDir,
    startedAt: new Date().toISOString(),
    nodeNetwork: formatCidr(nodeNetwork),
    podNetwork: formatCidr(podNetwork),
    serviceNetwork: formatCidr(serviceNetwork),
    ...(dnsOn ? { dnsListen, clusterDNS: dnsServiceIP(serviceNetwork) } : {}),
    clusterDomain,
    processes: started,
  };
  const prom = opts.prometheusPort;
  if (prom !== undefined && (!Number.isInteger(prom) || prom < 1 || prom + opts.nodes > 65535)) {
    throw new Error(`--prometheus-port must leave room for the control plane and ${opts.nodes} node(s) below 65536, got ${prom}`);
  }
  if (prom !== undefined) ctx.prometheus = [];
  try {
    let nats: { url: string };
    if (opts.natsUrl) {
      nats = { url: opts.natsUrl };
      ctx.natsUrl = opts.natsUrl;
      say(`• using nats-server at ${opts.natsUrl}`);
    } else {
      ensureNatsServer(say);
      say('• starting nats-server (JetStream) ...');
      const own = await startNatsServer({ dir: path.join(clusterDir, 'nats'), port: opts.natsPort, detached: true });
      nats = own;
      ctx.natsUrl = own.url;
      started.push({ role: 'nats-server', name: 'nats-server', pid: own.pid, log: path.join(clusterDir, 'nats', 'nats-server.log') });
      say(`  nats-server listening on ${own.url}`);
    }
    saveContext(ctx);

    say('• starting control plane (api server, scheduler) ...');
    const simulated = opts.simulatedNodes ?? 0;
    const cpArgs = [
      '--nats', nats.url,
      // Simulated nodes renew their leases every 10 s as kubelets do (not 1 s): Kubernetes' 40 s grace.
      ...(simulated > 0 ? ['--node-monitor-grace-ms', '40000'] : []),
      '--service-cidr', formatCidr(serviceNetwork),
      '--dns-listen', dnsListen,
      '--cluster-domain', clusterDomain,
      '--load-balancer-pool', formatCidr(parseCidr(opts.loadBalancerPool ?? DEFAULT_LOAD_BALANCER_POOL)),
      '--inspector-address', opts.inspectorAddress ?? DEFAULT_INSPECTOR_ADDRESS,
      ...(opts.inspect ? ['--inspect', 'on'] : []),
      ...hpaArgs(opts.hpa),
      ...(opts.eventTtl ? ['--event-ttl', opts.eventTtl] : []),
      ...(prom !== undefined ? ['--prometheus-address', `${opts.prometheusHost ?? '127.0.0.1'}:${prom}`] : []),
      ...(opts.controlPlaneArgs ?? []),
    ];
    if (prom !== undefined) ctx.prometheus!.push({ name: 'control-plane', url: `http://${opts.prometheusHost ?? '127.0.0.1'}:${prom}/metrics` });
    started.push(launch('control-plane', 'control-plane', CONTROL_PLANE_MAIN, cpArgs, logDir));
    saveContext(ctx);

    const runtimes = opts.runtimes?.length ? opts.runtimes : ['process'];
    for (const r of runtimes) if (r !== 'process' && r !== 'docker') throw new Error(`unknown runtime "${r}": use process or docker`);
    for (let i = 0; i < opts.nodes; i++) {
      const name = `node-${i + 1}`;
      const dataDir = path.join(clusterDir, 'nodes', name);
      const runtime = runtimes[Math.min(i, runtimes.length - 1)];
      const args = [
        '--runtime', runtime,
        '--nats', nats.url,
        '--name', name,
        '--node-ip', hostAddress(nodeNetwork, i),
        '--pod-cidr', formatCidr(subnet(podNetwork, 24, i)),
        '--data-dir', dataDir,
        '--cluster-domain', clusterDomain,
        ...(dnsOn ? ['--cluster-dns', dnsServiceIP(serviceNetwork)] : []),
        ...(opts.nodeCpu ? ['--cpu', opts.nodeCpu] : []),
        ...(opts.nodeMemory ? ['--memory', opts.nodeMemory] : []),
        ...(opts.maxPods ? ['--max-pods', String(opts.maxPods)] : []),
        ...(opts.heartbeatMs ? ['--heartbeat-ms', String(opts.heartbeatMs)] : []),
        ...(opts.inspect ? ['--inspect', 'on'] : []),
        ...(prom !== undefined ? ['--prometheus-address', `${hostAddress(nodeNetwork, i)}:${prom + 1 + i}`] : []),
        ...(opts.workerArgs ?? []),
      ];
      if (prom !== undefined) ctx.prometheus!.push({ name, url: `http://${hostAddress(nodeNetwork, i)}:${prom + 1 + i}/metrics` });
      say(`• starting worker ${name} (${hostAddress(nodeNetwork, i)}, pods ${formatCidr(subnet(podNetwork, 24, i))}, runtime ${runtime}) ...`);
      started.push({ ...launch('worker', name, WORKER_MAIN, args, logDir), dataDir, runtime });
    }
    if (simulated > 0) {
      const args = [
        '--nats', nats.url,
        '--nodes', String(simulated),
        ...(opts.simulatedNodeNetwork ? ['--node-network', opts.simulatedNodeNetwork] : []),
        ...(opts.simulatedPodNetwork ? ['--pod-network', opts.simulatedPodNetwork] : []),
        ...(opts.simulatedPodPrefix ? ['--pod-prefix', String(opts.simulatedPodPrefix)] : []),
        ...(opts.nodeCpu ? ['--cpu', opts.nodeCpu] : []),
        ...(opts.nodeMemory ? ['--memory', opts.nodeMemory] : []),
        ...(opts.maxPods ? ['--max-pods', String(opts.maxPods)] : []),
        ...(opts.simulatedArgs ?? []),
      ];
      say(`• starting ${simulated} simulated node(s) in one process ...`);
      started.push(launch('simulated-nodes', 'simulated-nodes', SIMULATED_NODES_MAIN, args, logDir));
    }
    saveContext(ctx);
    await waitForNodes(ctx, opts.nodes + simulated, say, opts.timeoutMs ?? 30_000 + simulated * 30);
    return ctx;
  } catch (e) {
    say('! start failed, stopping what was started ...');
    await stopProcesses(started, () => {});
    throw e;
  }
}

/** The node block's last host address, port 53 as root (10053 otherwise: ports below 1024 need root). */
export function defaultDnsListen(nodeNetwork: string): string {
  const block = parseCidr(nodeNetwork);
  const port = process.getuid?.() === 0 ? 53 : 10053;
  return `${hostAddress(block, cidrSize(block) - 3)}:${port}`;
}

export function launch(role: ProcessRecord['role'], name: string, main: string, args: string[], logDir: string): ProcessRecord {
  const log = path.join(logDir, `${name}.log`);
  const fd = openSync(log, 'a');
  // KUBEACT_CPU_PROFILE_DIR: every daemon writes a V8 CPU profile there when it exits (benchmarks).
  const profileDir = process.env.KUBEACT_CPU_PROFILE_DIR;
  const argv = [process.execPath, ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []), main, ...args];
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', fd, fd], detached: true, env: process.env });
  child.unref();
  return { role, name, pid: child.pid!, log, argv };
}

async function waitForNodes(ctx: ClusterContext, count: number, say: (l: string) => void, timeoutMs: number): Promise<void> {
  const nc = await connectNats(ctx.natsUrl, 'kubeact-up');
  try {
    const client = new ApiClient(nc, { timeoutMs: 2000 });
    const deadline = Date.now() + timeoutMs;
    let last = -1;
    for (;;) {
      for (const p of ctx.processes) {
        if (!isAlive(p.pid)) throw new Error(`${p.name} exited during start-up; see ${p.log}`);
      }
      let ready = 0;
      try {
        const nodes = await client.list<Node>('Node');
        ready = nodes.items.filter(isNodeReady).length;
      } catch {
        // control plane not answering yet
      }
      if (ready !== last) {
        say(`  nodes Ready: ${ready}/${count}`);
        last = ready;
      }
      if (ready >= count) return;
      if (Date.now() > deadline) throw new Error(`only ${ready}/${count} nodes became Ready within ${timeoutMs / 1000}s; see logs in ${path.join(ctx.clusterDir, 'logs')}`);
      await new Promise((r) => setTimeout(r, 100)); // polling interval of a progress display, not a synchronisation
    }
  } finally {
    await nc.close();
  }
}
