/**
 * Typed request/reply client of the API server, used by the CLI, the kubelets and the
 * controllers alike. Errors come back as ApiError with the server's reason and causes.
 */
import { createInbox, type NatsConnection, type Subscription } from 'nats';
import { decode, encode, ownString } from './codec.js';
import { ApiError, Reason } from './errors.js';
import { KINDS, type Kind } from './kinds.js';
import type { MetricsList, NodeMetrics, NodeMetricsRequest, PodMetrics, PodMetricsRequest, TrafficReply, TrafficRequest } from './metrics.js';
import type { ApplyResult, BindManyReply, BindManyRequest, BindRequest, CreateManyReply, CreateManyRequest, DeleteRequest, ListRequest, LocalVolumeReply, LocalVolumeRequest, LogChunk, LogsReply, LogsRequest, Reply } from './messages.js';
import type { KubeObject, ObjectList, WatchEvent } from './objects.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, timeoutHeaders } from './request-deadline.js';
import { matchesFilters } from './selectors.js';
import { subjects, type ApiVerb } from './subjects.js';

/** Items per page when a whole list is fetched (kubectl's default chunk size). */
export const LIST_PAGE_SIZE = 500;

export interface ClientOptions {
  /** Per-request timeout in ms (default 5000); sent with each request, so the API server drops it unserved once this has passed. */
  timeoutMs?: number;
  /**
   * 'node-critical': every API request goes to the node-critical subjects
   * (`subjects.apiPriority`), which the API server reads on a connection of its own and serves
   * ahead of queued workload requests — for a kubelet's heartbeat (Lease get/apply/update in
   * kube-node-lease, its Node's get/updateStatus). The server classifies each request itself:
   * anything else sent this way is served at the workload level. Default 'workload'.
   */
  priority?: 'node-critical' | 'workload';
  /**
   * How many times a request refused with 429 TooManyRequests is sent again, after the
   * `retryAfterSeconds` the server asks for (default 10, client-go's). A 429 is answered before
   * the request is served, so nothing was stored and a retry is safe for every verb. 0: the
   * caller sees the 429.
   */
  maxRetries?: number;
}

/** The wait before a 429 is retried: what the server asked for (1 s if it did not say), at most 10 s, with 10% jitter so refused clients do not come back together. */
function retryDelayMs(retryAfterSeconds = 1): number {
  return Math.min(retryAfterSeconds, 10) * 1000 * (0.9 + Math.random() * 0.2);
}

/** A batch reply's results as one error (or undefined: done) per item sent; a missing result is an InternalError. */
function itemErrors(verb: ApiVerb, item: string, count: number, reply: BindManyReply | CreateManyReply | undefined): (ApiError | undefined)[] {
  return Array.from({ length: count }, (_, i) => {
    const r = reply?.results?.[i];
    if (!r) return new ApiError(Reason.InternalError, `${verb} replied without a result for ${item} ${i}`);
    return r.ok ? undefined : ApiError.fromWire(r.error);
  });
}

export class ApiClient {
  readonly nc: NatsConnection;
  readonly priority: 'node-critical' | 'workload';
  private readonly timeoutMs: number;
  private readonly maxRetries: number;

  constructor(nc: NatsConnection, opts: ClientOptions = {}) {
    this.nc = nc;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.maxRetries = opts.maxRetries ?? 10;
    this.priority = opts.priority ?? 'workload';
  }

  async call<T>(verb: ApiVerb, kind: Kind, body: unknown): Promise<T> {
    const plural = KINDS[kind].plural;
    const subject = this.priority === 'node-critical' ? subjects.apiPriority(verb, plural) : subjects.api(verb, plural);
    for (let retries = 0; ; retries++) {
      try {
        return await this.requestTyped<T>(subject, body);
      } catch (e) {
        if (!(e instanceof ApiError && e.reason === Reason.TooManyRequests) || retries >= this.maxRetries) throw e;
        await new Promise((r) => setTimeout(r, retryDelayMs(e.retryAfterSeconds)));
      }
    }
  }

