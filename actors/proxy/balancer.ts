/**
 * Endpoint choice for one service port, as kube-proxy's userspace round robin does it
 * (pure: the caller passes the time). Round robin over the ready endpoints; with
 * `sessionAffinity: ClientIP` a client IP keeps its endpoint until it has not been used for
 * the affinity timeout (or the endpoint is gone). `exclude` lets the caller skip an endpoint
 * that just refused a connection.
 */
import type { AffinityPolicy, EndpointTarget } from './plan.js';

interface Affinity {
  endpoint: string;
  lastUsed: number;
}

export class Balancer {
  private list: EndpointTarget[] = [];
  private byKey = new Map<string, EndpointTarget>();
  private next = 0;
  private readonly affinity = new Map<string, Affinity>();

  constructor(private policy: AffinityPolicy = { clientIP: false, timeoutMs: 0 }) {}

  get endpoints(): readonly EndpointTarget[] {
    return this.list;
  }

  get size(): number {
    return this.list.length;
  }

  get affinityPolicy(): AffinityPolicy {
    return this.policy;
  }

  /** Number of client IPs with a remembered endpoint (tests, metrics). */
  get affinityEntries(): number {
    return this.affinity.size;
  }

  setPolicy(policy: AffinityPolicy): void {
    if (!policy.clientIP) this.affinity.clear();
    this.policy = policy;
  }

  /**
   * Replaces the endpoint set; returns the keys that were removed. The round-robin position
   * is kept (modulo the new size) and affinities to removed endpoints are forgotten.
   */
  setEndpoints(endpoints: readonly EndpointTarget[]): string[] {
    const nextKeys = new Map(endpoints.map((e) => [e.key, e]));
    const removed = this.list.filter((e) => !nextKeys.has(e.key)).map((e) => e.key);
    this.list = [...nextKeys.values()];
    this.byKey = nextKeys;
    if (this.list.length) this.next %= this.list.length;
    else this.next = 0;
    if (removed.length) {
      const gone = new Set(removed);
      for (const [ip, a] of this.affinity) if (gone.has(a.endpoint)) this.affinity.delete(ip);
    }
    return removed;
  }

  /** The endpoint for a new connection (or UDP session) from `clientIP`; undefined when none is left. */
  pick(clientIP: string, now: number, exclude?: ReadonlySet<string>): EndpointTarget | undefined {
    if (this.list.length === 0) return undefined;
    if (this.policy.clientIP) {
      const a = this.affinity.get(clientIP);
      if (a && now - a.lastUsed < this.policy.timeoutMs && !exclude?.has(a.endpoint)) {
        const ep = this.byKey.get(a.endpoint);
        if (ep) {
          a.lastUsed = now;
          return ep;
        }
      }
    }
    let chosen: EndpointTarget | undefined;
    for (let i = 0; i < this.list.length; i++) {
      const ep = this.list[this.next];
      this.next = (this.next + 1) % this.list.length;
      if (!exclude?.has(ep.key)) {
        chosen = ep;
        break;
      }
    }
    if (chosen && this.policy.clientIP) this.affinity.set(clientIP, { endpoint: chosen.key, lastUsed: now });
    return chosen;
  }

  /** Forgets affinities unused for longer than the timeout. */
  prune(now: number): void {
    for (const [ip, a] of this.affinity) if (now - a.lastUsed >= this.policy.timeoutMs) this.affinity.delete(ip);
  }
}
