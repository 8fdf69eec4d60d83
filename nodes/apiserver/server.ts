/**
 * The API server: NATS request/reply endpoints (a NATS micro-service, discoverable with
 * `$SRV.PING.kubeact-apiserver`) in front of the per-kind stores, and the publisher of
 * watch events. Garbage on any subject gets a BadRequest reply; nothing crashes the process.
 */
import type { Msg, NatsConnection, Service, Subscription } from 'nats';
import { decode, encode, encodeWithRaw } from '../../protocol/codec.js';
import { ApiError, Reason, toApiError } from '../../protocol/errors.js';
import { KINDS, KIND_NAMES, type Kind } from '../../protocol/kinds.js';
import type { ApiServerStarted, Reply } from '../../protocol/messages.js';
import { NODE_LEASE_NAMESPACE, type KubeObject, type WatchEvent } from '../../protocol/objects.js';
import { API_SERVICE_NAME, API_VERBS, subjects, type ApiVerb } from '../../protocol/subjects.js';
import { requestTimeoutMs } from '../../protocol/request-deadline.js';
import type { Logger } from '../shared/logger.js';
import { Handlers } from './handlers.js';
import { DNS_SERVICE_NAME, DNS_SERVICE_NAMESPACE, ServiceAllocator, dnsServiceObject } from './service-ips.js';
import { KindStore } from './store.js';
import { DEFAULT_EVENT_TTL_MS, EventTtl } from './event-ttl.js';
import { priorityLevel, type PriorityLevel } from './priority-level.js';
import { RequestQueue } from './request-queue.js';

/** kube-apiserver's `--max-requests-inflight` default. */
export const DEFAULT_MAX_REQUESTS_INFLIGHT = 400;
/** Workload requests waiting for a seat before 429s (kube's APF queues hold 64 × 50 by default; ours is one FIFO). */
export const DEFAULT_MAX_QUEUED_REQUESTS = 20_000;

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', NODE_LEASE_NAMESPACE];
/** What a 429 asks the client to wait, as kube-apiserver's APF answers (`Retry-After: 1`). */
const TOO_MANY_REQUESTS_RETRY_AFTER_S = 1;
/** A queued request expires this long before its client's timeout (at most a quarter of it): the reply still has to travel. */
const REPLY_MARGIN_MS = 100;
/** At most one log line about expired requests per this period. */
const EXPIRY_LOG_EVERY_MS = 10_000;

export interface ApiServerOptions {
  nc: NatsConnection;
  logger: Logger;
  now?: () => number;
  /** ClusterIPs come from this block (`--service-cidr`; default 127.100.0.0/16); its 10th address is the cluster DNS. */
  serviceCidr?: string;
  /** Keep Events packed in the cache (default true; false: decoded, for before/after measurements). */
  packEvents?: boolean;
  /** Events older than this are deleted (kube-apiserver's `--event-ttl`; default 1 h). */
  eventTtlMs?: number;
  /** Told of every answered request (Prometheus `apiserver_request_total` / latency). */
  observeRequest?: (verb: string, kind: string, code: number, seconds: number) => void;
  /**
   * A second connection for node-critical traffic: the `kubeact.apiprio.*` requests come in and
   * are answered on it, and the Lease store writes and watches its bucket over it, so heartbeats
   * never wait behind workload bytes in a socket buffer. None: everything on `nc` (still served
   * ahead of queued workload requests).
   */
  priorityNc?: NatsConnection;
  /** API priority (default true; false: every request served at once in arrival order, as before it — for before/after measurements). */
  priority?: boolean;
  /** Workload requests in flight at once (`--max-requests-inflight`, default 400); node-critical ones are exempt. */
  maxRequestsInflight?: number;
  /** Workload requests waiting for a seat before 429 TooManyRequests (`--max-queued-requests`, default 20,000). */
  maxQueuedRequests?: number;
  /** Drop a queued workload request once its client has given up (default true; false: served anyway, as before — for before/after runs). */
  dropExpired?: boolean;
}

