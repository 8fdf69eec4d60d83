/**
 * Hosts the ReplicaSet actors: routes pod events to the ReplicaSet that controls the pod
 * (or, for orphans, to every ReplicaSet whose selector matches), and carries out what the
 * actors decide — create pods from the template, delete, adopt, release, write status.
 */
import { fromPromise } from 'xstate';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import {
  cachedPods,
  controllerRef,
  ownerReferenceFor,
  podFromTemplate,
  reconcileReplicaSet,
  replicaSetMatches,
  replicaSetMachine,
  type CreatePodsInput,
  type CreatePodsOutput,
  type PodsEffectInput,
} from '../../actors/replicaset/index.js';
import type { ApiClient } from '../../protocol/client.js';
import { ApiError, Reason } from '../../protocol/errors.js';
import type { KubeObject, Pod } from '../../protocol/objects.js';
import type { EventRecorder } from '../shared/events.js';
import type { Logger } from '../shared/logger.js';
import type { InspectCapture } from '../inspect/capture.js';
import { ActorSet } from './actor-set.js';
import type { Informer } from './informer.js';
import { StatusWriter } from './status-writer.js';
import type { SnapshotStore } from './snapshots.js';

export interface ReplicaSetControllerOptions {
  client: ApiClient;
  pods: Informer<KubeObject>;
  replicaSets: Informer<KubeObject>;
  events: EventRecorder;
  snapshots: SnapshotStore;
  logger: Logger;
  /** Inspector capture: the actors report their transitions (none: not inspected). */
  inspect?: InspectCapture;
}

const CREATE_CONCURRENCY = 16;

export class ReplicaSetController {
  private readonly actors: ActorSet<typeof replicaSetMachine>;
  private readonly status: StatusWriter;

