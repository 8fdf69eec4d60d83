/**
 * Hosts the Deployment actors: feeds each its deployment and the ReplicaSets of its
 * namespace, and carries out what it decides — create, scale, annotate and delete
 * ReplicaSets, annotate the deployment with its revision, write its status — recording
 * the `ScalingReplicaSet` Events `kubectl describe deployment` shows.
 */
import { fromPromise } from 'xstate';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import {
  deploymentMachine,
  type AnnotateDeploymentInput,
  type CreateReplicaSetInput,
  type DeleteReplicaSetInput,
  type UpdateReplicaSetInput,
} from '../../actors/deployment/index.js';
import type { ApiClient } from '../../protocol/client.js';
import { ApiError, Reason } from '../../protocol/errors.js';
import type { KubeObject } from '../../protocol/objects.js';
import type { EventRecorder } from '../shared/events.js';
import type { Logger } from '../shared/logger.js';
import type { InspectCapture } from '../inspect/capture.js';
import { ActorSet } from './actor-set.js';
import type { Informer } from './informer.js';
import { StatusWriter } from './status-writer.js';
import type { SnapshotStore } from './snapshots.js';

export interface DeploymentControllerOptions {
  client: ApiClient;
  replicaSets: Informer<KubeObject>;
  deployments: Informer<KubeObject>;
  events: EventRecorder;
  snapshots: SnapshotStore;
  logger: Logger;
  /** Inspector capture: the actors report their transitions (none: not inspected). */
  inspect?: InspectCapture;
}

function ignore(e: unknown, ...reasons: string[]): void {
  if (!(e instanceof ApiError && reasons.includes(e.reason))) throw e;
}

export class DeploymentController {
  private readonly actors: ActorSet<typeof deploymentMachine>;

  constructor(private readonly opts: DeploymentControllerOptions) {
    const { client, events, logger } = opts;
    const log = logger.child({ controller: 'deployment' });
    const status = new StatusWriter(client, 'Deployment', log);
    const deploymentOf = (namespace: string, name: string) => opts.deployments.get(namespace, name) ?? ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { namespace, name } } as KubeObject);
    const machine = deploymentMachine.provide({
      actions: {
        publishStatus: ({ context }, s) => status.write(context.deployment as KubeObject, s),
      },
      actors: {
        createReplicaSet: fromPromise<void, CreateReplicaSetInput>(async ({ input }) => {
          const rs = input.replicaSet;
          try {
            await client.create(rs as KubeObject);
            const owner = rs.metadata?.ownerReferences?.[0];
            if (owner) events.record(deploymentOf(rs.metadata!.namespace!, owner.name), 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${rs.metadata?.name} to ${rs.spec?.replicas ?? 0}`);
          } catch (e) {
            ignore(e, Reason.AlreadyExists);
          }
        }),
        updateReplicaSet: fromPromise<void, UpdateReplicaSetInput>(async ({ input }) => {
          let from: number | undefined;
          let owner: string | undefined;
          try {
            await client.modify<KubeObject>('ReplicaSet', input.name, input.namespace, (rs) => {
              if (input.uid && rs.metadata?.uid !== input.uid) return false;
              from = rs.spec?.replicas;
              owner = rs.metadata?.ownerReferences?.find((r) => r.controller)?.name;
              if (input.replicas !== undefined) rs.spec = { ...rs.spec, replicas: input.replicas };
              if (input.annotations) rs.metadata!.annotations = { ...(rs.metadata!.annotations ?? {}), ...input.annotations };
            });
          } catch (e) {
            ignore(e, Reason.NotFound);
          }
          if (owner && input.replicas !== undefined && from !== undefined && from !== input.replicas) {
            events.record(deploymentOf(input.namespace, owner), 'Normal', 'ScalingReplicaSet', `Scaled ${input.replicas > from ? 'up' : 'down'} replica set ${input.name} from ${from} to ${input.replicas}`);
          }
        }),
        deleteReplicaSet: fromPromise<void, DeleteReplicaSetInput>(async ({ input }) => {
          try {
            await client.delete('ReplicaSet', input.name, { namespace: input.namespace, preconditions: { uid: input.uid } });
          } catch (e) {
            ignore(e, Reason.NotFound, Reason.Conflict);
          }
        }),
        annotateDeployment: fromPromise<void, AnnotateDeploymentInput>(async ({ input }) => {
          try {
            await client.modify<KubeObject>('Deployment', input.name, input.namespace, (d) => {
              if (input.uid && d.metadata?.uid !== input.uid) return false;
              const current = d.metadata!.annotations ?? {};
              if (Object.entries(input.annotations).every(([k, v]) => current[k] === v)) return false;
              d.metadata!.annotations = { ...current, ...input.annotations };
            });
          } catch (e) {
            ignore(e, Reason.NotFound);
          }
        }),
      },
    });
    this.actors = new ActorSet('Deployment', machine, opts.snapshots, log, opts.inspect);
  }

  async start(): Promise<void> {
    const { deployments, replicaSets } = this.opts;
    deployments.on({ upsert: (d) => void this.syncDeployment(d), delete: (d) => this.actors.remove(d) });
    replicaSets.on({ upsert: (rs) => this.routeReplicaSet(rs, false), delete: (rs) => this.routeReplicaSet(rs, true) });
    for (const d of deployments.list()) await this.syncDeployment(d);
  }

  stop(): void {
    this.actors.stopAll();
  }

  resync(): void {
    const now = Date.now();
    for (const a of this.actors.all()) a.send({ type: 'RESYNC', now });
  }

  private replicaSetsOf(namespace: string | undefined): ReplicaSet[] {
    return this.opts.replicaSets.list((r) => r.metadata?.namespace === namespace) as ReplicaSet[];
  }

  private async syncDeployment(obj: KubeObject): Promise<void> {
    const deployment = obj as Deployment;
    const now = Date.now();
    const { actor, isNew } = await this.actors.ensure(obj, { deployment, now });
    if (isNew) actor.send({ type: 'RESYNC', now, deployment, replicaSets: this.replicaSetsOf(obj.metadata?.namespace) });
    else actor.send({ type: 'DEPLOYMENT_UPDATED', deployment, now });
  }

  /** Every deployment of the namespace hears of its ReplicaSets (names are shared, hashes may collide). */
  private routeReplicaSet(obj: KubeObject, deleted: boolean): void {
    const now = Date.now();
    const rs = obj as ReplicaSet;
    for (const d of this.opts.deployments.list((x) => x.metadata?.namespace === obj.metadata?.namespace)) {
      const actor = this.actors.get(d);
      if (!actor) continue;
      if (deleted) actor.send({ type: 'RS_DELETE', namespace: obj.metadata!.namespace!, name: obj.metadata!.name!, uid: obj.metadata?.uid, now });
      else actor.send({ type: 'RS_UPSERT', rs, now });
    }
  }
}
