/**
 * The web inspector's view of the stream: every actor's records (bounded per object), kept
 * up to date by following the stream; listeners get each new batch (server-sent events).
 */
import type { NatsConnection } from 'nats';
import { inspectObjectKey, type InspectRecord } from '../../protocol/inspect.js';
import type { Logger } from '../shared/logger.js';
import { currentState, latestIncarnation, transitions, type ActorState } from './history.js';
import { ensureInspectStore, replayRecords } from './store.js';

const MAX_RECORDS_PER_OBJECT = 3000;

export interface ActorSummary extends ActorState {
  key: string;
}

export class InspectorModel {
  private readonly objects = new Map<string, InspectRecord[]>();
  private readonly listeners = new Set<(records: InspectRecord[]) => void>();
  private readonly abort = new AbortController();
  private following?: Promise<void>;

  constructor(
    private readonly nc: NatsConnection,
    private readonly log?: Logger,
  ) {}

  async start(): Promise<void> {
    await ensureInspectStore(this.nc);
    this.following = this.follow();
  }

  private async follow(): Promise<void> {
    while (!this.abort.signal.aborted) {
      try {
        await replayRecords(this.nc, (rs) => this.add(rs), { follow: true, signal: this.abort.signal });
      } catch (e) {
        if (this.abort.signal.aborted) return;
        this.log?.warn({ err: (e as Error).message }, 'inspector stream follow failed; retrying');
        this.objects.clear();
        await new Promise((r) => setTimeout(r, 1000).unref()); // back-off before re-reading the stream
      }
    }
  }

  add(records: InspectRecord[]): void {
    for (const r of records) {
      const key = inspectObjectKey(r);
      let list = this.objects.get(key);
      if (!list) this.objects.set(key, (list = []));
      list.push(r);
      if (list.length > MAX_RECORDS_PER_OBJECT) list.splice(0, list.length - MAX_RECORDS_PER_OBJECT);
    }
    for (const l of this.listeners) l(records);
  }

  onRecords(listener: (records: InspectRecord[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  actors(): ActorSummary[] {
    const out: ActorSummary[] = [];
    for (const [key, list] of this.objects) {
      const s = currentState(latestIncarnation(list));
      if (s) out.push({ key, ...s, context: undefined });
    }
    return out.sort((a, b) => a.key.localeCompare(b.key));
  }

  history(key: string): { state?: ActorState; records: InspectRecord[]; transitions: ReturnType<typeof transitions> } | undefined {
    const list = this.objects.get(key);
    if (!list) return undefined;
    const mine = latestIncarnation(list);
    return { state: currentState(mine), records: mine, transitions: transitions(mine) };
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.listeners.clear();
    await this.following?.catch(() => {});
  }
}
