/**
 * kube-proxy's counters per service port and per endpoint. TCP bytes are read from the
 * sockets (`bytesRead`/`bytesWritten`) when a connection closes, and from the open ones when a
 * snapshot is taken, so the hot path does no per-chunk accounting.
 */
import type { EndpointTarget, ServicePortRef } from '../../../actors/proxy/index.js';
import type { ProxyEndpointMetrics, ProxyServiceMetrics, ProxyTrafficCounters } from '../../../protocol/messages.js';

export class Counters implements ProxyTrafficCounters {
  connectionsTotal = 0;
  connectionsActive = 0;
  bytesIn = 0;
  bytesOut = 0;
  requests = 0;

  protected counters(extraIn = 0, extraOut = 0): ProxyTrafficCounters {
    return {
      connectionsTotal: this.connectionsTotal,
      connectionsActive: this.connectionsActive,
      bytesIn: this.bytesIn + extraIn,
      bytesOut: this.bytesOut + extraOut,
      requests: this.requests,
    };
  }
}

export class EndpointStats extends Counters {
  failures = 0;
  current = true;
  constructor(public target: EndpointTarget) {
    super();
  }

  snapshot(liveIn = 0, liveOut = 0): ProxyEndpointMetrics {
    return {
      ip: this.target.ip,
      port: this.target.port,
      ...(this.target.pod ? { pod: this.target.pod } : {}),
      ...(this.target.nodeName ? { nodeName: this.target.nodeName } : {}),
      ...this.counters(liveIn, liveOut),
      failures: this.failures,
      current: this.current,
    };
  }
}

export class ServiceStats extends Counters {
  rejected = 0;
  denied = 0;
  readonly endpoints = new Map<string, EndpointStats>();
  constructor(readonly ref: ServicePortRef) {
    super();
  }

  endpoint(target: EndpointTarget): EndpointStats {
    let ep = this.endpoints.get(target.key);
    if (!ep) {
      ep = new EndpointStats(target);
      this.endpoints.set(target.key, ep);
    }
    return ep;
  }

  /** Marks which endpoints are current; drops former ones that have no open connection left. */
  syncEndpoints(targets: readonly EndpointTarget[]): void {
    const now = new Map(targets.map((t) => [t.key, t]));
    for (const [key, ep] of this.endpoints) {
      const t = now.get(key);
      if (t) {
        ep.target = t;
        ep.current = true;
      } else {
        ep.current = false;
        if (ep.connectionsActive === 0) this.endpoints.delete(key);
      }
    }
    for (const t of targets) this.endpoint(t);
  }

  /** A connection or session to `ep` ended: forget the endpoint when it is gone and idle. */
  released(ep: EndpointStats): void {
    if (!ep.current && ep.connectionsActive === 0 && this.endpoints.get(ep.target.key) === ep) this.endpoints.delete(ep.target.key);
  }

  snapshot(live: Map<EndpointStats, { in: number; out: number }>): ProxyServiceMetrics {
    let liveIn = 0;
    let liveOut = 0;
    const endpoints: ProxyEndpointMetrics[] = [];
    for (const ep of this.endpoints.values()) {
      const l = live.get(ep);
      liveIn += l?.in ?? 0;
      liveOut += l?.out ?? 0;
      endpoints.push(ep.snapshot(l?.in, l?.out));
    }
    return {
      namespace: this.ref.namespace,
      name: this.ref.name,
      port: this.ref.port,
      protocol: this.ref.protocol,
      ...this.counters(liveIn, liveOut),
      rejected: this.rejected,
      denied: this.denied,
      endpoints,
    };
  }
}
