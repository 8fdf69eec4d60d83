/**
 * The LoadBalancer controller (kube's service controller with a built-in "cloud"): every
 * `type: LoadBalancer` Service gets one address from the `--load-balancer-pool` block, written
 * to `status.loadBalancer.ingress: [{ ip, ipMode: VIP }]` with a compare-and-set status update;
 * the workers' kube-proxies then serve `ip:port` for each service port.
 *
 *  - What is in use is rebuilt from the stored Services at start (older Services keep a
 *    contested address, a newer one with the same address gets another), then follows the
 *    Service informer. Level-based: every event and every relist reconciles the Service.
 *  - `spec.loadBalancerIP` (deprecated in Kubernetes, still honoured by many implementations)
 *    is used when it is in the pool and free.
 *  - Released when the Service is deleted or stops being a LoadBalancer (its status is then
 *    cleared). Services with `spec.loadBalancerClass` belong to another implementation and are
 *    left alone, as are ingress addresses outside the pool that someone else wrote.
 *  - A full pool leaves the Service pending with a `SyncLoadBalancerFailed` Warning; it gets an
 *    address as soon as one is released. A failed status write is retried after `retryMs`.
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import type { ApiClient } from '../../protocol/client.js';
import { ApiError, Reason } from '../../protocol/errors.js';
import type { KubeObject } from '../../protocol/objects.js';
import { cidrSize, contains, formatCidr, formatIp, parseCidr, type Cidr } from '../shared/cidr.js';
import type { EventRecorder } from '../shared/events.js';
import type { Logger } from '../shared/logger.js';
import { Informer, objectKey } from './informer.js';

/** Hands out the addresses of one block, one per owner (a Service uid). Pure, no I/O. */
export class LoadBalancerIpAllocator {
  readonly cidr: Cidr;
  private readonly first: number;
  private readonly last: number;
  private readonly byIp = new Map<string, string>();
  private readonly byOwner = new Map<string, string>();
  private cursor: number;

  constructor(pool: string | Cidr) {
    this.cidr = typeof pool === 'string' ? parseCidr(pool) : pool;
    const size = cidrSize(this.cidr);
    // Blocks of 4 and more keep their network and broadcast addresses out, as a subnet would.
    this.first = size >= 4 ? this.cidr.base + 1 : this.cidr.base;
    this.last = size >= 4 ? this.cidr.base + size - 2 : this.cidr.base + size - 1;
    this.cursor = this.first;
  }

  get pool(): string {
    return formatCidr(this.cidr);
  }

  get capacity(): number {
    return this.last - this.first + 1;
  }

  get used(): number {
    return this.byIp.size;
  }

  /** Whether `ip` is one of the pool's usable addresses. */
  inPool(ip: unknown): ip is string {
    if (typeof ip !== 'string' || !contains(this.cidr, ip)) return false;
    const n = ipNumber(ip);
    return n >= this.first && n <= this.last;
  }

  holderOf(ip: string): string | undefined {
    return this.byIp.get(ip);
  }

  heldBy(owner: string): string | undefined {
    return this.byOwner.get(owner);
  }

  /** Takes `ip` for `owner` (which then holds only it); false when outside the pool or held by another owner. */
  claim(ip: string, owner: string): boolean {
    if (!this.inPool(ip)) return false;
    const holder = this.byIp.get(ip);
    if (holder !== undefined) return holder === owner;
    this.release(owner);
    this.byIp.set(ip, owner);
    this.byOwner.set(owner, ip);
    return true;
  }

  /**
   * The owner's address: the one it holds, else the next free one after the last handed out
   * (next fit, so a just-released address is not handed out again at once); undefined when the
   * pool is full.
   */
  allocate(owner: string): string | undefined {
    const held = this.byOwner.get(owner);
    if (held) return held;
    const count = this.capacity;
    for (let i = 0; i < count; i++) {
      const n = this.first + ((this.cursor - this.first + i) % count);
      const ip = formatIp(n);
      if (this.byIp.has(ip)) continue;
      this.cursor = n + 1 > this.last ? this.first : n + 1;
      this.byIp.set(ip, owner);
      this.byOwner.set(owner, ip);
      return ip;
    }
    return undefined;
  }

  /** Frees the owner's address; returns it. */
  release(owner: string): string | undefined {
    const ip = this.byOwner.get(owner);
    if (ip === undefined) return undefined;
    this.byOwner.delete(owner);
    this.byIp.delete(ip);
    return ip;
  }
}

