/**
 * One actor per object (by namespace/name and uid), created fresh or restored from its
 * persisted snapshot, persisted after every transition, stopped when the object goes.
 * Shared by the ReplicaSet and Deployment controllers.
 */
import { createActor, type AnyActorLogic, type Actor, type EventFromLogic, type InputFrom } from 'xstate';
import type { KubeObject } from '../../protocol/objects.js';
import type { Logger } from '../shared/logger.js';
import type { InspectCapture } from '../inspect/capture.js';
import { SnapshotStore } from './snapshots.js';

interface Entry<L extends AnyActorLogic> {
  uid: string;
  actor: Actor<L>;
}

interface Stored {
  uid: string;
  snapshot: unknown;
}

export class ActorSet<L extends AnyActorLogic> {
  private readonly entries = new Map<string, Entry<L>>();

  constructor(
    private readonly kind: string,
    private readonly logic: L,
    private readonly snapshots: SnapshotStore,
    private readonly log: Logger,
    private readonly capture?: InspectCapture,
  ) {}

  private key(obj: KubeObject): string {
    return `${obj.metadata?.namespace ?? 'default'}/${obj.metadata?.name}`;
  }

  private snapshotKey(obj: KubeObject): string {
    return SnapshotStore.key(this.kind, obj.metadata?.namespace, obj.metadata!.name!);
  }

  get(obj: KubeObject): Actor<L> | undefined {
    const e = this.entries.get(this.key(obj));
    return e && e.uid === obj.metadata?.uid ? e.actor : undefined;
  }

  byUid(namespace: string | undefined, name: string, uid: string): Actor<L> | undefined {
    const e = this.entries.get(`${namespace ?? 'default'}/${name}`);
    return e && e.uid === uid ? e.actor : undefined;
  }

  all(): Actor<L>[] {
    return [...this.entries.values()].map((e) => e.actor);
  }

  /**
   * The object's actor; created when missing — restored from its snapshot when one exists
   * for the same uid (a control-plane restart), otherwise fresh. `isNew` says whether the
   * caller must feed it the objects it watches.
   */
  async ensure(obj: KubeObject, input: InputFrom<L>): Promise<{ actor: Actor<L>; isNew: boolean; restored: boolean }> {
    const key = this.key(obj);
    const uid = obj.metadata!.uid!;
    const existing = this.entries.get(key);
    if (existing && existing.uid === uid) return { actor: existing.actor, isNew: false, restored: false };
    if (existing) this.drop(obj, existing);
    const skey = this.snapshotKey(obj);
    const stored = await this.snapshots.load<Stored>(skey).catch(() => undefined);
    const again = this.entries.get(key); // created meanwhile by a concurrent event
    if (again && again.uid === uid) return { actor: again.actor, isNew: false, restored: false };
    let actor: Actor<L>;
    let restored = false;
    const inspect = this.capture?.observer({ kind: this.kind, namespace: obj.metadata?.namespace ?? 'default', name: obj.metadata!.name!, uid });
    if (stored && stored.uid === uid && stored.snapshot) {
      try {
        actor = createActor(this.logic, { snapshot: stored.snapshot as never, input, inspect });
        restored = true;
      } catch (e) {
        this.log.warn({ key, err: (e as Error).message }, 'snapshot not usable; starting fresh');
        actor = createActor(this.logic, { input, inspect });
      }
    } else {
      actor = createActor(this.logic, { input, inspect });
    }
    actor.subscribe({
      next: (snapshot) => {
        // Persisted (a copy of the whole context) only when written; from this snapshot, not the
        // actor's state then (the actor may have been stopped by the time the write happens).
        if (this.entries.get(key)?.actor === actor) this.snapshots.save(skey, () => ({ uid, snapshot: this.logic.getPersistedSnapshot(snapshot as never) }));
      },
      error: (err) => this.log.error({ key, err }, `${this.kind} actor failed`),
    });
    this.entries.set(key, { uid, actor });
    actor.start();
    if (restored) this.log.info({ key, state: (actor.getSnapshot() as { value?: unknown }).value }, `${this.kind} actor restored from its snapshot`);
    return { actor, isNew: true, restored };
  }

  send(obj: KubeObject, event: EventFromLogic<L>): void {
    this.get(obj)?.send(event);
  }

  /** The object is gone: stop its actor and forget its snapshot. */
  remove(obj: KubeObject): void {
    const e = this.entries.get(this.key(obj));
    if (e && e.uid === obj.metadata?.uid) this.drop(obj, e);
  }

  private drop(obj: KubeObject, e: Entry<L>): void {
    this.entries.delete(this.key(obj));
    e.actor.stop();
    void this.snapshots.remove(this.snapshotKey(obj));
  }

  stopAll(): void {
    for (const e of this.entries.values()) e.actor.stop();
    this.entries.clear();
  }
}
