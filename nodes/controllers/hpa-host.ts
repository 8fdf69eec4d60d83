/**
 * Hosts the HorizontalPodAutoscaler actors (actors/hpa): one per HPA object, created and
 * stopped from the HPA informer. Each sync the actor's injected `observe` reads the scale
 * target, its pods (informer) and their metrics (the metrics server over NATS); `apply` writes
 * the target's spec.replicas (compare-and-set, only from the count the decision started from),
 * the HPA's status and the Events (`SuccessfulRescale` with the numbers, Warnings on failures).
 */
import { fromPromise } from 'xstate';
import { hpaMachine, type ApplyInput, type HpaObject, type Observation } from '../../actors/hpa/index.js';
import type { ApiClient } from '../../protocol/client.js';
import { ApiError } from '../../protocol/errors.js';
import type { PodMetrics, TrafficReply } from '../../protocol/metrics.js';
import type { KubeObject } from '../../protocol/objects.js';
import type { EventRecorder } from '../shared/events.js';
import type { Logger } from '../shared/logger.js';
import type { InspectCapture } from '../inspect/capture.js';
import { ActorSet } from './actor-set.js';
import { buildObservation, isScalableKind } from './hpa-observation.js';
import { failedRescale, hpaStatus } from './hpa-status.js';
import { Informer } from './informer.js';
import type { SnapshotStore } from './snapshots.js';
import { StatusWriter } from './status-writer.js';

export interface HpaHostOptions {
  client: ApiClient;
  pods: Informer<KubeObject>;
  events: EventRecorder;
  snapshots: SnapshotStore;
  logger: Logger;
  /** `--hpa-sync-period-ms` (Kubernetes: 15 s). */
  syncPeriodMs?: number;
  /** `--hpa-downscale-stabilization-ms`: scale-down window for HPAs that set none (Kubernetes: 300 s). */
  downscaleStabilizationMs?: number;
  /** `--hpa-tolerance` (Kubernetes: 0.1). */
  tolerance?: number;
  resyncMs?: number;
  inspect?: InspectCapture;
}

type Spec = HpaObject['spec'];

function usesKind(spec: Spec, type: 'Resource' | 'Pods' | 'Object'): boolean {
  return (spec.metrics ?? []).some((m) => m.type === type);
}

/** Thrown when the target's replica count moved since the sync read it: the next sync decides again. */
class ScaleChangedError extends Error {
  override readonly name = 'ScaleChangedError';
}

export class HpaHost {
  readonly hpas: Informer<KubeObject>;
  private readonly actors: ActorSet<typeof hpaMachine>;
  private readonly log: Logger;

  constructor(private readonly opts: HpaHostOptions) {
    const { client, events } = opts;
    this.log = opts.logger.child({ controller: 'horizontal-pod-autoscaler' });
    this.hpas = new Informer<KubeObject>(client, 'HorizontalPodAutoscaler', { resyncMs: opts.resyncMs ?? 30_000, logger: this.log });
    const status = new StatusWriter(client, 'HorizontalPodAutoscaler', this.log);
    const machine = hpaMachine.provide({
      actors: {
        observe: fromPromise<Observation, { hpa: HpaObject }>(({ input }) => this.observe(input.hpa)),
        apply: fromPromise<void, ApplyInput>(async ({ input }) => {
          const hpa = input.hpa as unknown as KubeObject;
          const latest = this.hpas.get(hpa.metadata?.namespace, hpa.metadata!.name!) ?? hpa;
          let decision = input.decision;
          let failure: Error | undefined;
          if (decision.rescale) {
            try {
              await this.writeScale(input.hpa, decision.currentReplicas, decision.desiredReplicas);
            } catch (e) {
              failure = e as Error;
              const rescale = decision.events.find((ev) => ev.reason === 'SuccessfulRescale');
              decision = failedRescale(decision, failure.message);
              decision = { ...decision, events: [...decision.events.filter((ev) => ev !== rescale), { type: 'Warning', reason: 'FailedRescale', message: `${rescale?.message ?? ''}; error: ${failure.message}` }] };
            }
          }
          for (const ev of decision.events) events.record(latest, ev.type, ev.reason, ev.message);
          status.write(latest, hpaStatus(latest.status, latest.metadata?.generation, decision, Date.now(), decision.rescale));
          if (decision.rescale) this.log.info({ hpa: `${hpa.metadata?.namespace}/${hpa.metadata?.name}`, from: decision.currentReplicas, to: decision.desiredReplicas }, 'rescaled');
          // A failed write must not enter the rate-limit history (the machine keeps it only on success).
          if (failure) throw failure;
        }),
      },
    });
    this.actors = new ActorSet('HorizontalPodAutoscaler', machine, opts.snapshots, this.log, opts.inspect);
  }

