/**
 * What each API verb does to the store. Every handler validates fully before it writes,
 * writes with compare-and-set, and is safe to repeat.
 */
import { ApiError, CauseType, Reason, toApiError, type FieldCause, type WireError } from '../../protocol/errors.js';
import { KINDS, type Kind } from '../../protocol/kinds.js';
import { MAX_BINDINGS_PER_REQUEST, MAX_CREATES_PER_REQUEST, type BindManyReply, type BindManyRequest, type CreateManyReply, type CreateManyRequest } from '../../protocol/messages.js';
import type { ApplyResult, ApplyRequest, BindRequest, CreateRequest, DeleteRequest, GetRequest, ListRequest, UpdateRequest } from '../../protocol/messages.js';
import { nowTimestamp, type KubeObject, type ObjectList } from '../../protocol/objects.js';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from '../../protocol/selectors.js';
import { validateObject, MAX_OBJECT_BYTES } from '../../protocol/validation/index.js';
import { CONTENT_FIELDS, defaultMetadata, defaultSpec, stampCreation } from './defaults.js';
import { prepareServiceUpdate, type Claim, type ServiceAllocator } from './service-ips.js';
import { admitStorage } from './storage-admission.js';
import { jsonEqual } from '../../protocol/json-equal.js';
import { packedHints, storedBytes, type KindStore } from './store.js';


/** A compare-and-set write found a newer version than `revision`, the one the handler had read. */
class LostWriteRace extends Error {
  constructor(
    readonly conflict: ApiError,
    readonly revision: number,
  ) {
    super(conflict.message);
  }
}

function lostRaceOnConflict<T>(write: Promise<T>, revision: number): Promise<T> {
  return write.catch((e) => {
    throw e instanceof ApiError && e.reason === Reason.Conflict ? new LostWriteRace(e, revision) : e;
  });
}

