/**
 * The Endpoints controller (kube-controller-manager's pkg/controller/endpoint): keeps, for each
 * Service with a selector, an Endpoints object of the same name listing the matching pods. The
 * decision is `reconcileEndpoints` (actors/endpoints/, pure); this host feeds it from the shared
 * informers and writes what it decides.
 *
 * Level-based, through a work queue of Service keys (`namespace/name`), as client-go's:
 *  - a Service change queues its key; a pod change queues the Services whose selector matches
 *    the pod's labels now or matched them before; an Endpoints deletion (or change) queues the
 *    key of the same name, so a deleted or edited Endpoints of a selector Service comes back;
 *  - at start every Service and every Endpoints key is queued, so Endpoints left behind by a
 *    Service deleted while the controller was down are removed;
 *  - a key is never synced twice at once; queued again meanwhile, it is synced once more after;
 *    bursts of events in one tick collapse into one sync; failed syncs retry with back-off.
 * Writes are compare-and-set against the newest copy known (the informer's or our last write's).
 */
import type { Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';
import { reconcileEndpoints, selects, serviceSelector, type EndpointsAction } from '../../actors/endpoints/index.js';
import type { ApiClient } from '../../protocol/client.js';
import { ApiError, Reason } from '../../protocol/errors.js';
import type { KubeObject } from '../../protocol/objects.js';
import type { EventRecorder } from '../shared/events.js';
import type { Logger } from '../shared/logger.js';
import type { Informer } from './informer.js';

export interface EndpointsControllerOptions {
  client: ApiClient;
  services: Informer<KubeObject>;
  pods: Informer<KubeObject>;
  endpoints: Informer<KubeObject>;
  events?: EventRecorder;
  logger: Logger;
  /** Keys synced at once (kube: --concurrent-endpoint-syncs, 5). */
  workers?: number;
}

const keyOf = (namespace: string | undefined, name: string | undefined) => `${namespace ?? 'default'}/${name ?? ''}`;

export class EndpointsController {
  private readonly queue = new Set<string>();
  private readonly processing = new Set<string>();
  /** Keys queued again while being synced. */
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly retryTimers = new Map<string, NodeJS.Timeout>();
  /** Our last write per key (newer than the informer's copy until its event arrives). */
  private readonly written = new Map<string, KubeObject>();
  /** Labels each pod had when last seen, so a relabelled pod also updates the Services it left. */
  private readonly podLabels = new Map<string, Record<string, string> | undefined>();
  private scheduled = false;
  private stopped = false;
  private readonly workers: number;

  constructor(private readonly opts: EndpointsControllerOptions) {
    this.workers = opts.workers ?? 5;
  }

  /** Call once the informers have listed. */
  start(): void {
    const { services, pods, endpoints } = this.opts;
    services.on({
      upsert: (svc) => this.enqueue(keyOf(svc.metadata?.namespace, svc.metadata?.name)),
      delete: (svc) => this.enqueue(keyOf(svc.metadata?.namespace, svc.metadata?.name)),
    });
    // Pod changes only: the Services' resync re-syncs every Endpoints, pods included.
    pods.on({
      upsert: (pod) => this.podChanged(pod, false),
      delete: (pod) => this.podChanged(pod, true),
    }, { resync: false });
    endpoints.on({
      upsert: (ep) => {
        const key = keyOf(ep.metadata?.namespace, ep.metadata?.name);
        // Only Endpoints this controller manages are repaired on change; others are left alone.
        if (serviceSelector(services.get(ep.metadata?.namespace, ep.metadata!.name!) as Service | undefined)) this.enqueue(key);
      },
      delete: (ep) => {
        const key = keyOf(ep.metadata?.namespace, ep.metadata?.name);
        const mine = this.written.get(key);
        if (mine && mine.metadata?.uid === ep.metadata?.uid) this.written.delete(key);
        this.enqueue(key);
      },
    });
    for (const pod of pods.list()) this.podLabels.set(keyOf(pod.metadata?.namespace, pod.metadata?.name), pod.metadata?.labels as Record<string, string> | undefined);
    for (const svc of services.list()) this.enqueue(keyOf(svc.metadata?.namespace, svc.metadata?.name));
    for (const ep of endpoints.list()) this.enqueue(keyOf(ep.metadata?.namespace, ep.metadata?.name)); // leftovers of deleted Services
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.retryTimers.values()) clearTimeout(t);
    this.retryTimers.clear();
    this.queue.clear();
  }

  /** Services of the pod's namespace selecting its labels now, or before this change. */
  private podChanged(pod: KubeObject, deleted: boolean): void {
    const podKey = keyOf(pod.metadata?.namespace, pod.metadata?.name);
    const labels = pod.metadata?.labels as Record<string, string> | undefined;
    const before = this.podLabels.get(podKey);
    if (deleted) this.podLabels.delete(podKey);
    else this.podLabels.set(podKey, labels);
    for (const svc of this.opts.services.byNamespace(pod.metadata?.namespace ?? 'default')) {
      const selector = serviceSelector(svc as Service);
      if (!selector) continue;
      if (selects(selector, labels) || (before && selects(selector, before))) this.enqueue(keyOf(svc.metadata?.namespace, svc.metadata?.name));
    }
  }

  private enqueue(key: string): void {
    if (this.stopped) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    this.queue.add(key);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.drain();
      });
    }
  }

  private drain(): void {
    for (const key of this.queue) {
      if (this.processing.size >= this.workers) return;
      this.queue.delete(key);
      if (this.processing.has(key)) {
        this.dirty.add(key);
        continue;
      }
      this.processing.add(key);
      void this.sync(key).finally(() => {
        this.processing.delete(key);
        if (this.dirty.delete(key)) this.queue.add(key);
        this.drain();
      });
    }
  }

  /** The newest copy of the Endpoints we know of: the informer's or the one we last wrote. */
  private current(namespace: string, name: string): KubeObject | undefined {
    const cached = this.opts.endpoints.get(namespace, name);
    const mine = this.written.get(keyOf(namespace, name));
    if (!mine) return cached;
    if (!cached) return mine;
    return Number(mine.metadata?.resourceVersion) > Number(cached.metadata?.resourceVersion) ? mine : cached;
  }

  private async sync(key: string): Promise<void> {
    if (this.stopped) return;
    const slash = key.indexOf('/');
    const namespace = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const service = this.opts.services.get(namespace, name) as Service | undefined;
    const action = reconcileEndpoints({
      service,
      pods: this.opts.pods.list((p) => (p.metadata?.namespace ?? 'default') === namespace) as Pod[],
      endpoints: this.current(namespace, name) as Endpoints | undefined,
      namespace,
      name,
    });
    try {
      await this.execute(key, action, service);
      this.failures.delete(key);
    } catch (e) {
      if (this.stopped) return;
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      const conflict = e instanceof ApiError && (e.reason === Reason.Conflict || e.reason === Reason.AlreadyExists || e.reason === Reason.NotFound);
      if (!conflict) {
        this.opts.logger.warn({ service: key, err: (e as Error).message, attempt: n }, 'endpoints sync failed');
        if (service) this.opts.events?.record(service as KubeObject, 'Warning', 'FailedToUpdateEndpoint', `Failed to update endpoint ${key}: ${(e as Error).message}`);
      }
      // A lost race is retried at once against the fresher copy the informer will have; anything else backs off.
      const delay = conflict && n <= 3 ? 50 : Math.min(5000, 100 * 2 ** Math.min(n, 6));
      clearTimeout(this.retryTimers.get(key));
      this.retryTimers.set(
        key,
        setTimeout(() => {
          this.retryTimers.delete(key);
          this.enqueue(key);
        }, delay),
      );
    }
  }

  private async execute(key: string, action: EndpointsAction, service: Service | undefined): Promise<void> {
    const { client, logger } = this.opts;
    switch (action.type) {
      case 'none':
        return;
      case 'create': {
        const created = await client.create<KubeObject>(action.endpoints as KubeObject);
        this.written.set(key, created);
        logger.debug({ service: key }, 'endpoints created');
        return;
      }
      case 'update': {
        const updated = await client.update<KubeObject>(action.endpoints as KubeObject);
        this.written.set(key, updated);
        return;
      }
      case 'delete': {
        // The informer said the Service is gone: make sure before deleting what a user may rely on.
        if (await client.find('Service', action.name, action.namespace)) return;
        await client.delete('Endpoints', action.name, { namespace: action.namespace, preconditions: action.uid ? { uid: action.uid } : undefined }).catch((e) => {
          if (!(e instanceof ApiError && e.reason === Reason.NotFound)) throw e;
        });
        this.written.delete(key);
        logger.debug({ service: key, had: Boolean(service) }, 'endpoints deleted with their service');
        return;
      }
    }
  }
}