export class ApiServer {
  readonly stores = new Map<Kind, KindStore>();
  readonly handlers: Handlers;
  readonly serviceAllocator: ServiceAllocator;
  readonly eventTtl: EventTtl;
  /** Seats of the workload level; node-critical requests bypass it. */
  readonly queue: RequestQueue;
  private service?: Service;
  private readonly prioritySubs: Subscription[] = [];
  private readonly nc: NatsConnection;
  private readonly priorityNc: NatsConnection;
  private readonly priorityOn: boolean;
  private readonly dropExpired: boolean;
  private readonly log: Logger;
  private readonly observeRequest?: ApiServerOptions['observeRequest'];
  private expiredSinceLog = 0;
  private lastExpiryLog = -Infinity;

  constructor(opts: ApiServerOptions) {
    this.nc = opts.nc;
    this.priorityNc = opts.priorityNc ?? opts.nc;
    this.priorityOn = opts.priority !== false;
    this.dropExpired = opts.dropExpired !== false;
    this.queue = new RequestQueue({ seats: opts.maxRequestsInflight ?? DEFAULT_MAX_REQUESTS_INFLIGHT, maxQueued: opts.maxQueuedRequests ?? DEFAULT_MAX_QUEUED_REQUESTS });
    this.observeRequest = opts.observeRequest;
    this.log = opts.logger;
    // Events are most of the objects and rarely read: kept packed (−1.1 KB each, docs/BENCHMARKS.md).
    for (const kind of KIND_NAMES) this.stores.set(kind, new KindStore(kind, { packed: kind === 'Event' && opts.packEvents !== false }));
    this.serviceAllocator = new ServiceAllocator({ serviceCidr: opts.serviceCidr, logger: opts.logger });
    this.handlers = new Handlers(this.stores, opts.now, this.serviceAllocator);
    this.eventTtl = new EventTtl(this.stores.get('Event')!, { ttlMs: opts.eventTtlMs ?? DEFAULT_EVENT_TTL_MS, now: opts.now, logger: opts.logger });
  }

  async start(): Promise<void> {
    // Pages leave a quarter of a NATS message for the reply's envelope.
    if (this.nc.info?.max_payload) this.handlers.maxPageBytes = Math.floor(this.nc.info.max_payload * 0.75);
    const js = this.nc.jetstream();
    const priorityJs = this.priorityNc === this.nc ? js : this.priorityNc.jetstream();
    // Lease writes and their watch travel on the priority connection: renewals never queue behind pod writes.
    await Promise.all([...this.stores.values()].map((s) => (s.kind === 'Lease' ? s.open(priorityJs, this.priorityNc) : s.open(js, this.nc))));
    const services = this.stores.get('Service')!;
    this.serviceAllocator.rebuild(services.all());
    services.onChange((ev) => this.serviceAllocator.observe(ev));
    for (const store of this.stores.values()) store.onChange((ev, encoded) => this.publish(store.kind, ev, encoded));
    this.eventTtl.start();
    await this.ensureSystemNamespaces();
    await this.ensureDnsService();
    this.service = await this.nc.services.add({
      name: API_SERVICE_NAME,
      version: '0.1.0',
      description: 'kubeact API server: create/createMany/apply/get/list/update/updateStatus/delete/bind/bindMany of every kind',
      queue: 'kubeact-apiserver',
    });
    for (const verb of API_VERBS) {
      this.service.addEndpoint(verb, {
        subject: subjects.apiVerbAll(verb),
        handler: (err, msg) => {
          if (err) return;
          this.receive(verb, msg);
        },
        metadata: { verb },
      });
      const sub = this.priorityNc.subscribe(subjects.apiPriorityVerbAll(verb), { queue: 'kubeact-apiserver', callback: (err, msg) => err || this.receive(verb, msg) });
      this.prioritySubs.push(sub);
    }
    const counts = Object.fromEntries([...this.stores].map(([k, s]) => [k, s.size]));
    this.log.info({ objects: counts }, 'api server ready');
    // Watchers relist: a write the previous server made just before it died has no event.
    this.nc.publish(subjects.apiServerStarted(), encode({ startedAt: new Date().toISOString() } satisfies ApiServerStarted));
  }

  async stop(): Promise<void> {
    this.eventTtl.stop();
    await this.service?.stop().catch(() => {});
    for (const sub of this.prioritySubs.splice(0)) sub.unsubscribe();
    for (const s of this.stores.values()) s.close();
  }

