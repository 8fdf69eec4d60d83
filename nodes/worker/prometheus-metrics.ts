/**
 * A node's Prometheus metrics: the kubelet's (pods and containers running, each container's CPU
 * and memory from the metrics sampler's latest sample, pod start latency) and kube-proxy's
 * counters per service port. Levels are read from the kubelet and kube-proxy when scraped.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ProxyMetrics } from '../../protocol/messages.js';
import type { Pod } from '../../protocol/objects.js';
import type { NodeMetricsReport } from '../../protocol/metrics.js';

export interface NodeMetricsSources {
  /** The pods the kubelet runs, with their latest status and container ids. */
  pods: () => Iterable<{ object: Pod; status?: Pod['status']; containerIds: ReadonlyMap<string, string> }>;
  /** The sampler's latest sample (none before the first). */
  lastSample: () => NodeMetricsReport | undefined;
  /** Cumulative CPU of a container at the latest sample, nanoseconds. */
  cumulativeCpuNanos: (containerId: string) => number | undefined;
  /** kube-proxy's counters now (none when the node runs no kube-proxy). */
  proxy?: () => ProxyMetrics;
}

const CONTAINER_LABELS = ['namespace', 'pod', 'container'] as const;
const SERVICE_LABELS = ['namespace', 'service', 'port', 'protocol'] as const;

export class NodePrometheusMetrics {
  /** Observes one pod's start latency, seconds. */
  readonly podStarted: (seconds: number) => void;
  private sources?: NodeMetricsSources;

  constructor(registry: Registry) {
    const self = this;
    const start = new Histogram({
      name: 'kubelet_pod_start_duration_seconds',
      help: 'From the kubelet taking a pod on to the pod reporting phase Running.',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    });
    this.podStarted = (s) => start.observe(s);
    new Gauge({
      name: 'kubelet_running_pods',
      help: 'Pods in phase Running on this node.',
      registers: [registry],
      collect() {
        let n = 0;
        for (const p of self.sources?.pods() ?? []) if (p.status?.phase === 'Running') n++;
        this.set(n);
      },
    });
    new Gauge({
      name: 'kubelet_running_containers',
      help: 'Containers of this node\'s pods by state (running, waiting, terminated).',
      labelNames: ['container_state'],
      registers: [registry],
      collect() {
        const counts: Record<string, number> = { running: 0, waiting: 0, terminated: 0 };
        for (const p of self.sources?.pods() ?? []) {
          for (const c of p.status?.containerStatuses ?? []) {
            const state = c.state?.running ? 'running' : c.state?.terminated ? 'terminated' : 'waiting';
            counts[state]++;
          }
        }
        for (const [container_state, n] of Object.entries(counts)) this.set({ container_state }, n);
      },
    });
    new Counter({
      name: 'container_cpu_usage_seconds_total',
      help: 'Cumulative CPU time of the container (its whole process group), as of the latest sample.',
      labelNames: CONTAINER_LABELS,
      registers: [registry],
      collect() {
        this.reset();
        for (const p of self.sources?.pods() ?? []) {
          for (const [container, id] of p.containerIds) {
            const nanos = self.sources?.cumulativeCpuNanos(id);
            if (nanos !== undefined) this.inc(podLabels(p.object, container), nanos / 1e9);
          }
        }
      },
    });
    new Gauge({
      name: 'container_cpu_usage_cores',
      help: 'CPU used by the container over the latest sample window, in cores (what `kubeact top` shows).',
      labelNames: CONTAINER_LABELS,
      registers: [registry],
      collect() {
        this.reset();
        for (const pod of self.sources?.lastSample()?.pods ?? []) {
          for (const c of pod.containers) this.set({ namespace: pod.namespace, pod: pod.name, container: c.name }, c.cpuNanoCores / 1e9);
        }
      },
    });
    new Gauge({
      name: 'container_memory_working_set_bytes',
      help: 'Memory (resident set) of the container\'s processes at the latest sample.',
      labelNames: CONTAINER_LABELS,
      registers: [registry],
      collect() {
        this.reset();
        for (const pod of self.sources?.lastSample()?.pods ?? []) {
          for (const c of pod.containers) this.set({ namespace: pod.namespace, pod: pod.name, container: c.name }, c.memoryBytes);
        }
      },
    });
    const perService = (name: string, help: string, value: (s: ProxyMetrics['services'][number]) => number) =>
      new Counter({
        name,
        help,
        labelNames: SERVICE_LABELS,
        registers: [registry],
        collect() {
          this.reset();
          for (const s of self.sources?.proxy?.().services ?? []) this.inc(serviceLabels(s), value(s));
        },
      });
    perService('kubeproxy_service_connections_total', 'Connections (TCP) or sessions (UDP) proxied to the service port.', (s) => s.connectionsTotal);
    perService('kubeproxy_service_requests_total', 'HTTP/1 requests seen on connections proxied to the service port.', (s) => s.requests);
    perService('kubeproxy_service_rejected_total', 'Connections turned away because the service port had no ready endpoint.', (s) => s.rejected);
    perService('kubeproxy_service_denied_total', 'Connections reset because a NetworkPolicy does not allow them.', (s) => s.denied);
    new Counter({
      name: 'kubeproxy_service_bytes_total',
      help: 'Bytes proxied for the service port, by direction (in: from clients, out: to clients).',
      labelNames: [...SERVICE_LABELS, 'direction'],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of self.sources?.proxy?.().services ?? []) {
          this.inc({ ...serviceLabels(s), direction: 'in' }, s.bytesIn);
          this.inc({ ...serviceLabels(s), direction: 'out' }, s.bytesOut);
        }
      },
    });
    new Gauge({
      name: 'kubeproxy_service_active_connections',
      help: 'Connections open through the service port now.',
      labelNames: SERVICE_LABELS,
      registers: [registry],
      collect() {
        this.reset();
        for (const s of self.sources?.proxy?.().services ?? []) this.set(serviceLabels(s), s.connectionsActive);
      },
    });
  }

  /** Where the levels are read from; set once the kubelet and kube-proxy exist. */
  observe(sources: NodeMetricsSources): void {
    this.sources = sources;
  }
}

function podLabels(pod: Pod, container: string): Record<(typeof CONTAINER_LABELS)[number], string> {
  return { namespace: pod.metadata?.namespace ?? 'default', pod: pod.metadata?.name ?? '', container };
}

function serviceLabels(s: ProxyMetrics['services'][number]): Record<(typeof SERVICE_LABELS)[number], string> {
  return { namespace: s.namespace, service: s.name, port: s.port, protocol: s.protocol };
}
