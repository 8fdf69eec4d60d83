/**
 * Hosts the scheduler actor in the control plane: feeds it the node and pod watches, and
 * provides its effects — binding through the API (compare-and-set on the pod), the
 * PodScheduled=False condition, and the Scheduled / FailedScheduling Events.
 */
import { createActor, fromCallback, type Actor } from 'xstate';
import { schedulerMachine, type BindEvent, type BindResultsEvent, type SchedulerContext } from '../../actors/scheduler/index.js';
import type { ApiClient, Watch } from '../../protocol/client.js';
import { ApiError, Reason } from '../../protocol/errors.js';
import { nowTimestamp, type KubeObject, type Node, type Pod, type WatchEvent } from '../../protocol/objects.js';
import type { Kind } from '../../protocol/kinds.js';
import type { InformerSource } from '../controllers/informer.js';
import type { InspectCapture } from '../inspect/capture.js';
import { EventRecorder } from '../shared/events.js';
import { BindBatcher } from './bind-batcher.js';
import { batchedSender } from './watch-batch.js';
import type { Logger } from '../shared/logger.js';
import type { SchedulerObserver } from '../controlplane/prometheus-metrics.js';

/**
 * The scheduler runs in the API server's process (they restart together): its watches need no
 * relist on an API server start, nor the last object of every pod that relist would keep.
 */
const LOCAL = { relistOnApiServerStart: false } as const;

export interface SchedulerHostOptions {
  client: ApiClient;
  logger: Logger;
  retryIntervalMs?: number;
  /** Binds in flight at once (default 64; sent in batches, see bind-batcher.ts). */
  maxInFlightBinds?: number;
  /** Inspector capture: the actors report their transitions (none: not inspected). */
  inspect?: InspectCapture;
  /** Told of every attempt and bind (Prometheus scheduler metrics). */
  observer?: SchedulerObserver;
  /**
   * The API server's cache in this process (controlplane/local-sources.ts): the watches read
   * its objects and changes directly instead of over NATS (no decode of each pod event). None:
   * watches over NATS.
   */
  sources?: (kind: Kind) => InformerSource;
}

/** The scheduler's context is a cache of every node and pod: the inspector keeps the queues and keys. */
function schedulerView(c: SchedulerContext): unknown {
  return {
    nodes: Object.keys(c.nodes),
    pending: Object.keys(c.pending),
    queue: [...c.queue],
    parked: c.parked,
    reported: c.reported,
    binding: [...c.binding.keys()],
    placed: Object.keys(c.placed).length,
    attempts: c.attempts,
  };
}

export class SchedulerHost {
  private actor?: Actor<typeof schedulerMachine>;
  private readonly watches: Pick<Watch, 'stop'>[] = [];
  private readonly events: EventRecorder;

  constructor(private readonly opts: SchedulerHostOptions) {
    this.events = new EventRecorder(opts.client, { component: 'default-scheduler' }, opts.logger);
  }