  private async ensureSystemNamespaces(): Promise<void> {
    for (const name of SYSTEM_NAMESPACES) {
      if (this.stores.get('Namespace')!.get(undefined, name)) continue;
      await this.handlers.create('Namespace', { object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } }).catch((e) => {
        if (!(e instanceof ApiError && e.reason === 'AlreadyExists')) throw e;
      });
    }
  }

  /**
   * The `kube-dns` Service in kube-system, on the service CIDR's 10th address (the pods'
   * nameserver). Only the Service: the control plane's DNS server (nodes/dns/, when it runs)
   * writes its Endpoints.
   */
  private async ensureDnsService(): Promise<void> {
    if (this.stores.get('Service')!.get(DNS_SERVICE_NAMESPACE, DNS_SERVICE_NAME)) return;
    await this.handlers.create('Service', { object: dnsServiceObject(this.serviceAllocator.dnsIP) }).catch((e) => {
      if (e instanceof ApiError && e.reason === 'AlreadyExists') return;
      this.log.warn({ err: (e as Error).message, clusterIP: this.serviceAllocator.dnsIP }, 'could not create the kube-dns service');
    });
  }

  /**
   * Classifies a request and serves it at once (node-critical) or when the workload level has
   * a seat; a full queue answers 429 TooManyRequests, as kube-apiserver's APF does.
   */
  private receive(verb: ApiVerb, msg: Msg): void {
    const started = performance.now();
    if (!this.priorityOn) return void this.serve(verb, msg, started);
    const { level, body } = this.classify(verb, msg);
    const deadline = this.dropExpired ? { at: started + this.clientWaitMs(msg), expire: () => this.expire(verb, msg, started) } : undefined;
    if (this.queue.submit(level, () => this.serve(verb, msg, started, body), deadline)) return;
    const err = new ApiError(Reason.TooManyRequests, `Too many requests, please try again later: ${this.queue.stats().queued} requests are waiting for the API server`, {
      retryAfterSeconds: TOO_MANY_REQUESTS_RETRY_AFTER_S,
    });
    this.observeRequest?.(verb, '', err.code, (performance.now() - started) / 1000);
    if (msg.reply) msg.respond(encode({ ok: false, error: err.toWire() }));
  }

  /** How long after its arrival a request may still start: the client's timeout (its header, or the default) less the reply's travel. */
  private clientWaitMs(msg: Msg): number {
    let timeoutMs: number;
    try {
      timeoutMs = requestTimeoutMs(msg.headers);
    } catch {
      timeoutMs = requestTimeoutMs(undefined); // undecodable headers: as if none
    }
    return timeoutMs - Math.min(REPLY_MARGIN_MS, timeoutMs / 4);
  }

  /**
   * A queued request whose client has given up: not served. It is answered Timeout anyway — a
   * few bytes nobody reads in the usual case, but a client without the header that waits longer
   * than the default, or one still inside the margin, learns now why instead of waiting out its
   * timer. Not 429: our client would send it again, back into the queue that just shed it.
   */
  private expire(verb: ApiVerb, msg: Msg, started: number): void {
    const waitedMs = performance.now() - started;
    const err = new ApiError(Reason.Timeout, `the request waited ${Math.round(waitedMs)} ms for the API server, longer than its client waits; it was not served`);
    this.observeRequest?.(verb, subjects.parseApi(msg.subject)?.plural ?? '', err.code, waitedMs / 1000);
    if (msg.reply) msg.respond(encode({ ok: false, error: err.toWire() }));
    this.expiredSinceLog++;
    const now = performance.now();
    if (now - this.lastExpiryLog >= EXPIRY_LOG_EVERY_MS) {
      const stats = this.queue.stats();
      this.log.warn({ expired: this.expiredSinceLog, expiredTotal: stats.expired, queued: stats.queued, waitedMs: Math.round(waitedMs) }, 'dropped queued requests whose clients had given up (overloaded)');
      this.expiredSinceLog = 0;
      this.lastExpiryLog = now;
    }
  }

  /**
   * Only Lease and Node requests can be node-critical: only theirs are decoded here, and the
   * decoded body is what serve() then handles (once: a renewal was decoded twice).
   */
  private classify(verb: ApiVerb, msg: Msg): { level: PriorityLevel; body?: Record<string, any> } {
    const plural = subjects.parseApi(msg.subject)?.plural;
    if (plural !== 'leases' && plural !== 'nodes') return { level: 'workload' };
    try {
      const body = decode(msg.data);
      if (!body || typeof body !== 'object' || Array.isArray(body)) return { level: 'workload' };
      return { level: priorityLevel(verb, plural === 'leases' ? 'Lease' : 'Node', body as Record<string, any>), body: body as Record<string, any> };
    } catch {
      return { level: 'workload' }; // serve() answers the garbage
    }
  }

  /** Decodes (unless classify() did), dispatches and answers one request; every failure becomes a typed error reply. */
  private async serve(verb: ApiVerb, msg: Msg, started: number, decoded?: Record<string, any>): Promise<void> {
    let reply: Reply<unknown>;
    let kind = '';
    let store: KindStore | undefined;
    try {
      const k = kindFromSubject(msg.subject);
      kind = k;
      store = this.stores.get(k);
      let body: unknown = decoded;
      try {
        body ??= decode(msg.data);
      } catch (e) {
        throw ApiError.badRequest(`cannot decode request on ${msg.subject}: ${(e as Error).message}; requests are msgpack maps`);
      }
      if (!body || typeof body !== 'object' || Array.isArray(body)) throw ApiError.badRequest(`request on ${msg.subject} must be a map`);
      reply = { ok: true, value: await this.dispatch(verb, k, body as Record<string, any>) };
    } catch (e) {
      const err = toApiError(e);
      if (err.reason === 'InternalError') this.log.error({ err: e, subject: msg.subject }, 'internal error');
      reply = { ok: false, error: err.toWire() };
    }
    this.observeRequest?.(verb, kind, reply.ok ? (verb === 'create' ? 201 : 200) : reply.error.code, (performance.now() - started) / 1000);
    if (!msg.reply) return;
    // An object written in this turn was encoded for its watch event already: the reply reuses that.
    const raw = reply.ok ? store?.encodedOf(reply.value) : undefined;
    let data = raw ? encodeWithRaw({ ok: true }, 'value', raw) : encode(reply);
    const max = this.nc.info?.max_payload;
    if (max && data.length > max) {
      // Never crash on an oversized reply: say so (a whole list without `limit` can get there).
      const err = new ApiError(Reason.RequestEntityTooLarge, `the reply is ${data.length} bytes, more than the ${max} a NATS message carries; list with limit/continue`);
      data = encode({ ok: false, error: err.toWire() });
    }
    msg.respond(data);
  }

  private dispatch(verb: ApiVerb, kind: Kind, body: Record<string, any>): unknown {
    const h = this.handlers;
    switch (verb) {
      case 'create':
        return h.create(kind, body as any);
      case 'apply':
        return h.apply(kind, body as any);
      case 'get':
        return h.get(kind, body as any);
      case 'list':
        return h.list(kind, body);
      case 'update':
        return h.update(kind, body as any);
      case 'updateStatus':
        return h.updateStatus(kind, body as any);
      case 'delete':
        return h.delete(kind, body as any);
      case 'createMany':
        return h.createMany(kind, body as any);
      case 'bind':
        if (kind !== 'Pod') throw ApiError.badRequest('bind is only defined for pods');
        return h.bind(body as any);
      case 'bindMany':
        if (kind !== 'Pod') throw ApiError.badRequest('bindMany is only defined for pods');
        return h.bindMany(body as any);
    }
  }

  private publish(kind: Kind, ev: WatchEvent, encodedObject?: Uint8Array): void {
    const meta = ev.object.metadata!;
    const data = encodedObject ? encodeWithRaw({ type: ev.type }, 'object', encodedObject) : encode(ev);
    // Once: a pod's subject names its node, which is what its kubelet subscribes to.
    const nodeName = kind === 'Pod' ? (ev.object as KubeObject).spec?.nodeName : undefined;
    this.nc.publish(subjects.watch(KINDS[kind].plural, meta.namespace, meta.name!, typeof nodeName === 'string' ? nodeName : undefined), data);
    if (ev.type === 'DELETED' && KINDS[kind].namespaced && meta.namespace) {
      const ns = this.stores.get('Namespace')!.get(undefined, meta.namespace);
      if (ns?.status?.phase === 'Terminating') void this.handlers.finalizeNamespace(meta.namespace);
    }
  }
}

function kindFromSubject(subject: string): Kind {
  const parsed = subjects.parseApi(subject);
  const kind = KIND_NAMES.find((k) => KINDS[k].plural === parsed?.plural);
  if (!kind) throw ApiError.badRequest(`the server could not find the requested resource "${parsed?.plural ?? subject}"`);
  return kind;
}
