/**
 * The kubelet's resource metrics: every `intervalMs` it samples each running container through
 * the runtime's stats(), turns cumulative CPU into a rate over the window since the previous
 * sample, and publishes a NodeMetricsReport on `kubeact.node.<node>.metrics`. A container shows
 * up from its second sample on (a rate needs two), as with metrics-server.
 */
import type { NatsConnection } from 'nats';
import { encode } from '../../protocol/codec.js';
import type { ContainerUsage, NodeMetricsReport, PodUsage } from '../../protocol/metrics.js';
import type { Pod } from '../../protocol/objects.js';
import { subjects } from '../../protocol/subjects.js';
import type { Logger } from '../shared/logger.js';
import type { StaggeredTicker } from '../shared/staggered-ticker.js';
import type { ContainerRuntime } from './runtime/types.js';

/** What the sampler needs from each pod the kubelet runs. */
export interface SampledPod {
  object: Pod;
  containerIds: ReadonlyMap<string, string>;
}

export interface MetricsSamplerOptions {
  nc: NatsConnection;
  runtime: ContainerRuntime;
  nodeName: string;
  pods: () => Iterable<SampledPod>;
  intervalMs: number;
  logger: Logger;
  /** Shared by many nodes of one process (its period replaces intervalMs); none: an own timer. */
  ticker?: StaggeredTicker;
}

interface Previous {
  cpuNanos: number;
  at: number;
}

/** CPU rate in nanocores from two cumulative samples; 0 when the counter went backwards. */
export function cpuRate(prevNanos: number, prevAt: number, nanos: number, at: number): number {
  const elapsedS = (at - prevAt) / 1000;
  if (elapsedS <= 0) return 0;
  return Math.max(0, (nanos - prevNanos) / elapsedS);
}

export class MetricsSampler {
  private timer?: NodeJS.Timeout;
  private previous = new Map<string, Previous>();
  private selfPrev?: Previous;
  private stopped = false;
  private removeFromTicker?: () => void;
  /** The latest sample (Prometheus gauges are read from it). */
  last?: NodeMetricsReport;

  constructor(private readonly opts: MetricsSamplerOptions) {}

  start(): void {
    if (!this.opts.runtime.stats || this.opts.intervalMs <= 0) return;
    if (this.opts.ticker) {
      this.removeFromTicker = this.opts.ticker.add(
        () => this.sampleAndPublish().catch((e) => this.opts.logger.warn({ err: (e as Error).message }, 'metrics sample failed')),
        { runNow: true },
      );
      return;
    }
    const tick = async () => {
      await this.sampleAndPublish().catch((e) => this.opts.logger.warn({ err: (e as Error).message }, 'metrics sample failed'));
      if (!this.stopped) this.timer = setTimeout(tick, this.opts.intervalMs);
    };
    this.timer = setTimeout(tick, 0);
  }

  /** A container's cumulative CPU at the latest sample, nanoseconds. */
  cumulativeCpuNanos(containerId: string): number | undefined {
    return this.previous.get(containerId)?.cpuNanos;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.removeFromTicker?.();
  }

  /** One sample of every running container; published unless the connection is closed. */
  async sampleAndPublish(): Promise<NodeMetricsReport> {
    const report = await this.sample();
    this.last = report;
    if (!this.opts.nc.isClosed()) this.opts.nc.publish(subjects.nodeMetrics(this.opts.nodeName), encode(report));
    return report;
  }

  async sample(): Promise<NodeMetricsReport> {
    const runtime = this.opts.runtime;
    const now = Date.now();
    const seen = new Map<string, Previous>();
    const jobs: Promise<{ pod: Pod; usage: ContainerUsage } | undefined>[] = [];
    for (const p of this.opts.pods()) {
      for (const [name, id] of p.containerIds) {
        jobs.push(
          runtime.stats!(id).then((s) => {
            if (!s) return undefined;
            seen.set(id, { cpuNanos: s.cpuUsageNanos, at: s.timestamp });
            const prev = this.previous.get(id);
            if (!prev) return undefined;
            return { pod: p.object, usage: { name, cpuNanoCores: cpuRate(prev.cpuNanos, prev.at, s.cpuUsageNanos, s.timestamp), memoryBytes: s.memoryBytes } };
          }, () => undefined),
        );
      }
    }
    const results = await Promise.all(jobs);
    this.previous = seen;
    const pods = new Map<string, PodUsage>();
    let cpu = 0;
    let mem = 0;
    for (const r of results) {
      if (!r) continue;
      const uid = r.pod.metadata!.uid!;
      let pu = pods.get(uid);
      if (!pu) {
        pu = { namespace: r.pod.metadata!.namespace ?? 'default', name: r.pod.metadata!.name!, uid, containers: [] };
        if (r.pod.metadata?.labels) pu.labels = r.pod.metadata.labels;
        pods.set(uid, pu);
      }
      pu.containers.push(r.usage);
      cpu += r.usage.cpuNanoCores;
      mem += r.usage.memoryBytes;
    }
    // The node's own share: this process (kubelet and kube-proxy).
    const own = process.cpuUsage();
    const selfCpu = (own.user + own.system) * 1000;
    const prevSelf = this.selfPrev;
    this.selfPrev = { cpuNanos: selfCpu, at: now };
    if (prevSelf) cpu += cpuRate(prevSelf.cpuNanos, prevSelf.at, selfCpu, now);
    mem += process.memoryUsage.rss();
    return {
      node: this.opts.nodeName,
      timestamp: new Date(now).toISOString().replace(/\.\d+Z$/, 'Z'),
      windowMs: prevSelf ? now - prevSelf.at : 0,
      usage: { cpuNanoCores: cpu, memoryBytes: mem },
      pods: [...pods.values()],
    };
  }
}