  async start(): Promise<void> {
    await this.hpas.start();
    this.hpas.on({ upsert: (h) => void this.sync(h), delete: (h) => this.actors.remove(h) });
    for (const h of this.hpas.list()) await this.sync(h);
  }

  async stop(): Promise<void> {
    this.hpas.stop();
    this.actors.stopAll();
    await this.opts.events.flush();
  }

  private async sync(obj: KubeObject): Promise<void> {
    const hpa = obj as unknown as HpaObject;
    const { actor, isNew } = await this.actors.ensure(obj, {
      hpa,
      syncPeriodMs: this.opts.syncPeriodMs,
      tolerance: this.opts.tolerance,
      downscaleStabilizationSeconds: this.opts.downscaleStabilizationMs === undefined ? undefined : this.opts.downscaleStabilizationMs / 1000,
    });
    if (isNew) return;
    const before = actor.getSnapshot().context.hpa.metadata?.generation;
    actor.send({ type: 'HPA_UPDATED', hpa });
    // A spec change is acted on at once (Kubernetes requeues the HPA); a status write of ours is not one.
    if (before !== obj.metadata?.generation) actor.send({ type: 'SYNC' });
  }

  private async observe(hpa: HpaObject): Promise<Observation> {
    const namespace = hpa.metadata?.namespace ?? 'default';
    const ref = hpa.spec.scaleTargetRef;
    const target = isScalableKind(ref.kind) ? await this.opts.client.find(ref.kind, ref.name, namespace) : undefined;
    const [podMetrics, traffic] = await Promise.all([
      usesKind(hpa.spec, 'Resource') ? this.metrics(() => this.opts.client.podMetrics({ namespace }).then((l) => l.items)) : undefined,
      usesKind(hpa.spec, 'Pods') || usesKind(hpa.spec, 'Object') ? this.metrics(() => this.opts.client.traffic({ namespace })) : undefined,
    ]);
    return buildObservation({ now: Date.now(), namespace, target, targetRef: ref, pods: this.opts.pods.list(), podMetrics: podMetrics as PodMetrics[] | undefined, traffic: traffic as TrafficReply | undefined });
  }

  /** A metrics server that does not answer leaves the pods without metrics (FailedGet…Metric), not a failed sync. */
  private async metrics<T>(read: () => Promise<T>): Promise<T | undefined> {
    try {
      return await read();
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'metrics server did not answer');
      return undefined;
    }
  }

  /** spec.replicas from `from` to `to`, compare-and-set; another writer's change in between wins. */
  private async writeScale(hpa: HpaObject, from: number, to: number): Promise<void> {
    const ref = hpa.spec.scaleTargetRef;
    if (!isScalableKind(ref.kind)) throw new Error(`${ref.kind} cannot be scaled`);
    const updated = await this.opts.client.modify<KubeObject>(ref.kind, ref.name, hpa.metadata?.namespace ?? 'default', (obj) => {
      const current = Number(obj.spec?.replicas ?? 1);
      if (current === to) return false;
      if (current !== from) throw new ScaleChangedError(`the replica count changed from ${from} to ${current} during the sync`);
      obj.spec = { ...obj.spec, replicas: to };
    });
    if (!updated) throw ApiError.notFound(ref.kind, ref.name);
  }
}
