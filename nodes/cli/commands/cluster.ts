/** `kubeact up`, `kubeact down`, `kubeact status`: the local cluster's processes. */
import { parseArgs } from 'node:util';
import { isAlive, kubeactHome, loadContext } from '../../launcher/context.js';
import { down } from '../../launcher/down.js';
import { parseDuration } from '../../shared/duration.js';
import { ClusterRunningError, up } from '../../launcher/up.js';
import { CliError, type Output } from '../session.js';

export async function upCommand(args: string[], io: Output): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      nodes: { type: 'string', default: '3' },
      port: { type: 'string' },
      nats: { type: 'string' },
      'node-network': { type: 'string' },
      'pod-network': { type: 'string' },
      'service-network': { type: 'string' },
      'load-balancer-pool': { type: 'string' },
      'dns-listen': { type: 'string' },
      'cluster-domain': { type: 'string' },
      'node-cpu': { type: 'string' },
      'node-memory': { type: 'string' },
      'max-pods': { type: 'string' },
      'heartbeat-ms': { type: 'string' },
      'worker-arg': { type: 'string', multiple: true },
      runtime: { type: 'string', default: 'process' },
      'simulated-nodes': { type: 'string', default: '0' },
      'simulated-arg': { type: 'string', multiple: true },
      inspect: { type: 'boolean', default: false },
      'hpa-sync-period-ms': { type: 'string' },
      'hpa-downscale-stabilization-ms': { type: 'string' },
      'hpa-tolerance': { type: 'string' },
      'prometheus-port': { type: 'string' },
      'event-ttl': { type: 'string' },
    },
    allowPositionals: false,
  });
  const nodes = Number(values.nodes);
  const simulatedNodes = Number(values['simulated-nodes']);
  if (!Number.isInteger(simulatedNodes) || simulatedNodes < 0 || simulatedNodes > 16384) {
    throw new CliError(`--simulated-nodes must be a whole number from 0 to 16384, got "${values['simulated-nodes']}"`);
  }
  const minNodes = simulatedNodes > 0 ? 0 : 1;
  if (!Number.isInteger(nodes) || nodes < minNodes || nodes > 250) throw new CliError(`--nodes must be a whole number from ${minNodes} to 250, got "${values.nodes}"`);
  const promPort = values['prometheus-port'] === undefined ? undefined : Number(values['prometheus-port']);
  if (promPort !== undefined && (!Number.isInteger(promPort) || promPort < 1 || promPort + nodes > 65535)) {
    throw new CliError(`--prometheus-port must be a port from 1 to ${65535 - nodes} (nodes take the ports after it), got "${values['prometheus-port']}"`);
  }
  if (values['event-ttl'] !== undefined) {
    try {
      parseDuration(values['event-ttl'], '--event-ttl');
    } catch (e) {
      throw new CliError((e as Error).message);
    }
  }
  const started = Date.now();
  try {
    const ctx = await up({
      nodes,
      natsPort: values.port ? Number(values.port) : undefined,
      natsUrl: values.nats,
      nodeNetwork: values['node-network'],
      podNetwork: values['pod-network'],
      serviceNetwork: values['service-network'],
      loadBalancerPool: values['load-balancer-pool'],
      dnsListen: values['dns-listen'],
      clusterDomain: values['cluster-domain'],
      nodeCpu: values['node-cpu'],
      nodeMemory: values['node-memory'],
      maxPods: values['max-pods'] ? Number(values['max-pods']) : undefined,
      heartbeatMs: values['heartbeat-ms'] ? Number(values['heartbeat-ms']) : undefined,
      runtimes: values.runtime.split(',').map((r) => r.trim()).filter(Boolean),
      workerArgs: values['worker-arg'],
      simulatedNodes,
      simulatedArgs: values['simulated-arg'],
      inspect: values.inspect,
      hpa: {
        syncPeriodMs: optionalNumber(values['hpa-sync-period-ms'], '--hpa-sync-period-ms'),
        downscaleStabilizationMs: optionalNumber(values['hpa-downscale-stabilization-ms'], '--hpa-downscale-stabilization-ms'),
        tolerance: optionalNumber(values['hpa-tolerance'], '--hpa-tolerance'),
      },
      prometheusPort: promPort,
      eventTtl: values['event-ttl'],
      say: (l) => io.out(l),
    });
    io.out(`kubeact cluster is running (${((Date.now() - started) / 1000).toFixed(1)}s): ${nodes} node(s)${simulatedNodes ? ` + ${simulatedNodes} simulated` : ''}`);
    io.out(`  NATS:     ${ctx.natsUrl}`);
    io.out(`  context:  ${ctx.home}/context.json (later kubeact commands use it)`);
    io.out(`  logs:     ${ctx.clusterDir}/logs/`);
    if (ctx.dnsListen) io.out(`  DNS:      ${ctx.clusterDNS} (kube-dns ClusterIP; server on ${ctx.dnsListen}), domain ${ctx.clusterDomain}`);
    for (const p of ctx.prometheus ?? []) io.out(`  metrics:  ${p.url} (${p.name})`);
    io.out(`Try: kubeact get nodes`);
    return 0;
  } catch (e) {
    if (e instanceof ClusterRunningError) throw new CliError(e.message);
    throw e;
  }
}

function optionalNumber(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v < 0) throw new CliError(`${flag} must be a number ≥ 0, got "${text}"`);
  return v;
}

export async function downCommand(args: string[], io: Output): Promise<number> {
  parseArgs({ args, options: {}, allowPositionals: false });
  const stopped = await down({ say: (l) => io.out(l) });
  if (!stopped) {
    io.out(`no cluster is running (no context in ${kubeactHome()})`);
    return 0;
  }
  io.out('kubeact cluster stopped');
  return 0;
}

export async function statusCommand(args: string[], io: Output): Promise<number> {
  parseArgs({ args, options: {}, allowPositionals: false });
  const ctx = loadContext();
  if (!ctx) {
    io.out(`no cluster is running (no context in ${kubeactHome()})`);
    return 1;
  }
  io.out(`cluster at ${ctx.natsUrl}, started ${ctx.startedAt}`);
  for (const p of ctx.processes) io.out(`  ${p.name.padEnd(16)} pid ${String(p.pid).padEnd(8)} ${isAlive(p.pid) ? 'running' : 'NOT RUNNING'}   log ${p.log}`);
  return ctx.processes.every((p) => isAlive(p.pid)) ? 0 : 1;
}
