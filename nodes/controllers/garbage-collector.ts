/**
 * Garbage collection by ownerReferences, as Kubernetes' garbage collector does it in the
 * background: an object whose owners are all gone is deleted (ReplicaSets of a deleted
 * Deployment, Pods of a deleted ReplicaSet). Pods bound to a Node that no longer exists are
 * force-deleted (the pod GC). Before deleting, the owner's absence is confirmed with the API
 * server, so a watch that lags behind never deletes a live object's dependents.
 *
 * An owner (or node) the informers hold settles the check without a request (kube's GC reads
 * its graph the same way): holding 100,000 owned pods, the periodic sweep would otherwise be
 * 20,000 API reads a second. Only a missing owner is looked up.
 */
import type { ApiClient } from '../../protocol/client.js';
import { ApiError, Reason } from '../../protocol/errors.js';
import { isKind, type Kind } from '../../protocol/kinds.js';
import type { KubeObject, OwnerReference } from '../../protocol/objects.js';
import type { Logger } from '../shared/logger.js';
import type { Informer } from './informer.js';

export interface GarbageCollectorOptions {
  client: ApiClient;
  /** Informers of the dependents' kinds. */
  dependents: Informer<KubeObject>[];
  nodes: Informer<KubeObject>;
  /** Informers of owner kinds (ReplicaSet, Deployment, …): an owner they hold needs no API read. */
  owners?: Informer<KubeObject>[];
  logger: Logger;
  /** How often every object is checked (events trigger checks sooner). */
  sweepMs?: number;
}

export class GarbageCollector {
  private timer?: NodeJS.Timeout;
  private readonly inFlight = new Set<string>();
  /** Sweeps done so far (tests wait on it). */
  sweeps = 0;

  constructor(private readonly opts: GarbageCollectorOptions) {}

  start(): void {
    for (const inf of this.opts.dependents) {
      inf.on({ upsert: (obj) => this.consider(inf.kind, obj) }, { resync: false }); // the sweep is the resync
    }
    const sweep = () => {
      for (const inf of this.opts.dependents) for (const obj of inf.list()) this.consider(inf.kind, obj);
      this.sweeps++;
      this.timer = setTimeout(sweep, this.opts.sweepMs ?? 5000);
    };
    this.timer = setTimeout(sweep, this.opts.sweepMs ?? 5000);
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  /** An owner was deleted: check its dependents now rather than at the next sweep. */
  ownerDeleted(owner: KubeObject): void {
    const uid = owner.metadata?.uid;
    for (const inf of this.opts.dependents) {
      for (const obj of inf.list((o) => (o.metadata?.ownerReferences ?? []).some((r) => r.uid === uid))) void this.check(inf.kind, obj);
    }
  }

  /** Checks the object unless the informers already show it is not garbage (no promise, no request). */
  private consider(kind: Kind, obj: KubeObject): void {
    if (obj.metadata?.deletionTimestamp) return;
    const node = kind === 'Pod' ? obj.spec?.nodeName : undefined;
    const nodeKnown = !node || this.opts.nodes.get(undefined, node) !== undefined;
    const refs = obj.metadata?.ownerReferences;
    if (nodeKnown && (!refs?.length || refs.some((r) => this.cachedOwner(r, obj.metadata?.namespace)))) return;
    void this.check(kind, obj);
  }

  /** The owner as the informers see it, matched by uid (an owner recreated under the same name is another owner). */
  private cachedOwner(ref: OwnerReference, namespace: string | undefined): boolean {
    const inf = this.opts.owners?.find((i) => i.kind === ref.kind);
    const found = inf?.get(namespace, ref.name);
    return Boolean(found && found.metadata?.uid === ref.uid);
  }

  private async check(kind: Kind, obj: KubeObject): Promise<void> {
    const key = `${kind}/${obj.metadata?.namespace}/${obj.metadata?.name}/${obj.metadata?.uid}`;
    if (this.inFlight.has(key) || obj.metadata?.deletionTimestamp) return;
    this.inFlight.add(key);
    try {
      if (kind === 'Pod' && obj.spec?.nodeName && !this.opts.nodes.get(undefined, obj.spec.nodeName)) {
        if (!(await this.exists('Node', obj.spec.nodeName, undefined))) {
          this.opts.logger.info({ pod: obj.metadata?.name, node: obj.spec.nodeName }, 'force-deleting pod bound to a node that no longer exists');
          await this.remove(kind, obj, 0);
          return;
        }
      }
      const refs: OwnerReference[] = obj.metadata?.ownerReferences ?? [];
      if (!refs.length) return;
      for (const ref of refs) {
        if (!isKind(ref.kind)) return; // an owner kind we do not serve: leave it alone
        if (this.cachedOwner(ref, obj.metadata?.namespace)) return;
        if (await this.exists(ref.kind, ref.name, obj.metadata?.namespace, ref.uid)) return;
      }
      // Re-read the dependent: it may have been orphaned (or re-owned) since the cache saw it.
      const current = await this.opts.client.find(kind, obj.metadata!.name!, obj.metadata?.namespace);
      if (!current || current.metadata?.uid !== obj.metadata?.uid) return;
      const currentRefs = current.metadata?.ownerReferences ?? [];
      if (!currentRefs.length || currentRefs.some((r) => !refs.some((o) => o.uid === r.uid))) return;
      this.opts.logger.info({ kind, name: obj.metadata?.name, owners: refs.map((r) => `${r.kind}/${r.name}`) }, 'deleting object whose owners are gone');
      await this.remove(kind, current);
    } catch (e) {
      this.opts.logger.warn({ kind, name: obj.metadata?.name, err: (e as Error).message }, 'garbage collection check failed');
    } finally {
      this.inFlight.delete(key);
    }
  }

  private async exists(kind: Kind, name: string, namespace: string | undefined, uid?: string): Promise<boolean> {
    const found = await this.opts.client.find(kind, name, namespace);
    return Boolean(found && (!uid || found.metadata?.uid === uid));
  }

  private async remove(kind: Kind, obj: KubeObject, gracePeriodSeconds?: number): Promise<void> {
    try {
      await this.opts.client.delete(kind, obj.metadata!.name!, { namespace: obj.metadata?.namespace, gracePeriodSeconds, preconditions: { uid: obj.metadata?.uid } });
    } catch (e) {
      if (!(e instanceof ApiError && (e.reason === Reason.NotFound || e.reason === Reason.Conflict))) throw e;
    }
  }
}