export const PROTECTED_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export class Handlers {
  /** Encoded bytes of objects a list page may carry (set from the NATS maximum payload). */
  maxPageBytes = 768 * 1024;

  constructor(
    private readonly stores: Map<Kind, KindStore>,
    private readonly now: () => number = Date.now,
    /** ClusterIPs and node ports of Services (none: Services are stored as given). */
    private readonly services?: ServiceAllocator,
  ) {}

  private store(kind: Kind): KindStore {
    return this.stores.get(kind)!;
  }

  get(kind: Kind, req: GetRequest): KubeObject {
    requireName(req?.name);
    // The cached object itself: the reply only encodes it.
    const obj = this.store(kind).peek(scopeNamespace(kind, req.namespace), req.name);
    if (!obj) throw ApiError.notFound(kind, req.name);
    return obj as KubeObject;
  }

  /**
   * A list, or one page of it with `limit` (Kubernetes' chunking): items in key order
   * (namespace/name), `metadata.continue` naming the last key served. Pages are read from the
   * live cache, not from a snapshot: an object changed between pages is served as it is then,
   * and one created before the cursor is not (watchers get it as an event).
   */
  list(kind: Kind, req: ListRequest): ObjectList {
    const labels = parseLabelSelector(optionalString(req?.labelSelector, 'labelSelector'));
    const fields = parseFieldSelector(optionalString(req?.fieldSelector, 'fieldSelector'));
    const namespace = KINDS[kind].namespaced ? optionalString(req?.namespace, 'namespace') : undefined;
    const limit = req?.limit;
    if (limit !== undefined && limit !== null && !(Number.isInteger(limit) && limit >= 0)) {
      throw ApiError.badRequest(`limit must be a non-negative integer, got ${JSON.stringify(limit)}`);
    }
    const token = req?.continue ? decodeContinue(optionalString(req.continue, 'continue')!) : undefined;
    const store = this.store(kind);
    // The cache is kept in key order: the page starts at the namespace's first key or after the
    // continue token's, and without selectors ends after `limit` items instead of a full scan.
    const prefix = namespace ? `${namespace}/` : '';
    const after = token && token.after >= prefix ? token.after : undefined;
    const filtered = labels.length > 0 || fields.length > 0;
    const page: { key: string; obj: KubeObject }[] = [];
    let more = false;
    let remaining = 0;
    let bytes = 0;
    for (const { key, cached } of store.listFrom(after ?? prefix, after !== undefined, packedHints(fields))) {
      if (namespace && !key.startsWith(prefix)) break;
      const obj = cached.obj; // once: a packed object decodes on each read
      if (labels.length && !matchesLabels(labels, obj.metadata?.labels as Record<string, string>)) continue;
      if (fields.length && !matchesFields(fields, obj)) continue;
      if (limit && !more) {
        // A page also ends before its reply would outgrow one NATS message (at least one item).
        bytes += cached.bytes + 64;
        if (page.length >= limit || (bytes > this.maxPageBytes && page.length > 0)) more = true;
      }
      if (!more) page.push({ key, obj });
      else if (filtered) remaining++; // what the selectors leave of the rest is only known by looking
      else break;
    }
    if (more && !filtered) {
      // Every key of the range matches: count them in the index. `N0` follows every `N/…` key.
      remaining = store.countFrom(page[page.length - 1].key, true) - (namespace ? store.countFrom(`${namespace}0`) : 0);
    }
    const resourceVersion = token?.rv ?? String(store.revision);
    const metadata: ObjectList['metadata'] = { resourceVersion };
    if (more) {
      metadata.continue = encodeContinue({ rv: resourceVersion, after: page[page.length - 1].key });
      metadata.remainingItemCount = remaining;
    }
    return { apiVersion: KINDS[kind].apiVersion, kind: `${kind}List`, metadata, items: page.map((m) => m.obj) }; // cached objects, only encoded
  }

  async create(kind: Kind, req: CreateRequest): Promise<KubeObject> {
    const obj = this.admitNew(kind, req?.object);
    const claim = kind === 'Service' ? this.services?.allocateCreate(obj) : undefined;
    try {
      return await this.store(kind).create(obj, encodeForStore(kind, obj));
    } finally {
      claim?.done(); // stored: the store's change event holds the values now; failed: they are free again
    }
  }

  /**
   * Many creates of one kind in one request: each object is admitted and written exactly as
   * `create` does it, all writes in flight together, each with its own result (one failing
   * fails only itself). The reply names what was stored instead of carrying it back.
   */
  async createMany(kind: Kind, req: CreateManyRequest): Promise<CreateManyReply> {
    const objects: unknown = req?.objects;
    if (!Array.isArray(objects)) throw ApiError.badRequest('objects must be a list of objects');
    if (objects.length > MAX_CREATES_PER_REQUEST) throw ApiError.badRequest(`at most ${MAX_CREATES_PER_REQUEST} objects per request, got ${objects.length}`);
    return {
      results: await eachSettled(objects, async (o) => {
        const made = await this.create(kind, { object: o as KubeObject });
        return { name: made.metadata!.name!, resourceVersion: made.metadata!.resourceVersion! };
      }),
    };
  }

  async apply(kind: Kind, req: ApplyRequest): Promise<ApplyResult> {
    const incoming = requireObject(kind, req?.object);
    defaultMetadata(kind, incoming);
    const name = incoming.metadata?.name;
    const existing = typeof name === 'string' ? this.store(kind).get(scopeNamespace(kind, incoming.metadata?.namespace), name) : undefined;
    if (!existing) return { object: await this.create(kind, { object: incoming }), outcome: 'created' };
    const next = structuredClone(existing);
    next.metadata!.labels = incoming.metadata?.labels;
    next.metadata!.annotations = incoming.metadata?.annotations;
    if (incoming.metadata?.ownerReferences) next.metadata!.ownerReferences = incoming.metadata.ownerReferences;
    if ('spec' in incoming) {
      const spec = structuredClone(incoming.spec);
      const candidate = { ...incoming, spec };
      defaultSpec(kind, candidate);
      if (kind === 'Pod' && existing.spec?.nodeName && candidate.spec && typeof candidate.spec === 'object') candidate.spec.nodeName ??= existing.spec.nodeName;
      next.spec = candidate.spec;
      if (kind === 'Service') prepareServiceUpdate(existing, next);
    }
    const content = CONTENT_FIELDS[kind];
    if (content) {
      const n = next as Record<string, unknown>;
      for (const field of content) {
        if (field in incoming) n[field] = structuredClone((incoming as Record<string, unknown>)[field]);
        else delete n[field];
      }
      defaultSpec(kind, next);
    }
    if (sameContent(existing, next)) return { object: existing, outcome: 'unchanged' };
    return { object: await this.writeUpdate(kind, existing, next), outcome: 'configured' };
  }

  async update(kind: Kind, req: UpdateRequest): Promise<KubeObject> {
    const incoming = requireObject(kind, req?.object);
    defaultMetadata(kind, incoming);
    const existing = this.existingFor(kind, incoming);
    const next = structuredClone(incoming);
    // Status goes through updateStatus; system metadata stays the server's.
    next.status = existing.status;
    keepSystemMetadata(next, existing);
    if (next.spec && typeof next.spec === 'object') {
      defaultSpec(kind, next);
      next.status = existing.status;
      if (existing.spec?.nodeName) next.spec.nodeName ??= existing.spec.nodeName;
      if (kind === 'Service') prepareServiceUpdate(existing, next);
    } else if (CONTENT_FIELDS[kind]) defaultSpec(kind, next);
    checkVersion(kind, incoming, existing);
    return this.writeUpdate(kind, existing, next);
  }

  async updateStatus(kind: Kind, req: UpdateRequest): Promise<KubeObject> {
    const incoming = requireObject(kind, req?.object);
    defaultMetadata(kind, incoming);
    // The kubelets' hot path: the cached object is read uncopied, copied once into the new version.
    const existing = this.existingFor(kind, incoming, { copy: false });
    checkVersion(kind, incoming, existing);
    // A shallow copy: the new version shares spec with the cached object and is only encoded —
    // except a Service's, which the IP allocator writes into (allocateUpdate): the cache is shared.
    const next: KubeObject = { ...existing, metadata: { ...existing.metadata }, status: incoming.status };
    if (kind === 'Service') next.spec = structuredClone(existing.spec);
    return this.writeUpdate(kind, existing, next);
  }

  async delete(kind: Kind, req: DeleteRequest): Promise<KubeObject> {
    // A delete whose compare-and-set write loses a race with another writer (a kubelet writing
    // status) is tried again against the newer version, as kube-apiserver does: preconditions
    // are checked again each time, so only a failed precondition is the caller's Conflict.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.deleteOnce(kind, req);
      } catch (e) {
        if (!(e instanceof LostWriteRace)) throw e;
        if (attempt >= 10) throw e.conflict;
        await this.store(kind).untilChanged(scopeNamespace(kind, req.namespace), req.name, e.revision);
      }
    }
  }

  private async deleteOnce(kind: Kind, req: DeleteRequest): Promise<KubeObject> {
    requireName(req?.name);
    const namespace = scopeNamespace(kind, optionalString(req.namespace, 'namespace'));
    const store = this.store(kind);
    let existing = store.get(namespace, req.name);
    if (!existing) throw ApiError.notFound(kind, req.name);
    const pre = req.preconditions;
    if (pre?.uid && pre.uid !== existing.metadata?.uid) throw new ApiError(Reason.Conflict, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${existing.metadata?.uid}`);
    if (pre?.resourceVersion && pre.resourceVersion !== existing.metadata?.resourceVersion) throw ApiError.conflict(kind, req.name);
    let rev = Number(existing.metadata!.resourceVersion);
    if (kind === 'Namespace') return this.deleteNamespace(existing, rev);
    if (req.propagationPolicy !== undefined && req.propagationPolicy !== 'Orphan' && req.propagationPolicy !== 'Background') {
      throw ApiError.badRequest(`unsupported propagationPolicy "${String(req.propagationPolicy)}": use Orphan or Background`);
    }
    if (req.propagationPolicy === 'Orphan' && this.dependentsOf(existing).length) {
      // As kube-apiserver's orphan finalizer does: the owner is marked as being deleted first, so
      // its controller leaves it alone (a Deployment would make a new ReplicaSet for the ones it
      // just lost, a ReplicaSet would adopt its pods back), then the dependents lose their
      // ownerReference, then the owner goes.
      if (kind !== 'Pod' && !existing.metadata?.deletionTimestamp) {
        const marked = structuredClone(existing);
        marked.metadata!.deletionTimestamp = nowTimestamp(this.now());
        existing = await lostRaceOnConflict(store.update(marked, rev), rev);
        rev = Number(existing.metadata!.resourceVersion);
      }
      await this.orphanDependents(existing);
    }
    if (kind === 'Pod' && this.needsGracefulStop(existing)) {
      const grace = req.gracePeriodSeconds ?? existing.spec?.terminationGracePeriodSeconds ?? 30;
      if (typeof grace !== 'number' || !Number.isInteger(grace) || grace < 0) throw ApiError.badRequest('gracePeriodSeconds must be a non-negative integer');
      if (grace > 0) {
        const current = existing.metadata!.deletionGracePeriodSeconds;
        if (existing.metadata!.deletionTimestamp && current !== undefined && current <= grace) return existing; // already terminating, as soon or sooner
        const next = structuredClone(existing);
        next.metadata!.deletionTimestamp = nowTimestamp(this.now() + grace * 1000);
        next.metadata!.deletionGracePeriodSeconds = grace;
        return lostRaceOnConflict(store.update(next, rev), rev);
      }
    }
    if (hasFinalizers(existing)) {
      // As kube-apiserver: an object with finalizers is only marked; it goes when the last one is removed.
      if (existing.metadata!.deletionTimestamp && existing.metadata!.deletionGracePeriodSeconds === 0) return existing;
      const marked = structuredClone(existing);
      marked.metadata!.deletionTimestamp ??= nowTimestamp(this.now());
      marked.metadata!.deletionGracePeriodSeconds = 0;
      return lostRaceOnConflict(store.update(marked, rev), rev);
    }
    await lostRaceOnConflict(store.remove(namespace, req.name, rev), rev);
    // As kube-apiserver's REST delete: a Service's ClusterIP and node ports are free when the
    // DELETE answers, not only once the store's change event reaches the allocator (idempotent:
    // that event then finds nothing held by this uid).
    if (kind === 'Service') this.services?.observe({ type: 'DELETED', object: existing });
    return existing;
  }

  /** `--cascade=orphan`: dependents lose their ownerReference to `owner`, so the GC leaves them. */
  private async orphanDependents(owner: KubeObject): Promise<void> {
    const uid = owner.metadata?.uid;
    for (const [kind, dependent] of this.dependentsOf(owner)) {
      const store = this.store(kind);
      const { namespace, name } = dependent.metadata!;
      // A dependent written meanwhile (a controller's status) is read again, not a failed delete.
      for (let attempt = 1; ; attempt++) {
        const obj = store.get(namespace, name!);
        if (!obj || !(obj.metadata?.ownerReferences ?? []).some((r) => r.uid === uid)) break;
        const next = structuredClone(obj);
        next.metadata!.ownerReferences = next.metadata!.ownerReferences!.filter((r) => r.uid !== uid);
        if (!next.metadata!.ownerReferences.length) delete next.metadata!.ownerReferences;
        const objRev = Number(obj.metadata!.resourceVersion);
        try {
          await store.update(next, objRev);
          break;
        } catch (e) {
          if (!(e instanceof ApiError && e.reason === Reason.Conflict) || attempt >= 10) throw e;
          await store.untilChanged(namespace, name!, objRev);
        }
      }
    }
  }

  /** The objects of the owner's namespace with an ownerReference to it. */
  private dependentsOf(owner: KubeObject): [Kind, KubeObject][] {
    const uid = owner.metadata?.uid;
    const out: [Kind, KubeObject][] = [];
    if (!uid) return out;
    for (const kind of Object.keys(KINDS) as Kind[]) {
      if (!KINDS[kind].namespaced) continue;
      for (const obj of this.store(kind).all()) {
        if (obj.metadata?.namespace !== owner.metadata?.namespace) continue;
        if ((obj.metadata?.ownerReferences ?? []).some((r) => r.uid === uid)) out.push([kind, obj]);
      }
    }
    return out;
  }

  /** The pods/binding subresource: sets spec.nodeName once, with compare-and-set. */
  async bind(req: BindRequest): Promise<KubeObject> {
    requireName(req?.name);
    const nodeName = optionalString(req.nodeName, 'nodeName');
    if (!nodeName) throw ApiError.invalid('Binding', req.name, [{ reason: CauseType.Required, field: 'target.name', message: 'Required value' }]);
    const store = this.store('Pod');
    // Read without copying (a bind is the scheduler's hot path); the new version is built by shallow copies.
    const pod = store.peek(req.namespace, req.name);
    if (!pod) throw ApiError.notFound('Pod', req.name);
    if (req.uid && pod.metadata?.uid !== req.uid) throw ApiError.conflict('Pod', req.name);
    if (pod.spec?.nodeName) throw new ApiError(Reason.Conflict, `pod ${req.name} is already assigned to node "${pod.spec.nodeName}"`, { kind: 'Pod', name: req.name });
    if (pod.metadata?.deletionTimestamp) throw new ApiError(Reason.Conflict, `pod ${req.name} is being deleted, cannot be assigned to a host`, { kind: 'Pod', name: req.name });
    if (!this.store('Node').peek(undefined, nodeName)) throw ApiError.notFound('Node', nodeName);
    const conditions = (pod.status?.conditions ?? []).filter((c: { type: string }) => c.type !== 'PodScheduled');
    conditions.push({ type: 'PodScheduled', status: 'True', lastTransitionTime: nowTimestamp(this.now()), lastProbeTime: null });
    const next: KubeObject = { ...pod, spec: { ...pod.spec, nodeName }, status: { ...(pod.status ?? {}), conditions } };
    return store.update(next, Number(pod.metadata!.resourceVersion));
  }

  /**
   * Many bindings at once (the scheduler batches the binds it decided in one turn): each is
   * checked and written exactly as `bind` does it, all writes in flight together, and each
   * gets its own result; one failing binding fails only itself.
   */
  async bindMany(req: BindManyRequest): Promise<BindManyReply> {
    const bindings: unknown = req?.bindings;
    if (!Array.isArray(bindings)) throw ApiError.badRequest('bindings must be a list of {namespace, name, uid, nodeName}');
    if (bindings.length > MAX_BINDINGS_PER_REQUEST) throw ApiError.badRequest(`at most ${MAX_BINDINGS_PER_REQUEST} bindings per request, got ${bindings.length}`);
    return {
      results: await eachSettled(bindings, async (b) => {
        if (!b || typeof b !== 'object' || Array.isArray(b)) throw ApiError.badRequest('a binding must be a map {namespace, name, uid, nodeName}');
        const pod = await this.bind(b as BindRequest);
        return { resourceVersion: pod.metadata!.resourceVersion! };
      }),
    };
  }

  /** Bound pods that have not finished must be stopped by their kubelet before they vanish. */
  private needsGracefulStop(pod: KubeObject): boolean {
    const phase = pod.status?.phase;
    return Boolean(pod.spec?.nodeName) && phase !== 'Succeeded' && phase !== 'Failed';
  }

  private async deleteNamespace(ns: KubeObject, rev: number): Promise<KubeObject> {
    const name = ns.metadata!.name!;
    if (PROTECTED_NAMESPACES.includes(name)) throw new ApiError(Reason.Forbidden, `namespaces "${name}" is forbidden: this namespace may not be deleted`, { kind: 'Namespace', name });
    let current = ns;
    if (ns.status?.phase !== 'Terminating') {
      const next = structuredClone(ns);
      next.metadata!.deletionTimestamp = nowTimestamp(this.now());
      next.status = { ...(next.status ?? {}), phase: 'Terminating' };
      current = await this.store('Namespace').update(next, rev);
    }
    for (const kind of Object.keys(KINDS) as Kind[]) {
      if (!KINDS[kind].namespaced) continue;
      for (const obj of [...this.store(kind).all()]) {
        if (obj.metadata?.namespace !== name) continue;
        await this.delete(kind, { namespace: name, name: obj.metadata!.name! }).catch(() => {});
      }
    }
    await this.finalizeNamespace(name);
    return current;
  }

  /** Removes a Terminating namespace once nothing is left in it. */
  async finalizeNamespace(name: string): Promise<void> {
    const ns = this.store('Namespace').get(undefined, name);
    if (!ns || ns.status?.phase !== 'Terminating') return;
    for (const kind of Object.keys(KINDS) as Kind[]) {
      if (!KINDS[kind].namespaced) continue;
      for (const obj of this.store(kind).all()) if (obj.metadata?.namespace === name) return;
    }
    await this.store('Namespace').remove(undefined, name, Number(ns.metadata!.resourceVersion)).catch(() => {});
  }

  /** Validates, defaults and stamps a new object; throws Invalid with every cause at once. */
  private admitNew(kind: Kind, raw: unknown): KubeObject {
    const obj = requireObject(kind, raw);
    defaultMetadata(kind, obj);
    defaultSpec(kind, obj);
    const causes = validateObject(obj);
    if (causes.length) throw ApiError.invalid(kind, String(obj.metadata?.name ?? ''), causes);
    // Only PVs and claims have storage admission: other kinds (Events, pods) do not walk the StorageClasses.
    if (kind === 'PersistentVolume' || kind === 'PersistentVolumeClaim') admitStorage(kind, obj, this.store('StorageClass').all());
    this.checkNamespace(kind, obj);
    stampCreation(obj, this.now());
    if (kind === 'Pod') delete obj.status.conditions;
    return obj;
  }

  private checkNamespace(kind: Kind, obj: KubeObject): void {
    if (!KINDS[kind].namespaced) return;
    const nsName = obj.metadata!.namespace!;
    const ns = this.store('Namespace').peek(undefined, nsName);
    if (!ns) throw new ApiError(Reason.NotFound, `namespaces "${nsName}" not found`, { kind: 'Namespace', name: nsName });
    if (ns.status?.phase === 'Terminating' && kind !== 'Event') {
      throw new ApiError(Reason.Forbidden, `${KINDS[kind].plural} "${obj.metadata!.name}" is forbidden: unable to create new content in namespace ${nsName} because it is being terminated`);
    }
  }

  /** The stored object `incoming` names; with `copy: false` the cache's own object, which must not be mutated. */
  private existingFor(kind: Kind, incoming: KubeObject, opts: { copy?: boolean } = {}): KubeObject {
    const name = incoming.metadata?.name;
    requireName(name);
    const store = this.store(kind);
    const namespace = scopeNamespace(kind, incoming.metadata?.namespace);
    const existing = opts.copy === false ? (store.peek(namespace, name as string) as KubeObject | undefined) : store.get(namespace, name as string);
    if (!existing) throw ApiError.notFound(kind, name as string);
    return existing;
  }

  private async writeUpdate(kind: Kind, existing: KubeObject, next: KubeObject): Promise<KubeObject> {
    keepSystemMetadata(next, existing);
    const causes = validateObject(next, existing);
    if (causes.length) throw ApiError.invalid(kind, String(next.metadata?.name ?? ''), causes);
    let claim: Claim | undefined;
    if (kind === 'Service') claim = this.services?.allocateUpdate(existing, next);
    try {
      if (!jsonEqual(next.spec, existing.spec)) next.metadata!.generation = (existing.metadata?.generation ?? 1) + 1;
      const stored = encodeForStore(kind, next);
      if (sameContent(existing, next)) return existing;
      if (finalized(existing, next)) {
        // The last finalizer of an object being deleted is gone: it is removed now (a DELETED event).
        await this.store(kind).remove(next.metadata!.namespace, next.metadata!.name!, Number(existing.metadata!.resourceVersion));
        return next;
      }
      return await this.store(kind).update(next, Number(existing.metadata!.resourceVersion), stored);
    } finally {
      claim?.done();
    }
  }
}

/**
 * The items of a batch request (bindMany, createMany), all in flight together, each with its own
 * result in the request's order: what `fn` returned, or the error it threw (one failing item
 * fails only itself).
 */
async function eachSettled<R extends object>(items: unknown[], fn: (item: unknown) => Promise<R>): Promise<(({ ok: true } & R) | { ok: false; error: WireError })[]> {
  return Promise.all(
    items.map(async (item) => {
      try {
        return { ok: true as const, ...(await fn(item)) };
      } catch (e) {
        return { ok: false as const, error: toApiError(e).toWire() };
      }
    }),
  );
}

function requireObject(kind: Kind, raw: unknown): KubeObject {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw ApiError.badRequest('request has no object: expected a map with apiVersion, kind, metadata');
  // Not copied: every request body is decoded afresh, so the handler owns it.
  const obj = raw as KubeObject;
  if (obj.kind !== undefined && obj.kind !== kind) throw ApiError.badRequest(`the object's kind "${String(obj.kind)}" does not match the endpoint's kind "${kind}"`);
  obj.kind = kind;
  if (obj.metadata !== undefined && (typeof obj.metadata !== 'object' || obj.metadata === null || Array.isArray(obj.metadata))) {
    throw ApiError.invalid(kind, '', [{ reason: CauseType.TypeInvalid, field: 'metadata', message: `Invalid value: "${typeof obj.metadata}": metadata in body must be of type object` }]);
  }
  return obj;
}

function requireName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !name) throw ApiError.badRequest('resource name may not be empty');
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw ApiError.badRequest(`${field} must be a string`);
  return value;
}

function scopeNamespace(kind: Kind, namespace: string | undefined): string | undefined {
  if (!KINDS[kind].namespaced) return undefined;
  return namespace || 'default';
}

interface ContinueToken {
  rv: string;
  after: string;
}

function encodeContinue(t: ContinueToken): string {
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

function decodeContinue(text: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (typeof t?.rv === 'string' && typeof t?.after === 'string') return t;
  } catch {
    // fall through
  }
  throw ApiError.badRequest('continue key is not valid: it must be the metadata.continue of a previous list');
}

function keepSystemMetadata(next: KubeObject, existing: KubeObject): void {
  const m = (next.metadata ??= {});
  const e = existing.metadata!;
  m.uid = e.uid;
  m.creationTimestamp = e.creationTimestamp;
  m.generation = e.generation;
  m.resourceVersion = e.resourceVersion;
  m.namespace = e.namespace;
  m.name = e.name;
  if (e.deletionTimestamp) m.deletionTimestamp = e.deletionTimestamp;
  else delete m.deletionTimestamp;
  if (e.deletionGracePeriodSeconds !== undefined) m.deletionGracePeriodSeconds = e.deletionGracePeriodSeconds;
  else delete m.deletionGracePeriodSeconds;
}

function hasFinalizers(obj: KubeObject): boolean {
  return Array.isArray(obj.metadata?.finalizers) && obj.metadata.finalizers.length > 0;
}

/** `next` removes the last finalizer of an object whose deletion is due (a pod's grace period is over). */
function finalized(existing: KubeObject, next: KubeObject): boolean {
  const m = existing.metadata!;
  return Boolean(m.deletionTimestamp) && (m.deletionGracePeriodSeconds ?? 0) === 0 && hasFinalizers(existing) && !hasFinalizers(next);
}

function checkVersion(kind: Kind, incoming: KubeObject, existing: KubeObject): void {
  const rv = incoming.metadata?.resourceVersion;
  // As in Kubernetes, an update without resourceVersion is unconditional; with one it is compare-and-set.
  if (rv !== undefined && rv !== '' && String(rv) !== existing.metadata?.resourceVersion) throw ApiError.conflict(kind, existing.metadata!.name!);
}

/** The object as the store keeps it, refused when it is larger than an object may be. */
function encodeForStore(kind: Kind, obj: KubeObject): Uint8Array {
  const stored = storedBytes(obj);
  const size = stored.length;
  if (size > MAX_OBJECT_BYTES) {
    throw new ApiError(Reason.RequestEntityTooLarge, `${kind} "${obj.metadata?.name}" is too large: ${size} bytes, the limit is ${MAX_OBJECT_BYTES} bytes`, { kind, name: obj.metadata?.name });
  }
  return stored;
}

function sameContent(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject) => ({ ...o, metadata: { ...o.metadata, resourceVersion: undefined, generation: undefined } });
  return jsonEqual(strip(a), strip(b));
}

export type { FieldCause };
