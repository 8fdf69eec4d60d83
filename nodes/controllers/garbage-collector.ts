/**
 * Garbage collection by ownerReferences, as Kubernetes' garbage collector does it in the
 * background: an object whose owners are all gone is deleted (ReplicaSets of a deleted
 * Deployment, Pods of a deleted ReplicaSet). Pods bound to a Node that no longer exists are
 * force-deleted (the pod GC). An owner the informers hold (same uid) exists without asking
 * anyone — checks run on every dependent's event and every sweep, so asking the API server each
 * time would cost a request per pod per event. An owner they lack is confirmed absent with the
 * API server, so a watch that lags behind never deletes a live object's dependents.
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
  /** Informers of the owners' kinds, read before asking the API server. */
  owners?: Partial<Record<Kind, Informer<KubeObject>>>;
  logger: Logger;
  /** How often every object is checked (events trigger checks sooner). */
  sweepMs?: number;
}

export class GarbageCollector {
  private timer?: NodeJS.Timeout;
  private readonly inFlight = new Set<string>();

  constructor(private readonly opts: GarbageCollectorOptions) {}

  start(): void {
    for (const inf of this.opts.dependents) {
      inf.on({ upsert: (obj) => void this.check(inf.kind, obj) });
    }
    const sweep = () => {
      for (const inf of this.opts.dependents) for (const obj of inf.list()) void this.check(inf.kind, obj);
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
    const cached = this.opts.owners?.[kind]?.get(namespace, name);
    if (cached && (!uid || cached.metadata?.uid === uid)) return true;
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
