/**
 * The metrics server (metrics-server's job, in the control plane): keeps each kubelet's latest
 * sample and each kube-proxy's latest traffic rates, and answers `kubeact.metrics.pods`,
 * `kubeact.metrics.nodes` and `kubeact.metrics.traffic`. Nothing is stored: after a restart the
 * next samples fill it again. A node that has not reported for `staleMs` is left out.
 */
import type { Msg, NatsConnection, Subscription } from 'nats';
import { decode, encode } from '../../protocol/codec.js';
import { ApiError, toApiError } from '../../protocol/errors.js';
import type { ProxyMetrics, Reply } from '../../protocol/messages.js';
import {
  formatKi,
  formatNanoCores,
  goDuration,
  type MetricsList,
  type NodeMetrics,
  type NodeMetricsReport,
  type NodeMetricsRequest,
  type PodMetrics,
  type PodMetricsRequest,
  type TrafficReply,
  type TrafficRequest,
} from '../../protocol/metrics.js';
import { matchesLabels, parseLabelSelector } from '../../protocol/selectors.js';
import { subjects } from '../../protocol/subjects.js';
import type { Logger } from '../shared/logger.js';
import { sumTraffic, trafficBetween, type NodeTraffic } from './traffic.js';

export interface MetricsServerOptions {
  nc: NatsConnection;
  logger: Logger;
  /** A node's sample older than this is not served (ms, default 60 000). */
  staleMs?: number;
}

export class MetricsServer {
  private readonly samples = new Map<string, { at: number; report: NodeMetricsReport }>();
  private readonly proxies = new Map<string, ProxyMetrics>();
  private readonly traffic = new Map<string, NodeTraffic>();
  private readonly subs: Subscription[] = [];
  private readonly staleMs: number;

  constructor(private readonly opts: MetricsServerOptions) {
    this.staleMs = opts.staleMs ?? 60_000;
  }

  start(): void {
    const { nc } = this.opts;
    this.subs.push(nc.subscribe(subjects.nodeMetricsAll(), { callback: (err, msg) => !err && this.onReport(msg) }));
    this.subs.push(nc.subscribe(subjects.proxyMetricsAll(), { callback: (err, msg) => !err && this.onProxy(msg) }));
    this.serve<PodMetricsRequest, MetricsList<PodMetrics>>('pods', (req) => ({ items: this.podMetrics(req) }));
    this.serve<NodeMetricsRequest, MetricsList<NodeMetrics>>('nodes', (req) => ({ items: this.nodeMetrics(req) }));
    this.serve<TrafficRequest, TrafficReply>('traffic', (req) => this.trafficRates(req));
  }

  stop(): void {
    for (const s of this.subs) s.unsubscribe();
  }

  private onReport(msg: Msg): void {
    try {
      const r = decode<NodeMetricsReport>(msg.data);
      if (!r || typeof r.node !== 'string' || !Array.isArray(r.pods) || typeof r.usage !== 'object') throw new Error('not a NodeMetricsReport');
      this.samples.set(r.node, { at: Date.now(), report: r });
    } catch (e) {
      this.opts.logger.warn({ subject: msg.subject, err: (e as Error).message }, 'ignored a malformed metrics report');
    }
  }

  private onProxy(msg: Msg): void {
    try {
      const m = decode<ProxyMetrics>(msg.data);
      if (!m || typeof m.node !== 'string' || !Array.isArray(m.services) || typeof m.time !== 'string') throw new Error('not a ProxyMetrics');
      const prev = this.proxies.get(m.node);
      this.proxies.set(m.node, m);
      if (prev) this.traffic.set(m.node, trafficBetween(prev, m, Date.now()));
    } catch (e) {
      this.opts.logger.warn({ subject: msg.subject, err: (e as Error).message }, 'ignored a malformed proxy metrics snapshot');
    }
  }

  private fresh<T extends { at: number }>(values: Iterable<T>): T[] {
    const cutoff = Date.now() - this.staleMs;
    return [...values].filter((v) => v.at >= cutoff);
  }

  podMetrics(req: PodMetricsRequest): PodMetrics[] {
    const selector = parseLabelSelector(typeof req.labelSelector === 'string' ? req.labelSelector : undefined);
    const out: PodMetrics[] = [];
    for (const { report } of this.fresh(this.samples.values())) {
      for (const p of report.pods) {
        if (req.namespace && p.namespace !== req.namespace) continue;
        if (req.name && p.name !== req.name) continue;
        if (!matchesLabels(selector, p.labels)) continue;
        out.push({
          apiVersion: 'metrics.k8s.io/v1beta1',
          kind: 'PodMetrics',
          metadata: { name: p.name, namespace: p.namespace, ...(p.labels ? { labels: p.labels } : {}), creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z') },
          timestamp: report.timestamp,
          window: goDuration(report.windowMs),
          containers: p.containers.map((c) => ({ name: c.name, usage: { cpu: formatNanoCores(c.cpuNanoCores), memory: formatKi(c.memoryBytes) } })),
        });
      }
    }
    return out.sort((a, b) => a.metadata.namespace.localeCompare(b.metadata.namespace) || a.metadata.name.localeCompare(b.metadata.name));
  }

  nodeMetrics(req: NodeMetricsRequest): NodeMetrics[] {
    return this.fresh(this.samples.values())
      .filter(({ report }) => !req.name || report.node === req.name)
      .map(({ report }) => ({
        apiVersion: 'metrics.k8s.io/v1beta1' as const,
        kind: 'NodeMetrics' as const,
        metadata: { name: report.node, creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z') },
        timestamp: report.timestamp,
        window: goDuration(report.windowMs),
        usage: { cpu: formatNanoCores(report.usage.cpuNanoCores), memory: formatKi(report.usage.memoryBytes) },
      }))
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  }

  trafficRates(req: TrafficRequest): TrafficReply {
    return sumTraffic(this.fresh(this.traffic.values()), typeof req.namespace === 'string' ? req.namespace : undefined);
  }

  /** One request/reply endpoint; bad requests get a typed error, never silence. */
  private serve<Req, Res>(resource: 'pods' | 'nodes' | 'traffic', handle: (req: Req) => Res): void {
    this.subs.push(
      this.opts.nc.subscribe(subjects.metrics(resource), {
        callback: (err, msg) => {
          if (err || !msg.reply) return;
          let reply: Reply<Res>;
          try {
            let req: Req;
            try {
              req = decode<Req>(msg.data);
            } catch (e) {
              throw ApiError.badRequest(`cannot decode metrics request: ${(e as Error).message}`);
            }
            if (!req || typeof req !== 'object') throw ApiError.badRequest('a metrics request is an object');
            reply = { ok: true, value: handle(req) };
          } catch (e) {
            reply = { ok: false, error: toApiError(e).toWire() };
          }
          msg.respond(encode(reply));
        },
      }),
    );
  }
}