function ipNumber(ip: string): number {
  const [a, b, c, d] = ip.split('.').map(Number);
  return ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
}

export interface LoadBalancerControllerOptions {
  client: ApiClient;
  /** The `--load-balancer-pool` block, e.g. 127.112.0.0/24. */
  pool: string;
  logger: Logger;
  /** A shared Service informer (started by its owner before `start()`); one of our own otherwise. */
  services?: Informer<KubeObject>;
  events?: EventRecorder;
  resyncMs?: number;
  /** A failed status write is tried again after this long (ms, default 1000). */
  retryMs?: number;
}

type Svc = Service & KubeObject;

/** Whether this controller is responsible for the Service's load balancer. */
export function wantsLoadBalancer(svc: KubeObject): boolean {
  return svc.spec?.type === 'LoadBalancer' && !svc.spec?.loadBalancerClass;
}

function ingressIPs(svc: KubeObject): string[] {
  const ingress = svc.status?.loadBalancer?.ingress;
  if (!Array.isArray(ingress)) return [];
  return ingress.map((i: { ip?: string }) => i?.ip).filter((ip: unknown): ip is string => typeof ip === 'string' && ip !== '');
}

function hasHostnameIngress(svc: KubeObject): boolean {
  const ingress = svc.status?.loadBalancer?.ingress;
  return Array.isArray(ingress) && ingress.some((i: { hostname?: string }) => !!i?.hostname);
}

export class LoadBalancerController {
  readonly allocator: LoadBalancerIpAllocator;
  private readonly services: Informer<KubeObject>;
  private readonly ownInformer: boolean;
  private readonly retryTimers = new Map<string, NodeJS.Timeout>();
  /** Services waiting for a free address (by key). */
  private readonly pending = new Set<string>();
  /** Services whose last reconcile warned that the pool is full (warned once per episode). */
  private readonly warned = new Set<string>();
  /** Service key → uid of the Service holding an address under that name. */
  private readonly keyOwner = new Map<string, string>();
  private stopped = false;
  private readonly log: Logger;

  constructor(private readonly opts: LoadBalancerControllerOptions) {
    this.allocator = new LoadBalancerIpAllocator(opts.pool);
    this.ownInformer = !opts.services;
    this.services = opts.services ?? new Informer<KubeObject>(opts.client, 'Service', { resyncMs: opts.resyncMs ?? 30_000, logger: opts.logger });
    this.log = opts.logger;
  }

