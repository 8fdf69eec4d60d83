#!/usr/bin/env node
/**
 * The control-plane process: API server, scheduler, controller-manager, metrics server and the cluster DNS.
 *   node dist/nodes/controlplane/main.js --nats nats://127.0.0.1:4222 [--dns-listen 127.0.1.254:53]
 */
import { daemonArgs, isOn } from '../shared/args.js';
import { connectNats, onShutdown } from '../shared/connect.js';
import { createLogger } from '../shared/logger.js';
import { ApiServer } from '../apiserver/server.js';
import { ApiClient } from '../../protocol/client.js';
import { SchedulerHost } from '../scheduler/host.js';
import { ControllerManager } from '../controllers/manager.js';
import { InspectCapture } from '../inspect/capture.js';
import { InspectorServer } from '../inspect/web-server.js';
import { ClusterDns, parseDnsListen } from '../dns/index.js';
import { MetricsServer } from '../metrics/server.js';
import { PrometheusEndpoint, countNatsReconnects, parsePrometheusAddress, processRegistry } from '../shared/prometheus.js';
import { ControlPlaneMetrics } from './prometheus-metrics.js';
import { localSources } from './local-sources.js';
import { parseDuration } from '../shared/duration.js';

const args = daemonArgs({
  nats: { type: 'string', default: process.env.KUBEACT_NATS_URL ?? 'nats://127.0.0.1:4222' },
  'scheduler-retry-ms': { type: 'string', default: '5000' },
  // Binds in flight: few keep the API server responsive under bursts, more raise throughput.
  'scheduler-max-binds': { type: 'string', default: '64' },
  'node-monitor-grace-ms': { type: 'string', default: '3000' },
  'service-cidr': { type: 'string', default: '127.100.0.0/16' },
  // kube-apiserver's --event-ttl: Events older than this are deleted (Go duration: 1h, 90s, 500ms).
  'event-ttl': { type: 'string', default: '1h' },
  // Controller informers and the scheduler read the API server's cache in-process (−4.7 KB/pod, no decode of each pod event); `off`: they watch it over NATS.
  'shared-informers': { type: 'string', default: 'on' },
  'load-balancer-pool': { type: 'string', default: '127.112.0.0/24' },
  'pod-eviction-toleration-ms': { type: 'string', default: '1000' },
  // Inspector capture of every actor's transitions: off by default (it costs pod startup, see README); `--inspect on` turns it on.
  inspect: { type: 'string', default: 'off' },
  // The web inspector: HOST:PORT on loopback (port 0: a free one), `off` serves none.
  'inspector-address': { type: 'string', default: '127.0.0.1:0' },
  // Cluster DNS: ADDRESS:PORT it listens on (UDP and TCP), the kube-dns Endpoints; `off` runs none.
  'dns-listen': { type: 'string', default: 'off' },
  'cluster-domain': { type: 'string', default: 'cluster.local' },
  'metrics-stale-ms': { type: 'string', default: '60000' },
  // HorizontalPodAutoscaler controller (kube-controller-manager's --horizontal-pod-autoscaler-* flags).
  'hpa-sync-period-ms': { type: 'string', default: '15000' },
  'hpa-downscale-stabilization-ms': { type: 'string', default: '300000' },
  'hpa-tolerance': { type: 'string', default: '0.1' },
  // Prometheus text endpoint: HOST:PORT on loopback (`GET /metrics`), `off` serves none.
  'prometheus-address': { type: 'string', default: 'off' },
  // API priority (README "API priority"): workload seats, their queue, and node-critical requests on a connection of their own.
  'max-requests-inflight': { type: 'string', default: '400' },
  'max-queued-requests': { type: 'string', default: '20000' },
  'priority-connection': { type: 'string', default: 'on' },
  // `off`: no API priority at all — every request served at once in arrival order (for before/after runs).
  'api-priority': { type: 'string', default: 'on' },
  // off: a queued request is served however long it waited, even after its client gave up (before/after runs).
  'drop-expired-requests': { type: 'string', default: 'on' },
});

const log = createLogger('control-plane');

