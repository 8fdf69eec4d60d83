/**
 * Records Kubernetes Events about objects (what `kubectl describe` shows), aggregating
 * repeats into one Event with a count, as client-go's recorder does.
 */
import { randomBytes } from 'node:crypto';
import type { ApiClient } from '../../protocol/client.js';
import { nowMicroTime, nowTimestamp, type Event, type KubeObject } from '../../protocol/objects.js';
import type { Logger } from './logger.js';

export type EventType = 'Normal' | 'Warning';

export interface EventSource {
  component: string;
  host?: string;
}

export class EventRecorder {
  private readonly recent = new Map<string, { name: string; namespace: string; count: number }>();
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly client: ApiClient,
    private readonly source: EventSource,
    private readonly log?: Logger,
  ) {}

  /** Fire and forget: Events are informational, a failure to record one is only logged. */
  record(involved: KubeObject, type: EventType, reason: string, message: string): void {
    const task = this.chain.then(() => this.write(involved, type, reason, message)).catch((e) => this.log?.debug({ err: e, reason }, 'event not recorded'));
    this.chain = task;
  }

  /** Resolves when every Event recorded so far has been written (tests, shutdown). */
  flush(): Promise<unknown> {
    return this.chain;
  }

  private async write(involved: KubeObject, type: EventType, reason: string, message: string): Promise<void> {
    const meta = involved.metadata ?? {};
    const namespace = meta.namespace ?? 'default';
    const key = `${meta.uid ?? meta.name}|${type}|${reason}|${message}`;
    const now = Date.now();
    const seen = this.recent.get(key);
    if (seen) {
      const updated = await this.client.modify<Event & KubeObject>('Event', seen.name, seen.namespace, (ev) => {
        (ev as any).count = (ev.count ?? 1) + 1;
        (ev as any).lastTimestamp = nowTimestamp(now);
      });
      if (updated) {
        seen.count++;
        return;
      }
      this.recent.delete(key);
    }
    const name = `${meta.name}.${randomBytes(8).toString('hex')}`;
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
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
    await this.client.create(event as KubeObject);
    this.recent.set(key, { name, namespace, count: 1 });
    if (this.recent.size > 2000) this.recent.delete(this.recent.keys().next().value!);
  }
}