  /** Sends one request and unwraps the typed reply. */
  async requestTyped<T>(subject: string, body: unknown, timeoutMs = this.timeoutMs): Promise<T> {
    let msg;
    const data = encode(body);
    try {
      // The header tells the server when this client stops listening (protocol/request-deadline.ts).
      msg = await this.nc.request(subject, data, { timeout: timeoutMs, headers: timeoutHeaders(timeoutMs) });
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'MAX_PAYLOAD_EXCEEDED') {
        throw new ApiError(Reason.RequestEntityTooLarge, `Request entity too large: the request is ${data.length} bytes, the server accepts at most ${this.nc.info?.max_payload ?? 'fewer'} bytes`, { cause: e });
      }
      if (code === '503') throw new ApiError(Reason.ServiceUnavailable, `no server answers on ${subject}: is the control plane running?`, { cause: e });
      if (code === 'TIMEOUT') throw new ApiError(Reason.Timeout, `request on ${subject} timed out after ${timeoutMs} ms`, { cause: e });
      throw new ApiError(Reason.ServiceUnavailable, `request on ${subject} failed: ${(e as Error).message}`, { cause: e });
    }
    let reply: Reply<T>;
    try {
      reply = decode<Reply<T>>(msg.data);
    } catch (e) {
      throw new ApiError(Reason.InternalError, `undecodable reply on ${subject}`, { cause: e });
    }
    if (!reply || typeof reply !== 'object') throw new ApiError(Reason.InternalError, `malformed reply on ${subject}`);
    if (!reply.ok) throw ApiError.fromWire(reply.error);
    return reply.value;
  }

  create<T extends KubeObject>(obj: T): Promise<T> {
    return this.call('create', requireKind(obj), { object: obj });
  }
  apply<T extends KubeObject>(obj: T): Promise<ApplyResult<T>> {
    return this.call('apply', requireKind(obj), { object: obj });
  }
  get<T extends KubeObject = KubeObject>(kind: Kind, name: string, namespace?: string): Promise<T> {
    return this.call('get', kind, { name, namespace });
  }
  /** Like get, but undefined when the object does not exist. */
  async find<T extends KubeObject = KubeObject>(kind: Kind, name: string, namespace?: string): Promise<T | undefined> {
    try {
      return await this.get<T>(kind, name, namespace);
    } catch (e) {
      if (e instanceof ApiError && e.reason === Reason.NotFound) return undefined;
      throw e;
    }
  }
  /**
   * With `limit`: one page (its `metadata.continue` asks for the next). Without: every item,
   * fetched in pages of LIST_PAGE_SIZE so no reply outgrows NATS' maximum payload.
   */
  async list<T extends KubeObject = KubeObject>(kind: Kind, opts: ListRequest = {}): Promise<ObjectList<T>> {
    if (opts.limit !== undefined || opts.continue !== undefined) return this.call('list', kind, opts);
    const first = await this.call<ObjectList<T>>('list', kind, { ...opts, limit: LIST_PAGE_SIZE });
    for (let page = first; page.metadata.continue; ) {
      page = await this.call<ObjectList<T>>('list', kind, { ...opts, limit: LIST_PAGE_SIZE, continue: page.metadata.continue });
      for (const item of page.items) first.items.push(item);
      first.metadata.continue = page.metadata.continue;
    }
    delete first.metadata.remainingItemCount;
    return first;
  }
  update<T extends KubeObject>(obj: T): Promise<T> {
    return this.call('update', requireKind(obj), { object: obj });
  }
  updateStatus<T extends KubeObject>(obj: T): Promise<T> {
    return this.call('updateStatus', requireKind(obj), { object: obj });
  }
  delete<T extends KubeObject = KubeObject>(kind: Kind, name: string, opts: Omit<DeleteRequest, 'name'> = {}): Promise<T> {
    return this.call('delete', kind, { ...opts, name });
  }
  bind(req: BindRequest): Promise<KubeObject> {
    return this.call('bind', 'Pod', req);
  }
  /** Many bindings in one request: per binding, undefined when bound, else the ApiError (as `bind` would have thrown it). */
  async bindMany(bindings: BindRequest[]): Promise<(ApiError | undefined)[]> {
    const reply = await this.call<BindManyReply>('bindMany', 'Pod', { bindings } satisfies BindManyRequest);
    return itemErrors('bindMany', 'binding', bindings.length, reply);
  }

  /**
   * Many new objects of one kind in one request (Event recorders batch their creates this
   * way): per object, undefined when created, else the ApiError `create` would have thrown.
   */
  async createMany(kind: Kind, objects: KubeObject[]): Promise<(ApiError | undefined)[]> {
    const reply = await this.call<CreateManyReply>('createMany', kind, { objects } satisfies CreateManyRequest);
    return itemErrors('createMany', 'object', objects.length, reply);
  }

  /**
   * Reads the object, applies `mutate`, writes it back with compare-and-set; on Conflict it
   * re-reads and tries again. `mutate` returning false means "nothing to change".
   */
  async modify<T extends KubeObject>(
    kind: Kind,
    name: string,
    namespace: string | undefined,
    mutate: (obj: T) => boolean | void,
    opts: { status?: boolean; attempts?: number } = {},
  ): Promise<T | undefined> {
    const attempts = opts.attempts ?? 8;
    for (let i = 0; ; i++) {
      const current = await this.find<T>(kind, name, namespace);
      if (!current) return undefined;
      if (mutate(current) === false) return current;
      try {
        return await (opts.status ? this.updateStatus(current) : this.update(current));
      } catch (e) {
        if (!(e instanceof ApiError && e.reason === Reason.Conflict) || i + 1 >= attempts) throw e;
      }
    }
  }

  /**
   * Watches a kind: subscribes first, then lists, so nothing falls between the two; events
   * older than what the list returned are dropped (resourceVersion is the store revision).
   * `onEvent` first receives an ADDED event per listed object.
   *
   * Level-based across API server restarts (`relistOnApiServerStart`, default true): a write
   * the killed server committed but never published has no event, so on the new server's
   * announcement the watch lists again and delivers what changed meanwhile — MODIFIED, ADDED,
   * and DELETED (with the last object seen) for what the list lacks. It keeps the last object
   * of each key for that; a watcher in the API server's own process (never restarted apart
   * from it) turns it off.
   */
  async watch<T extends KubeObject = KubeObject>(
    kind: Kind,
    opts: ListRequest & { subject?: string; relistOnApiServerStart?: boolean },
    onEvent: (ev: WatchEvent<T>) => void,
  ): Promise<Watch> {
    const { subject: subjectOpt, relistOnApiServerStart = true, ...listOpts } = opts;
    const subject = subjectOpt ?? subjects.watchAll(KINDS[kind].plural, opts.namespace);
    const seen = new Map<string, number>();
    /** The last object delivered per key, unless deleted (only when relisting on restarts). */
    const alive = relistOnApiServerStart ? new Map<string, T>() : undefined;
    /** Keys the watch delivered while a relist runs: its pages may be older than them. */
    let touched: Set<string> | undefined;
    const key = (o: KubeObject) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
    const deliver = (ev: WatchEvent<T>) => {
      const rv = Number(ev.object.metadata?.resourceVersion ?? 0);
      const k = key(ev.object);
      const last = seen.get(k);
      if (last !== undefined && last >= rv) return; // already delivered (list/event race or duplicate)
      // A new key is kept for the watch's life: its own copy, not a rope over this message's strings.
      seen.set(last === undefined ? ownString(k) : k, rv);
      if (ev.type === 'DELETED') alive?.delete(k);
      else alive?.set(k, ev.object);
      onEvent(ev);
    };
    const buffered: WatchEvent<T>[] = [];
    let listed = false;
    const sub = this.nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) return;
        let ev: WatchEvent<T>;
        try {
          ev = decode<WatchEvent<T>>(msg.data);
        } catch {
          return; // garbage on a watch subject is ignored, never fatal
        }
        if (!isWatchEvent(ev, kind)) return; // forged or malformed: never fed to a watcher
        if (!matchesFilters(ev.object, opts)) return;
        touched?.add(key(ev.object));
        if (listed) deliver(ev);
        else buffered.push(ev);
      },
    });
    const subs = [sub];
    const state = { stopped: false };
    if (alive) {
      const relist = async () => {
        touched = new Set();
        try {
          const list = await this.list<T>(kind, listOpts);
          const present = new Set<string>();
          for (const item of list.items) {
            const k = key(item);
            present.add(k);
            deliver({ type: alive.has(k) ? 'MODIFIED' : 'ADDED', object: item });
          }
          for (const [k, last] of alive) {
            if (present.has(k) || touched.has(k)) continue;
            alive.delete(k);
            onEvent({ type: 'DELETED', object: last });
          }
        } finally {
          touched = undefined;
        }
      };
      const relists = new RelistOnce(relist, state);
      subs.push(this.nc.subscribe(subjects.apiServerStarted(), { callback: () => relists.request() }));
    }
    await this.nc.flush();
    const list = await this.list<T>(kind, listOpts);
    for (const item of list.items) deliver({ type: 'ADDED', object: item });
    listed = true;
    for (const ev of buffered.splice(0)) deliver(ev);
    return new Watch(() => {
      state.stopped = true;
      for (const s of subs) s.unsubscribe();
    }, list.metadata.resourceVersion, list.items.length > 0);
  }

  /**
   * Resolves with the first state of the object (undefined once deleted) that satisfies
   * `predicate`, checked on the current state and on every watch event; rejects with
   * ApiError Timeout after `timeoutMs`, naming the last state seen.
   */
  async waitFor<T extends KubeObject = KubeObject>(
    kind: Kind,
    name: string,
    namespace: string | undefined,
    predicate: (obj: T | undefined) => boolean,
    timeoutMs = 30_000,
  ): Promise<T | undefined> {
    let last: T | undefined;
    let matched = false;
    let settle!: (v: T | undefined) => void;
    const done = new Promise<T | undefined>((r) => (settle = r));
    const check = (obj: T | undefined) => {
      last = obj;
      if (!matched && predicate(obj)) {
        matched = true;
        settle(obj);
      }
    };
    const ns = KINDS[kind].namespaced ? (namespace ?? 'default') : undefined;
    const watch = await this.watch<T>(kind, { namespace: ns, fieldSelector: `metadata.name=${name}` }, (ev) => check(ev.type === 'DELETED' ? undefined : ev.object));
    try {
      if (!watch.sawAny) check(undefined);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new ApiError(Reason.Timeout, `timed out after ${timeoutMs} ms waiting for ${kind.toLowerCase()} ${name}; last seen status: ${JSON.stringify(last?.status ?? 'absent')}`)),
          timeoutMs,
        );
      });
      return await Promise.race([done, timeout]).finally(() => clearTimeout(timer));
    } finally {
      watch.stop();
    }
  }

  /** Container logs from the kubelet of the pod's node. */
  /** PodMetrics from the metrics server (`kubectl top pods`). */
  podMetrics(req: PodMetricsRequest = {}): Promise<MetricsList<PodMetrics>> {
    return this.requestTyped(subjects.metrics('pods'), req);
  }
  /** NodeMetrics from the metrics server (`kubectl top nodes`). */
  nodeMetrics(req: NodeMetricsRequest = {}): Promise<MetricsList<NodeMetrics>> {
    return this.requestTyped(subjects.metrics('nodes'), req);
  }
  /** Request and connection rates through kube-proxy, per pod and per Service. */
  traffic(req: TrafficRequest = {}): Promise<TrafficReply> {
    return this.requestTyped(subjects.metrics('traffic'), req);
  }

  /** Asks a node's kubelet to create or remove a local-path volume directory. */
  localVolume(nodeName: string, req: LocalVolumeRequest): Promise<LocalVolumeReply> {
    return this.requestTyped<LocalVolumeReply>(subjects.nodeVolumes(nodeName), req);
  }
  async logs(nodeName: string, req: LogsRequest): Promise<LogsReply> {
    return this.requestTyped<LogsReply>(subjects.nodeLogs(nodeName), req);
  }

  /** Follows container logs; resolves when the stream ends or `signal` aborts. */
  async followLogs(nodeName: string, req: LogsRequest, onText: (text: string) => void, signal?: AbortSignal): Promise<void> {
    const inbox = createInbox();
    const sub = this.nc.subscribe(inbox);
    const done = new Promise<void>((resolve) => {
      signal?.addEventListener('abort', () => {
        sub.unsubscribe();
        resolve();
      });
      (async () => {
        for await (const m of sub) {
          let chunk: LogChunk;
          try {
            chunk = decode<LogChunk>(m.data);
          } catch {
            continue;
          }
          if (chunk.text) onText(chunk.text);
          m.respond(encode({ ok: true }));
          if (chunk.end) break;
        }
        sub.unsubscribe();
        resolve();
      })().catch(() => resolve());
    });
    await this.nc.flush();
    await this.requestTyped<LogsReply>(subjects.nodeLogs(nodeName), { ...req, follow: true, inbox });
    await done;
  }
}

