#!/usr/bin/env node
/**
 * A worker node process: the kubelet and kube-proxy of one node.
 *   node dist/nodes/worker/main.js --nats URL --name node-1 --node-ip 127.0.1.1 \
 *     --pod-cidr 127.64.0.0/24 --data-dir DIR [--cpu 4 --memory 8Gi --max-pods 110]
 *     [--metrics-ms 5000 --memory-check-ms 1000 --volume-stats-ms 10000]
 *     [--proxy on|off --proxy-retry-ms 1000 --proxy-metrics-ms 5000 --proxy-udp-idle-ms 30000]
 *     [--runtime process|docker --docker-socket /var/run/docker.sock]
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiClient } from '../../protocol/client.js';
import { daemonArgs, isOn } from '../shared/args.js';
import { connectNats, onShutdown } from '../shared/connect.js';
import { createLogger } from '../shared/logger.js';
import { StatusWriteLimiter } from './status-write-limiter.js';
import { Kubelet } from './kubelet.js';
import { InspectCapture } from '../inspect/capture.js';
import { KubeProxy } from './proxy/index.js';
import { DockerRuntime } from './runtime/docker.js';
import { ProcessRuntime } from './runtime/process.js';
import { PodDns } from './pod-dns.js';
import { RuntimeError, type ContainerRuntime } from './runtime/types.js';
import { PrometheusEndpoint, countNatsReconnects, parsePrometheusAddress, processRegistry } from '../shared/prometheus.js';
import { NodePrometheusMetrics } from './prometheus-metrics.js';

const args = daemonArgs({
  nats: { type: 'string', default: process.env.KUBEACT_NATS_URL ?? 'nats://127.0.0.1:4222' },
  name: { type: 'string', default: os.hostname() },
  'node-ip': { type: 'string', default: '127.0.1.1' },
  'pod-cidr': { type: 'string', default: '127.64.0.0/24' },
  'data-dir': { type: 'string' },
  cpu: { type: 'string', default: String(os.cpus().length) },
  memory: { type: 'string', default: `${Math.floor(os.totalmem() / 2 ** 20)}Mi` },
  'max-pods': { type: 'string', default: '110' },
  labels: { type: 'string', default: '' },
  'heartbeat-ms': { type: 'string', default: '1000' },
  'status-every': { type: 'string', default: '10' },
  'resync-ms': { type: 'string', default: '10000' },
  'metrics-ms': { type: 'string', default: '5000' },
  'memory-check-ms': { type: 'string', default: '1000' },
  // emptyDir sizeLimit: how often usage is measured (the kubelet's housekeeping period).
  'volume-stats-ms': { type: 'string', default: '10000' },
  'backoff-initial-ms': { type: 'string', default: '10000' },
  'backoff-max-ms': { type: 'string', default: '300000' },
  'backoff-reset-ms': { type: 'string', default: '600000' },
  // Pod status writes in flight at once (0: no bound; a kubelet holds ≤ max-pods pods, each with one writer).
  'status-writes-inflight': { type: 'string', default: '0' },
  // kube-proxy: on by default; `--proxy off` (or false/0) runs the kubelet alone.
  proxy: { type: 'string', default: 'on' },
  // Inspector capture of the pod actors' transitions: on by default.
  inspect: { type: 'string', default: 'off' },
  'proxy-retry-ms': { type: 'string', default: '1000' },
  'proxy-metrics-ms': { type: 'string', default: '5000' },
  'proxy-udp-idle-ms': { type: 'string', default: '30000' },
  // Pods' DNS (dnsPolicy ClusterFirst): the kube-dns ClusterIP, none when the cluster has no DNS.
  'cluster-dns': { type: 'string', default: '' },
  'cluster-domain': { type: 'string', default: 'cluster.local' },
  // The node's resolv.conf: what dnsPolicy Default gives, and ClusterFirst's extra search domains.
  'resolv-conf': { type: 'string', default: '/etc/resolv.conf' },
  // Container runtime: host processes (default) or Docker containers.
  runtime: { type: 'string', default: 'process' },
  'docker-socket': { type: 'string' },
  // Prometheus text endpoint of the kubelet and kube-proxy: HOST:PORT on loopback (`GET /metrics`), `off` serves none.
  'prometheus-address': { type: 'string', default: 'off' },
});

const name = args.name as string;
const log = createLogger('kubelet', { node: name });

function parseLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of text.split(',').filter(Boolean)) {
    const [k, v = ''] = pair.split('=');
    out[k.trim()] = v.trim();
  }
  return out;
}

/** The node's resolv.conf text; empty (with a warning) when it cannot be read. */
function readHostResolvConf(file: string): string {
  if (!file) return '';
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    log.warn({ file, err: (e as Error).message }, 'cannot read the node resolv.conf; dnsPolicy Default pods get an empty one');
    return '';
  }
}

