/**
 * Records Kubernetes Events about objects (what `kubectl describe` shows), as client-go's
 * recorder does: the EventCorrelator (event-correlator.ts) drops spam and folds similar
 * Events; a repeat of the same Event bumps its `count` and `lastTimestamp` instead of a new
 * object. record() only decides (timestamps are taken then); the writes go later, off the
 * caller's path, a few at a time (the creates of every recorder of a client coalesced into
 * `createMany` requests, event-creates.ts), and repeats while a write of the same Event is pending or
 * in flight become one write with the summed count.
 */
import { randomInt } from 'node:crypto';
import type { ApiClient } from '../../protocol/client.js';
import { ApiError, Reason } from '../../protocol/errors.js';
import { nowMicroTime, nowTimestamp, type Event, type KubeObject } from '../../protocol/objects.js';
import { EventCorrelator, type CorrelatorOptions } from './event-correlator.js';
import { eventCreatesOf } from './event-creates.js';
import type { Logger } from './logger.js';

export type EventType = 'Normal' | 'Warning';

export interface EventSource {
  component: string;
  host?: string;
}

/**
 * Event names as client-go makes them, `<object>.<hex of the time in ns>`; the ns digits below
 * the ms carry a sequence from a random start per process, so two Events of one object in the
 * same ms (one process, or two) do not collide. randomBytes per Event was 3% of a busy
 * simulated-nodes host's CPU.
 */
let eventSeq = randomInt(1_000_000);
export function eventName(objectName: string, nowMs: number): string {
  eventSeq = (eventSeq + 1) % 1_000_000;
  return `${objectName}.${(BigInt(Math.floor(nowMs)) * 1_000_000n + BigInt(eventSeq)).toString(16)}`;
}

/** Writes in flight per recorder. */
const IN_FLIGHT = 8;
/** Known Events kept for bumping (client-go's LRU holds 4096). */
const KNOWN = 4096;

interface Tracked {
  key: string;
  /** The Event to create; dropped once it is created (only name, count and times are needed to bump it). */
  draft?: Record<string, any>;
  name: string;
  namespace: string;
  count: number;
  lastTimestamp: string;
  message: string;
  written: number;
  writing: boolean;
  queued: boolean;
}

export class EventRecorder {
  private readonly known = new Map<string, Tracked>();
  /** Size of `known` (and of the correlator's caches): `cacheSize`, else client-go's 4096. */
  private readonly knownMax: number;
  private readonly queue: Tracked[] = [];
  private readonly correlator: EventCorrelator;
  private inFlight = 0;
  private idle: (() => void)[] = [];

  constructor(
    private readonly client: ApiClient,
    private readonly source: EventSource,
    private readonly log?: Logger,
    opts: CorrelatorOptions & { now?: () => number } = {},
  ) {
    this.correlator = new EventCorrelator(opts);
    this.now = opts.now ?? Date.now;
    this.knownMax = opts.cacheSize ?? KNOWN;
  }

  private readonly now: () => number;

  /** Fire and forget: Events are informational, a failure to record one is only logged. */
  record(involved: KubeObject, type: EventType, reason: string, message: string): void {
    const meta = involved.metadata ?? {};
    const now = this.now();
    const c = this.correlator.correlate(
      { source: `${this.source.component}|${this.source.host ?? ''}`, object: `${involved.kind}|${meta.namespace ?? ''}|${meta.name}|${meta.uid ?? ''}`, type, reason, message },
      now,
    );
    if (c.drop) {
      this.log?.debug({ reason, object: `${meta.namespace}/${meta.name}` }, 'event dropped by the spam filter');
      return;
    }
    let t = this.known.get(c.key);
    if (t) {
      this.known.delete(c.key); // most recently used last
      t.count++;
      t.lastTimestamp = nowTimestamp(now);
      t.message = c.message;
      if (t.draft) Object.assign(t.draft, { count: t.count, lastTimestamp: t.lastTimestamp, message: c.message });
    } else {
      const draft = this.draft(involved, type, reason, c.message, now);
      t = { key: c.key, draft, name: draft.metadata.name, namespace: draft.metadata.namespace, count: 1, lastTimestamp: draft.lastTimestamp, message: c.message, written: 0, writing: false, queued: false };
    }
    this.known.set(c.key, t);
    if (this.known.size > this.knownMax) this.known.delete(this.known.keys().next().value!);
    this.enqueue(t);
  }

  /** Resolves when every Event recorded so far has been written (tests, shutdown). */
  flush(): Promise<void> {
    if (!this.queue.length && !this.inFlight) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private enqueue(t: Tracked): void {
    if (t.queued || t.writing) return; // a write after the current one picks the new count up
    t.queued = true;
    this.queue.push(t);
    if (this.queue.length === 1) setImmediate(() => this.pump());
  }

  private pump(): void {
    while (this.inFlight < IN_FLIGHT && this.queue.length) {
      const t = this.queue.shift()!;
      t.queued = false;
      t.writing = true;
      this.inFlight++;
      this.write(t)
        .catch((e) => this.log?.debug({ err: e, event: t.name }, 'event not recorded'))
        .finally(() => {
          t.writing = false;
          this.inFlight--;
          if (t.count > t.written && this.known.get(t.key) === t) this.enqueue(t);
          this.pump();
          if (!this.queue.length && !this.inFlight) for (const r of this.idle.splice(0)) r();
        });
    }
  }

  private async write(t: Tracked): Promise<void> {
    const count = t.count;
    if (t.draft) {
      try {
        await eventCreatesOf(this.client).create(t.draft as KubeObject); // coalesced with the process's other Event creates
      } catch (e) {
        t.written = count; // not retried: Events are best effort, as client-go's after its retries
        throw e;
      }
      t.draft = undefined;
      t.written = count;
      return;
    }
    const lastTimestamp = t.lastTimestamp;
    const message = t.message;
    try {
      await this.client.modify<Event & KubeObject>('Event', t.name, t.namespace, (ev) => {
        Object.assign(ev, { count: Math.max(count, (ev.count ?? 1) + 1), lastTimestamp, message });
      });
      t.written = count;
    } catch (e) {
      t.written = count;
      // Gone (expired by the TTL, deleted): forget it, so the next repeat records a new Event.
      if (e instanceof ApiError && e.reason === Reason.NotFound && this.known.get(t.key) === t) this.known.delete(t.key);
      throw e;
    }
  }

  private draft(involved: KubeObject, type: EventType, reason: string, message: string, now: number): Record<string, any> {
    const meta = involved.metadata ?? {};
    return {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: eventName(meta.name!, now), namespace: meta.namespace ?? 'default' },
      involvedObject: {
        apiVersion: involved.apiVersion,
        kind: involved.kind,
        name: meta.name,
        namespace: meta.namespace,
        uid: meta.uid,
        resourceVersion: meta.resourceVersion,
      },
      reason,
      message,
      type,
      count: 1,
      source: { component: this.source.component, ...(this.source.host ? { host: this.source.host } : {}) },
      firstTimestamp: nowTimestamp(now),
      lastTimestamp: nowTimestamp(now),
      eventTime: nowMicroTime(now),
      reportingComponent: this.source.component,
      reportingInstance: this.source.host ?? this.source.component,
    };
  }
}