/** A numeric flag, refused at start when it is not a number ≥ 0 (a NaN period would spin). */
function numberFlag(name: keyof typeof args): number {
  const v = Number(args[name]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${String(name)} must be a number ≥ 0, got "${String(args[name])}"`);
  return v;
}

async function main(): Promise<void> {
  const dnsText = String(args['dns-listen']);
  const dnsListen = ['off', 'false', '0', 'no', ''].includes(dnsText.toLowerCase()) ? undefined : parseDnsListen(dnsText);
  const promAddress = parsePrometheusAddress(String(args['prometheus-address']));
  const nc = await connectNats(args.nats as string, 'kubeact-control-plane', log);
  const registry = promAddress ? processRegistry({ component: 'control-plane' }) : undefined;
  const prom = registry ? new ControlPlaneMetrics(registry) : undefined;
  if (registry) countNatsReconnects(nc, registry);
  const eventTtlMs = parseDuration(String(args['event-ttl']), '--event-ttl');
  const apiPriority = isOn(args['api-priority'] as string);
  const priorityNc = apiPriority && isOn(args['priority-connection'] as string) ? await connectNats(args.nats as string, 'kubeact-control-plane-priority', log) : undefined;
  const api = new ApiServer({
    nc,
    priorityNc,
    logger: log.child({ component: 'apiserver' }),
    serviceCidr: args['service-cidr'] as string,
    eventTtlMs,
    observeRequest: prom?.apiRequest,
    maxRequestsInflight: Math.max(1, numberFlag('max-requests-inflight')),
    maxQueuedRequests: numberFlag('max-queued-requests'),
    priority: apiPriority,
    dropExpired: isOn(args['drop-expired-requests'] as string),
  });
  await api.start();
  const client = new ApiClient(nc);
  const inspect = isOn(args.inspect as string) ? await InspectCapture.start(nc, 'control-plane', { log: log.child({ component: 'inspect' }) }) : undefined;
  const scheduler = new SchedulerHost({ client, logger: log.child({ component: 'scheduler' }), retryIntervalMs: Number(args['scheduler-retry-ms']), maxInFlightBinds: Number(args['scheduler-max-binds']), inspect, observer: prom?.scheduler, sources: isOn(args['shared-informers'] as string) ? localSources(api) : undefined });
  await scheduler.start();
  const controllers = new ControllerManager({
    nc,
    client,
    logger: log.child({ component: 'controller-manager' }),
    nodeMonitorGraceMs: Number(args['node-monitor-grace-ms']),
    podEvictionTolerationMs: Number(args['pod-eviction-toleration-ms']),
    loadBalancerPool: args['load-balancer-pool'] as string,
    inspect,
    sources: isOn(args['shared-informers'] as string) ? localSources(api) : undefined,
    hpa: {
      syncPeriodMs: numberFlag('hpa-sync-period-ms'),
      downscaleStabilizationMs: numberFlag('hpa-downscale-stabilization-ms'),
      tolerance: numberFlag('hpa-tolerance'),
    },
  });
  await controllers.start();
  if (prom) {
    for (const inf of [controllers.pods, controllers.nodes, controllers.leases, controllers.replicaSets, controllers.deployments, controllers.services, controllers.endpoints]) {
      inf.on({ upsert: () => prom.informerEvent(inf.kind, 'upsert'), delete: () => prom.informerEvent(inf.kind, 'delete') });
    }
    prom.observe({ objectCounts: () => [...api.stores].map(([k, s]) => [k, s.size]), pendingPods: () => scheduler.pendingPods(), requestQueue: () => api.queue.stats() });
  }
  const dns = dnsListen
    ? new ClusterDns({
        client,
        services: controllers.services,
        endpoints: controllers.endpoints,
        pods: controllers.pods,
        listen: dnsListen,
        domain: args['cluster-domain'] as string,
        logger: log.child({ component: 'dns' }),
      })
    : undefined;
  await dns?.start();
  const metrics = new MetricsServer({ nc, logger: log.child({ component: 'metrics-server' }), staleMs: Number(args['metrics-stale-ms']) });
  metrics.start();
  const inspectorAddress = args['inspector-address'] as string;
  const inspector = isOn(inspectorAddress) ? new InspectorServer({ nc, address: inspectorAddress, logger: log.child({ component: 'inspector' }) }) : undefined;
  await inspector?.start();
  const promEndpoint = registry && promAddress ? new PrometheusEndpoint({ registry, ...promAddress, logger: log.child({ component: 'prometheus' }) }) : undefined;
  await promEndpoint?.start().catch((e) => {
    throw new Error(`cannot serve Prometheus metrics on ${String(args['prometheus-address'])}: ${(e as Error).message}`);
  });
  log.info({ nats: args.nats, inspector: inspector?.url, prometheus: promEndpoint?.url }, 'control plane ready');
  onShutdown(async () => {
    await promEndpoint?.stop();
    metrics.stop();
    await dns?.stop();
    await controllers.stop();
    await scheduler.stop();
    await api.stop();
    await inspector?.stop();
    await inspect?.close();
    await priorityNc?.drain();
    await nc.drain();
  }, log);
}

main().catch((e) => {
  log.fatal({ err: e }, 'control plane failed to start');
  process.exit(1);
});