async function main(): Promise<void> {
  const dataDir = (args['data-dir'] as string | undefined) ?? path.join(os.tmpdir(), `kubeact-${name}`);
  const promAddress = parsePrometheusAddress(String(args['prometheus-address']));
  const runtime = await createRuntime(dataDir);
  const nc = await connectNats(args.nats as string, `kubeact-kubelet-${name}`, log);
  const registry = promAddress ? processRegistry({ node: name }) : undefined;
  const prom = registry ? new NodePrometheusMetrics(registry) : undefined;
  if (registry) countNatsReconnects(nc, registry);
  const client = new ApiClient(nc);
  const inspect = isOn(String(args.inspect)) ? await InspectCapture.start(nc, name, { log: log.child({ component: 'inspect' }) }) : undefined;
  const podDns = new PodDns(path.join(dataDir, 'kubelet', 'pods'), {
    clusterDNS: (args['cluster-dns'] as string) || undefined,
    clusterDomain: args['cluster-domain'] as string,
    hostResolvConf: readHostResolvConf(args['resolv-conf'] as string),
  });
  const kubelet = new Kubelet({
    podDns,
    volumesDir: path.join(dataDir, 'kubelet', 'pods'),
    localVolumesDir: path.resolve(dataDir, 'local-path'),
    nc,
    client,
    runtime,
    logger: log,
    inspect,
    resyncMs: Number(args['resync-ms']),
    metricsMs: Number(args['metrics-ms']),
    volumeStatsMs: Number(args['volume-stats-ms']),
    onPodRunning: prom?.podStarted,
    statusWrites: statusWriteLimiter(String(args['status-writes-inflight'])),
    tuning: {
      backoffInitialMs: Number(args['backoff-initial-ms']),
      backoffMaxMs: Number(args['backoff-max-ms']),
      backoffResetMs: Number(args['backoff-reset-ms']),
    },
    config: {
      name,
      nodeIP: args['node-ip'] as string,
      podCIDR: args['pod-cidr'] as string,
      cpu: args.cpu as string,
      memory: args.memory as string,
      maxPods: Number(args['max-pods']),
      labels: parseLabels(args.labels as string),
      runtimeVersion: await runtime.version(),
      heartbeatMs: Number(args['heartbeat-ms']),
      statusEvery: Number(args['status-every']),
    },
  });
  const proxyOn = isOn(String(args.proxy));
  const proxy = proxyOn
    ? new KubeProxy({
        client,
        nc,
        nodeName: name,
        nodeIP: args['node-ip'] as string,
        logger: log.child({ component: 'kube-proxy' }),
        retryMs: Number(args['proxy-retry-ms']),
        metricsMs: Number(args['proxy-metrics-ms']),
        udpIdleMs: Number(args['proxy-udp-idle-ms']),
        resyncMs: Number(args['resync-ms']),
      })
    : undefined;
  prom?.observe({
    pods: () => kubelet.pods(),
    lastSample: () => kubelet.metrics.last,
    cumulativeCpuNanos: (id) => kubelet.metrics.cumulativeCpuNanos(id),
    proxy: proxy ? () => proxy.snapshot() : undefined,
  });
  const promEndpoint = registry && promAddress ? new PrometheusEndpoint({ registry, ...promAddress, logger: log.child({ component: 'prometheus' }) }) : undefined;
  await promEndpoint?.start().catch((e) => {
    throw new Error(`cannot serve Prometheus metrics on ${String(args['prometheus-address'])}: ${(e as Error).message}`);
  });
  onShutdown(async () => {
    await promEndpoint?.stop();
    await proxy?.stop();
    await kubelet.stop();
    await inspect?.close();
    await nc.drain();
  }, log);
  await kubelet.start();
  await proxy?.start();
}

/** The runtime `--runtime` names; a docker runtime only once its engine answers. */
async function createRuntime(dataDir: string): Promise<ContainerRuntime> {
  const logger = log.child({ component: 'runtime' });
  switch (args.runtime) {
    case 'process':
      return new ProcessRuntime({ dataDir, logger, memoryCheckMs: Number(args['memory-check-ms']) });
    case 'docker':
      return DockerRuntime.connect({ nodeName: name, scope: path.resolve(dataDir), socketPath: args['docker-socket'] as string | undefined, logger });
    default:
      throw new RuntimeError('RuntimeUnavailable', `unknown --runtime "${String(args.runtime)}": use process or docker`);
  }
}

main().catch((e) => {
  log.fatal({ err: e, code: (e as RuntimeError).code }, 'kubelet failed to start');
  // Also on stderr in plain words: the first thing a user starting a worker by hand reads.
  process.stderr.write(`kubelet failed to start: ${(e as Error).message}\n`);
  process.exit(1);
});

/** `--status-writes-inflight N`: a bound on this kubelet's pod status writes in flight; 0: none. */
function statusWriteLimiter(text: string): StatusWriteLimiter | undefined {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--status-writes-inflight must be a whole number ≥ 0, got "${text}"`);
  return n > 0 ? new StatusWriteLimiter(n) : undefined;
}