  constructor(private readonly opts: ReplicaSetControllerOptions) {
    const { client, events, logger } = opts;
    const log = logger.child({ controller: 'replicaset' });
    this.status = new StatusWriter(client, 'ReplicaSet', log);
    const machine = replicaSetMachine.provide({
      actions: {
        publishStatus: ({ context }, status) => this.status.write(context.rs as KubeObject, status),
      },
      actors: {
        createPods: fromPromise<CreatePodsOutput, CreatePodsInput>(async ({ input }) => {
          // A restored actor re-runs the create it had in flight when the control plane died,
          // and the pods made before then are in the informer now: create only what the
          // ReplicaSet still lacks (a live actor asks for exactly that many), counting the
          // ones that already exist as created, so a restart never over-creates (maxSurge).
          const count = this.stillMissing(input);
          let created = input.count - count;
          let unknown = 0;
          const queue = Array.from({ length: count }, () => podFromTemplate(input.rs));
          const worker = async () => {
            for (let pod = queue.pop(); pod; pod = queue.pop()) {
              try {
                const made = await client.create(pod as KubeObject);
                created++;
                events.record(input.rs as KubeObject, 'Normal', 'SuccessfulCreate', `Created pod: ${made.metadata?.name}`);
              } catch (e) {
                // Timed out: the API server may still make the pod, so it stays expected (see CreatePodsOutput).
                if (e instanceof ApiError && e.reason === Reason.Timeout) unknown++;
                else events.record(input.rs as KubeObject, 'Warning', 'FailedCreate', `Error creating: ${(e as Error).message}`);
                log.warn({ rs: input.rs.metadata?.name, err: (e as Error).message }, 'pod create failed');
              }
            }
          };
          await Promise.all(Array.from({ length: Math.min(CREATE_CONCURRENCY, count) }, worker));
          if (created === 0 && unknown === 0 && input.count > 0) throw new Error(`none of ${input.count} pods could be created`);
          return { created, unknown };
        }),
        deletePods: fromPromise<void, PodsEffectInput>(async ({ input }) => {
          await Promise.all(
            input.pods.map(async (p) => {
              try {
                await client.delete('Pod', p.name, { namespace: input.rs.metadata?.namespace, preconditions: { uid: p.uid } });
                events.record(input.rs as KubeObject, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.name}`);
              } catch (e) {
                if (!(e instanceof ApiError && (e.reason === Reason.NotFound || e.reason === Reason.Conflict))) throw e;
              }
            }),
          );
        }),
        adoptPods: fromPromise<void, PodsEffectInput>(async ({ input }) => {
          for (const p of input.pods) {
            await client.modify<KubeObject>('Pod', p.name, input.rs.metadata?.namespace, (pod) => {
              if (pod.metadata?.uid !== p.uid || controllerRef(pod as Pod) || pod.metadata?.deletionTimestamp) return false;
              pod.metadata!.ownerReferences = [...(pod.metadata!.ownerReferences ?? []), ownerReferenceFor(input.rs)];
            });
          }
        }),
        releasePods: fromPromise<void, PodsEffectInput>(async ({ input }) => {
          for (const p of input.pods) {
            await client.modify<KubeObject>('Pod', p.name, input.rs.metadata?.namespace, (pod) => {
              if (pod.metadata?.uid !== p.uid) return false;
              const refs = (pod.metadata!.ownerReferences ?? []).filter((r) => r.uid !== input.rs.metadata?.uid);
              if (refs.length === (pod.metadata!.ownerReferences ?? []).length) return false;
              pod.metadata!.ownerReferences = refs.length ? refs : undefined;
            });
          }
        }),
      },
    });
    this.actors = new ActorSet('ReplicaSet', machine, opts.snapshots, log, opts.inspect);
  }

  async start(): Promise<void> {
    const { pods, replicaSets } = this.opts;
    replicaSets.on({ upsert: (rs) => void this.syncReplicaSet(rs), delete: (rs) => this.removeReplicaSet(rs) });
    // Changes only: each actor already holds its pods, and reconciles them on its own RESYNC tick.
    pods.on({ upsert: (p) => this.routePod(p, false), delete: (p) => this.routePod(p, true) }, { resync: false });
    for (const rs of replicaSets.list()) await this.syncReplicaSet(rs);
  }

  stop(): void {
    this.actors.stopAll();
  }

  resync(): void {
    const now = Date.now();
    for (const a of this.actors.all()) a.send({ type: 'RESYNC', now });
  }

  /** Of the `input.count` pods asked for, how many the ReplicaSet still lacks by the pod informer (the actor's own reconcile). */
  private stillMissing(input: CreatePodsInput): number {
    const ns = input.rs.metadata?.namespace;
    const current = this.opts.replicaSets.get(ns, input.rs.metadata!.name!) as ReplicaSet | undefined;
    const rs = current?.metadata?.uid === input.rs.metadata?.uid ? current! : input.rs;
    const pods = this.opts.pods.list((p) => p.metadata?.namespace === ns) as Pod[];
    return Math.max(0, Math.min(input.count, reconcileReplicaSet(rs, pods, Date.now(), { burstReplicas: input.count }).create));
  }

  private async syncReplicaSet(obj: KubeObject): Promise<void> {
    const rs = obj as ReplicaSet;
    const now = Date.now();
    const { actor, isNew } = await this.actors.ensure(obj, { rs, now });
    actor.send({ type: 'RS_UPDATED', rs, now });
    if (isNew) {
      // A new (or restored) actor learns every pod of its namespace that concerns it, then a resync says "caches synced".
      const present = new Set<string>();
      for (const p of this.opts.pods.list((p) => p.metadata?.namespace === obj.metadata?.namespace)) {
        const pod = p as Pod;
        const ref = controllerRef(pod);
        if ((ref && ref.uid === obj.metadata?.uid) || (!ref && replicaSetMatches(rs, pod))) {
          actor.send({ type: 'POD_UPSERT', pod, now });
          present.add(pod.metadata!.uid!);
        }
      }
      // A restored actor's snapshot may hold pods deleted while no controller watched (or
      // before its handlers ran): gone, else it counts them (and waits for their deletion) forever.
      for (const pod of cachedPods(actor.getSnapshot().context)) {
        if (!present.has(pod.metadata?.uid ?? '')) actor.send({ type: 'POD_DELETE', namespace: pod.metadata!.namespace!, name: pod.metadata!.name!, uid: pod.metadata?.uid, now });
      }
      actor.send({ type: 'RESYNC', now });
    }
  }

  private removeReplicaSet(obj: KubeObject): void {
    this.actors.get(obj)?.send({ type: 'RS_DELETE', now: Date.now() });
    this.actors.remove(obj);
  }

  private routePod(obj: KubeObject, deleted: boolean): void {
    const pod = obj as Pod;
    const now = Date.now();
    const ev = deleted
      ? ({ type: 'POD_DELETE', namespace: pod.metadata!.namespace!, name: pod.metadata!.name!, uid: pod.metadata?.uid, now } as const)
      : ({ type: 'POD_UPSERT', pod, now } as const);
    const ref = controllerRef(pod);
    if (ref) {
      if (ref.kind !== 'ReplicaSet') return;
      this.actors.byUid(pod.metadata?.namespace, ref.name, ref.uid)?.send(ev);
      return;
    }
    for (const rsObj of this.opts.replicaSets.byNamespace(pod.metadata?.namespace)) {
      if (replicaSetMatches(rsObj as ReplicaSet, pod)) this.actors.get(rsObj)?.send(ev);
    }
  }
}
