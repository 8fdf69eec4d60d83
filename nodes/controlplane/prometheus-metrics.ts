/**
 * The control plane's Prometheus metrics, named as kube-apiserver, kube-scheduler and
 * kube-controller-manager name theirs. Components report through the small hook interfaces
 * (ApiRequestObserver, SchedulerObserver); levels (objects per kind, pending pods) are read
 * when scraped.
 */
import type { QueueStats } from '../apiserver/request-queue.js';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { KINDS, type Kind } from '../../protocol/kinds.js';

/** Called by the API server once per answered request. */
export type ApiRequestObserver = (verb: string, kind: string, code: number, seconds: number) => void;

/** Called by the scheduler host. */
export interface SchedulerObserver {
  /** One scheduling attempt's outcome: `scheduled`, `unschedulable` or `error` (the bind failed). */
  attempt(result: 'scheduled' | 'unschedulable' | 'error'): void;
  /** One bind through the API, seconds. */
  bound(seconds: number): void;
}

/** Resource name of a kind as kube-apiserver labels it (`pods`, `deployments`, …). */
function resourceOf(kind: string): string {
  return (KINDS as Record<string, { plural: string }>)[kind]?.plural ?? (kind || 'unknown');
}

export interface ControlPlaneSources {
  /** Objects stored per kind now. */
  objectCounts: () => Iterable<[Kind, number]>;
  /** Pods waiting for a node: `active` (to try next) and `unschedulable` (parked), as kube-scheduler's queues. */
  pendingPods: () => { active: number; unschedulable: number; binding: number };
  /** The API server's workload seats and queue (nodes/apiserver/request-queue.ts). */
  requestQueue?: () => QueueStats;
}

export class ControlPlaneMetrics {
  readonly apiRequest: ApiRequestObserver;
  readonly scheduler: SchedulerObserver;
  /** Counts one informer event (the controller-manager's work) by kind and type. */
  readonly informerEvent: (kind: string, type: 'upsert' | 'delete') => void;
  private sources?: ControlPlaneSources;

  constructor(registry: Registry) {
    const requests = new Counter({
      name: 'apiserver_request_total',
      help: 'API requests answered, by verb, resource and HTTP-style code.',
      labelNames: ['verb', 'resource', 'code'],
      registers: [registry],
    });
    const duration = new Histogram({
      name: 'apiserver_request_duration_seconds',
      help: 'API request latency (decode, store, reply), by verb and resource.',
      labelNames: ['verb', 'resource'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });
    this.apiRequest = (verb, kind, code, seconds) => {
      const resource = resourceOf(kind);
      requests.inc({ verb, resource, code: String(code) });
      duration.observe({ verb, resource }, seconds);
    };
    const self = this;
    new Gauge({
      name: 'apiserver_storage_objects',
      help: 'Objects stored, by resource.',
      labelNames: ['resource'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [kind, n] of self.sources?.objectCounts() ?? []) this.set({ resource: resourceOf(kind) }, n);
      },
    });
    const attempts = new Counter({
      name: 'scheduler_schedule_attempts_total',
      help: 'Scheduling attempts by result (scheduled, unschedulable, error).',
      labelNames: ['result'],
      registers: [registry],
    });
    for (const result of ['scheduled', 'unschedulable', 'error']) attempts.inc({ result }, 0);
    const binding = new Histogram({
      name: 'scheduler_binding_duration_seconds',
      help: 'Latency of binding a pod to its node through the API.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    this.scheduler = { attempt: (result) => attempts.inc({ result }), bound: (s) => binding.observe(s) };
    new Gauge({
      name: 'scheduler_pending_pods',
      help: 'Pods waiting for a node, by queue (active, unschedulable, binding).',
      labelNames: ['queue'],
      registers: [registry],
      collect() {
        const p = self.sources?.pendingPods();
        if (!p) return;
        for (const [queue, n] of Object.entries(p)) this.set({ queue }, n);
      },
    });
    // kube-apiserver's APF names, one priority level (`workload`); node-critical requests never queue.
    new Gauge({
      name: 'apiserver_flowcontrol_current_inqueue_requests',
      help: 'Workload requests waiting for a seat.',
      labelNames: ['priority_level'],
      registers: [registry],
      collect() {
        const q = self.sources?.requestQueue?.();
        if (q) this.set({ priority_level: 'workload' }, q.queued);
      },
    });
    new Gauge({
      name: 'apiserver_flowcontrol_current_executing_requests',
      help: 'Workload requests holding a seat.',
      labelNames: ['priority_level'],
      registers: [registry],
      collect() {
        const q = self.sources?.requestQueue?.();
        if (q) this.set({ priority_level: 'workload' }, q.inFlight);
      },
    });
    new Counter({
      name: 'apiserver_flowcontrol_rejected_requests_total',
      help: 'Workload requests not served: queue-full (429) or time-out (their client gave up while they waited; 504).',
      labelNames: ['priority_level', 'reason'],
      registers: [registry],
      collect() {
        const q = self.sources?.requestQueue?.();
        if (!q) return;
        this.reset();
        this.inc({ priority_level: 'workload', reason: 'queue-full' }, q.rejected);
        this.inc({ priority_level: 'workload', reason: 'time-out' }, q.expired);
      },
    });
    const events = new Counter({
      name: 'controller_informer_events_total',
      help: 'Watch events (and resync relists) the controller-manager handled, by kind and type (upsert, delete).',
      labelNames: ['kind', 'type'],
      registers: [registry],
    });
    this.informerEvent = (kind, type) => events.inc({ kind, type });
  }

  /** Where the levels are read from; set once the components exist. */
  observe(sources: ControlPlaneSources): void {
    this.sources = sources;
  }
}