export class Watch {
  constructor(
    private readonly unsubscribe: () => void,
    readonly listResourceVersion: string,
    /** Whether the initial list held any object. */
    readonly sawAny: boolean,
  ) {}
  stop(): void {
    this.unsubscribe();
  }
}

/**
 * Runs a watch's relist on request, one at a time: requests during a run make one more run
 * (announcements are level triggers, several collapse into one); a failed run is tried again
 * after 0.5, 1, 2, 4 s, then given up (the watcher's own resync, if any, repairs the rest).
 */
class RelistOnce {
  private running = false;
  private again = false;

  constructor(
    private readonly relist: () => Promise<void>,
    private readonly state: { stopped: boolean },
  ) {}

  request(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.loop().finally(() => (this.running = false));
  }

  private async loop(): Promise<void> {
    for (let failures = 0; !this.state.stopped && failures <= 4; ) {
      this.again = false;
      try {
        await this.relist();
        if (!this.again) return;
      } catch {
        await new Promise((r) => setTimeout(r, 500 * 2 ** failures++).unref());
      }
    }
  }
}

/**
 * Whether a message on a watch subject has the shape the API server publishes: a known event
 * type and a map object of the watched kind, its metadata with a string name (and namespace,
 * for namespaced kinds) and a numeric resourceVersion, spec and status maps. Anything else
 * (garbage, a wrongly typed map) would reach watchers as an object of the wrong kind or shape.
 */
function isWatchEvent(ev: unknown, kind: Kind): ev is WatchEvent {
  if (!isMap(ev)) return false;
  if (ev.type !== 'ADDED' && ev.type !== 'MODIFIED' && ev.type !== 'DELETED') return false;
  const obj = ev.object;
  if (!isMap(obj) || obj.kind !== kind) return false;
  const meta = obj.metadata;
  if (!isMap(meta) || typeof meta.name !== 'string' || !meta.name) return false;
  if (typeof meta.resourceVersion !== 'string' || !/^[1-9][0-9]{0,15}$/.test(meta.resourceVersion)) return false;
  if (KINDS[kind].namespaced && typeof meta.namespace !== 'string') return false;
  return (obj.spec == null || isMap(obj.spec)) && (obj.status == null || isMap(obj.status));
}

function isMap(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function requireKind(obj: KubeObject): Kind {
  const kind = obj?.kind;
  if (typeof kind !== 'string' || !(kind in KINDS)) {
    throw new ApiError(Reason.BadRequest, kind ? `no matches for kind "${String(kind)}"` : 'Object \'Kind\' is missing');
  }
  return kind as Kind;
}

