/**
 * Request and connection rates from kube-proxy's cumulative counters: each node's snapshot is
 * compared with that node's previous one. Rates are summed over nodes, since traffic to one pod
 * may enter through any node's proxy.
 */
import type { TrafficRate } from '../../protocol/metrics.js';
import type { ProxyMetrics, ProxyTrafficCounters } from '../../protocol/messages.js';

export interface NodeTraffic {
  /** When the newer snapshot arrived (ms since the epoch). */
  at: number;
  pods: Map<string, { requestsPerSecond: number; connectionsPerSecond: number }>;
  services: Map<string, { requestsPerSecond: number; connectionsPerSecond: number }>;
}

function add(map: NodeTraffic['pods'], key: string, rps: number, cps: number): void {
  const r = map.get(key) ?? { requestsPerSecond: 0, connectionsPerSecond: 0 };
  r.requestsPerSecond += rps;
  r.connectionsPerSecond += cps;
  map.set(key, r);
}

/** Rates between two snapshots of one proxy; a counter that went back (proxy restart) counts from 0. */
export function trafficBetween(prev: ProxyMetrics, cur: ProxyMetrics, at: number): NodeTraffic {
  const seconds = (Date.parse(cur.time) - Date.parse(prev.time)) / 1000;
  const out: NodeTraffic = { at, pods: new Map(), services: new Map() };
  if (!(seconds > 0)) return out;
  const delta = (a: ProxyTrafficCounters | undefined, b: ProxyTrafficCounters) => {
    const req = a && b.requests >= a.requests ? b.requests - a.requests : b.requests;
    const conn = a && b.connectionsTotal >= a.connectionsTotal ? b.connectionsTotal - a.connectionsTotal : b.connectionsTotal;
    return [req / seconds, conn / seconds] as const;
  };
  const prevSvc = new Map(prev.services.map((s) => [`${s.namespace}/${s.name}/${s.port}/${s.protocol}`, s]));
  for (const svc of cur.services) {
    const before = prevSvc.get(`${svc.namespace}/${svc.name}/${svc.port}/${svc.protocol}`);
    const [rps, cps] = delta(before, svc);
    add(out.services, `${svc.namespace}/${svc.name}`, rps, cps);
    const prevEp = new Map((before?.endpoints ?? []).map((e) => [`${e.ip}:${e.port}`, e]));
    for (const ep of svc.endpoints) {
      if (!ep.pod) continue;
      const [erps, ecps] = delta(prevEp.get(`${ep.ip}:${ep.port}`), ep);
      add(out.pods, ep.pod, erps, ecps);
    }
  }
  return out;
}

/** Sums the nodes' rates, optionally within one namespace. */
export function sumTraffic(nodes: Iterable<NodeTraffic>, namespace?: string): { pods: TrafficRate[]; services: TrafficRate[] } {
  const pods: NodeTraffic['pods'] = new Map();
  const services: NodeTraffic['services'] = new Map();
  for (const n of nodes) {
    for (const [k, r] of n.pods) add(pods, k, r.requestsPerSecond, r.connectionsPerSecond);
    for (const [k, r] of n.services) add(services, k, r.requestsPerSecond, r.connectionsPerSecond);
  }
  const list = (m: NodeTraffic['pods']) =>
    [...m]
      .map(([key, r]) => {
        const slash = key.indexOf('/');
        return { namespace: key.slice(0, slash), name: key.slice(slash + 1), ...r };
      })
      .filter((r) => !namespace || r.namespace === namespace);
  return { pods: list(pods), services: list(services) };
}