  async start(): Promise<void> {
    if (this.ownInformer) await this.services.start();
    this.rebuild(this.services.list());
    this.services.on({ upsert: (svc) => this.reconcile(svc as Svc), delete: (svc) => this.gone(svc as Svc) });
    for (const svc of this.services.list()) this.reconcile(svc as Svc);
    this.log.info({ pool: this.allocator.pool, used: this.allocator.used, capacity: this.allocator.capacity }, 'load-balancer controller ready');
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.retryTimers.values()) clearTimeout(t);
    this.retryTimers.clear();
    if (this.ownInformer) this.services.stop();
  }

  /** The addresses in use: older Services first, so a duplicated address stays with the older one. */
  private rebuild(all: KubeObject[]): void {
    const lbs = all.filter(wantsLoadBalancer).sort((a, b) => String(a.metadata?.creationTimestamp ?? '').localeCompare(String(b.metadata?.creationTimestamp ?? '')) || objectKey(a).localeCompare(objectKey(b)));
    for (const svc of lbs) {
      const uid = svc.metadata?.uid;
      if (!uid) continue;
      for (const ip of ingressIPs(svc)) {
        if (this.allocator.claim(ip, uid)) {
          this.keyOwner.set(objectKey(svc), uid);
          break;
        }
      }
    }
  }

  /** Brings one Service's load balancer address in line with its spec. */
  reconcile(svc: Svc): void {
    if (this.stopped) return;
    const key = objectKey(svc);
    const uid = svc.metadata?.uid;
    if (!uid) return;
    // A Service re-created under the same name: the old one's address is free again.
    const previous = this.keyOwner.get(key);
    if (previous && previous !== uid) this.releaseOwner(key, previous);
    const current = ingressIPs(svc);
    if (!wantsLoadBalancer(svc)) {
      this.pending.delete(key);
      this.warned.delete(key);
      const released = this.releaseOwner(key, uid);
      const ours = current.filter((ip) => this.allocator.inPool(ip));
      if (ours.length || released) {
        this.writeIngress(svc, undefined);
        if (released) this.opts.events?.record(svc, 'Normal', 'DeletedLoadBalancer', 'Deleted load balancer');
      }
      return;
    }
    let ip = this.allocator.heldBy(uid);
    if (!ip) {
      if (current.length && !current.some((c) => this.allocator.inPool(c))) return; // managed by someone else
      if (hasHostnameIngress(svc) && !current.length) return;
      const requested = svc.spec?.loadBalancerIP;
      for (const candidate of [requested, ...current]) {
        if (candidate && this.allocator.claim(candidate, uid)) {
          ip = candidate;
          break;
        }
      }
      ip ??= this.allocator.allocate(uid);
      if (!ip) {
        this.pending.add(key);
        if (!this.warned.has(key)) {
          this.warned.add(key);
          const message = `Error syncing load balancer: failed to ensure load balancer: no free address left in the load balancer pool ${this.allocator.pool}`;
          this.log.warn({ service: key, pool: this.allocator.pool }, 'load balancer pool exhausted');
          this.opts.events?.record(svc, 'Warning', 'SyncLoadBalancerFailed', message);
        }
        return;
      }
      this.keyOwner.set(key, uid);
      this.pending.delete(key);
      this.warned.delete(key);
    }
    if (current.length === 1 && current[0] === ip && (svc.status?.loadBalancer?.ingress ?? []).length === 1) return;
    this.writeIngress(svc, ip);
  }

  private gone(svc: Svc): void {
    const key = objectKey(svc);
    this.pending.delete(key);
    this.warned.delete(key);
    clearTimeout(this.retryTimers.get(key));
    this.retryTimers.delete(key);
    const uid = svc.metadata?.uid;
    if (uid) this.releaseOwner(key, uid);
  }

  private releaseOwner(key: string, uid: string): string | undefined {
    const ip = this.allocator.release(uid);
    if (this.keyOwner.get(key) === uid) this.keyOwner.delete(key);
    if (ip) {
      this.log.info({ ip }, 'load balancer address released');
      this.retryPending();
    }
    return ip;
  }

  /** An address was freed: Services waiting for one try again. */
  private retryPending(): void {
    for (const key of [...this.pending]) {
      const slash = key.indexOf('/');
      const svc = this.services.get(key.slice(0, slash), key.slice(slash + 1));
      if (svc) queueMicrotask(() => this.reconcile(svc as Svc));
      else this.pending.delete(key);
    }
  }

  /** Writes `status.loadBalancer` (compare-and-set, re-read on Conflict); retried later on failure. */
  private writeIngress(svc: Svc, ip: string | undefined): void {
    const key = objectKey(svc);
    const uid = svc.metadata?.uid;
    clearTimeout(this.retryTimers.get(key));
    this.retryTimers.delete(key);
    const ingress = ip ? [{ ip, ipMode: 'VIP' }] : undefined;
    this.opts.client
      .modify<Svc>(
        'Service',
        svc.metadata!.name!,
        svc.metadata!.namespace,
        (cur) => {
          if (cur.metadata?.uid !== uid) return false;
          if (ip ? !wantsLoadBalancer(cur) || this.allocator.heldBy(uid!) !== ip : wantsLoadBalancer(cur)) return false; // changed meanwhile: its own event reconciles it
          const now = cur.status?.loadBalancer?.ingress;
          if (JSON.stringify(now ?? []) === JSON.stringify(ingress ?? [])) return false;
          const status = { ...(cur.status ?? {}) } as Record<string, unknown>;
          status.loadBalancer = ingress ? { ingress } : {};
          (cur as KubeObject).status = status;
        },
        { status: true },
      )
      .then((written) => {
        if (!written || !ip) return;
        if (ingressIPs(written).includes(ip)) {
          this.log.info({ service: key, ip }, 'load balancer address assigned');
          this.opts.events?.record(written, 'Normal', 'EnsuredLoadBalancer', 'Ensured load balancer');
        }
      })
      .catch((e) => {
        if (this.stopped || (e instanceof ApiError && e.reason === Reason.NotFound)) return;
        this.log.warn({ service: key, err: (e as Error).message, retryMs: this.opts.retryMs ?? 1000 }, 'load balancer status write failed');
        const timer = setTimeout(() => {
          this.retryTimers.delete(key);
          const slash = key.indexOf('/');
          const latest = this.services.get(key.slice(0, slash), key.slice(slash + 1));
          if (latest) this.reconcile(latest as Svc);
        }, this.opts.retryMs ?? 1000);
        this.retryTimers.set(key, timer);
      });
  }
}