  async start(): Promise<void> {
    const { client, logger: log } = this.opts;
    const machine = schedulerMachine.provide({
      actors: {
        // One batcher per binder: each bindMany reply comes back as one BIND_RESULTS event.
        binder: fromCallback<BindEvent>(({ sendBack, receive }) => {
          const binds = new BindBatcher(client, (results, seconds) => {
            for (const r of results) {
              if (r.error === undefined) this.opts.observer?.bound(seconds);
              else this.opts.observer?.attempt('error');
            }
            sendBack({ type: 'BIND_RESULTS', results } satisfies BindResultsEvent);
          });
          receive((event) => binds.add(event.binds));
        }),
      },
      actions: {
        reportScheduled: (_, p) => {
          this.opts.observer?.attempt('scheduled');
          log.info({ pod: `${p.namespace}/${p.name}`, node: p.nodeName }, 'pod scheduled');
          this.events.record(podRef(p), 'Normal', 'Scheduled', `Successfully assigned ${p.namespace}/${p.name} to ${p.nodeName}`);
        },
        reportUnschedulable: (_, p) => {
          this.opts.observer?.attempt('unschedulable');
          log.info({ pod: `${p.namespace}/${p.name}`, reason: p.message }, 'pod unschedulable');
          this.events.record(podRef(p), 'Warning', 'FailedScheduling', p.message);
          void this.markUnschedulable(p.namespace, p.name, p.uid, p.message);
        },
      },
    });
    this.actor = createActor(machine, {
      inspect: this.opts.inspect?.observer({ kind: 'Scheduler', name: 'default-scheduler', view: schedulerView }),
      input: { retryIntervalMs: this.opts.retryIntervalMs, maxInFlightBinds: this.opts.maxInFlightBinds ?? 64 } });
    this.actor.start();
    // The cache's changes come one per KV entry: batched per event-loop turn, as a socket read batches NATS messages.
    const send = batchedSender((ev) => this.actor?.send(ev), this.opts.sources ? 'turn' : 'microtask');
    this.watches.push(
      await this.watch('Node', (ev) => {
        if (ev.type === 'DELETED') send({ type: 'NODE_DELETE', name: ev.object.metadata!.name! });
        else send({ type: 'NODE_UPSERT', node: ev.object as Node });
      }),
    );
    // Claims, volumes and classes before pods, so a pod's first decision sees its claims.
    for (const kind of ['StorageClass', 'PersistentVolume', 'PersistentVolumeClaim'] as const) {
      this.watches.push(await this.watch(kind, (ev) => send({ type: 'VOLUME_OBJECT', object: { ...ev.object, kind }, deleted: ev.type === 'DELETED' })));
    }
    this.watches.push(
      await this.watch('Pod', (ev) => {
        if (ev.type === 'DELETED') send({ type: 'POD_DELETE', namespace: ev.object.metadata!.namespace!, name: ev.object.metadata!.name! });
        else send({ type: 'POD_UPSERT', pod: ev.object as Pod });
      }),
    );
  }

  /**
   * Every object of a kind as ADDED, then its changes: from the local cache (subscribed and read
   * in one synchronous run, so nothing falls between) or over NATS. Local objects are the
   * cache's own: the scheduler machine only reads them.
   */
  private async watch(kind: Kind, onEvent: (ev: WatchEvent) => void): Promise<Pick<Watch, 'stop'>> {
    const source = this.opts.sources?.(kind);
    if (!source) return this.opts.client.watch<KubeObject>(kind, LOCAL, onEvent);
    const unsubscribe = source.subscribe(onEvent);
    for (const object of source.all()) onEvent({ type: 'ADDED', object });
    return { stop: unsubscribe };
  }

  /** Pods waiting for a node now, by kube-scheduler queue. */
  pendingPods(): { active: number; unschedulable: number; binding: number } {
    const c = this.actor?.getSnapshot().context;
    return { active: c?.queue.size ?? 0, unschedulable: c ? Object.keys(c.parked).length : 0, binding: c?.binding.size ?? 0 };
  }

  async stop(): Promise<void> {
    for (const w of this.watches) w.stop();
    this.actor?.stop();
    await this.events.flush();
  }

  /** Writes PodScheduled=False/Unschedulable with the message (what `kubectl describe` shows). */
  private async markUnschedulable(namespace: string, name: string, uid: string | undefined, message: string): Promise<void> {
    try {
      await this.opts.client.modify<KubeObject>(
        'Pod',
        name,
        namespace,
        (pod) => {
          if ((uid && pod.metadata?.uid !== uid) || pod.spec?.nodeName) return false;
          const conditions: any[] = (pod.status?.conditions ?? []).filter((c: { type: string }) => c.type !== 'PodScheduled');
          const prev = pod.status?.conditions?.find((c: { type: string }) => c.type === 'PodScheduled');
          if (prev?.status === 'False' && prev.reason === 'Unschedulable' && prev.message === message) return false;
          conditions.push({ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null, lastTransitionTime: nowTimestamp() });
          pod.status = { ...(pod.status ?? {}), phase: 'Pending', conditions };
        },
        { status: true },
      );
    } catch (e) {
      if (!(e instanceof ApiError && e.reason === Reason.NotFound)) this.opts.logger.warn({ err: (e as Error).message }, 'could not write PodScheduled condition');
    }
  }
}

function podRef(p: { namespace: string; name: string; uid?: string }): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: p.namespace, name: p.name, uid: p.uid } };
}
