/**
 * Capture: a process passes `capture.observer(identity)` as XState's `inspect` option to every
 * actor it creates; the records are batched per actor and published with core NATS (never
 * awaited), so an actor never waits for the inspector. When the buffer is full, records are
 * dropped and counted. Machine graphs are stored once per machine id.
 */
import type { AnyActorRef, AnyStateMachine, InspectionEvent } from 'xstate';
import type { NatsConnection } from 'nats';
import { encode } from '../../protocol/codec.js';
import type { InspectBatch, InspectRecord } from '../../protocol/inspect.js';
import { subjects } from '../../protocol/subjects.js';
import type { Logger } from '../shared/logger.js';
import { ensureInspectStore, putMachineGraph } from './store.js';
import { machineGraph, machineOf, toRecord, type ActorIdentity } from './serialize.js';

export interface CaptureOptions {
  /** Records held before flushing is forced to drop (default 20 000). */
  maxBuffered?: number;
  /** Batching window (default 50 ms). */
  flushMs?: number;
  /** A batch message is cut below this size (default 512 KiB). */
  maxBatchBytes?: number;
  log?: Logger;
  /** Clock (tests). */
  now?: () => number;
}

export class InspectCapture {
  /** Records dropped because the buffer was full or one record alone was too large. */
  dropped = 0;
  published = 0;
  private readonly buffers = new Map<string, InspectRecord[]>();
  private buffered = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly machines = new Set<string>();
  private readonly maxBuffered: number;
  private readonly flushMs: number;
  private readonly maxBatchBytes: number;
  private readonly now: () => number;

  constructor(
    private readonly nc: NatsConnection,
    readonly processName: string,
    private readonly opts: CaptureOptions = {},
  ) {
    this.maxBuffered = opts.maxBuffered ?? 20_000;
    this.flushMs = opts.flushMs ?? 50;
    this.maxBatchBytes = opts.maxBatchBytes ?? 512 * 1024;
    this.now = opts.now ?? Date.now;
  }

  /** Creates the stream and bucket if needed; a failure is logged, capture goes on (core NATS). */
  static async start(nc: NatsConnection, processName: string, opts: CaptureOptions = {}): Promise<InspectCapture> {
    await ensureInspectStore(nc).catch((e) => opts.log?.warn({ err: (e as Error).message }, 'inspector stream not created'));
    return new InspectCapture(nc, processName, opts);
  }

  /** The `inspect` option for `createActor` of the actor standing for one object. */
  observer(who: Omit<ActorIdentity, 'process'>): (ev: InspectionEvent) => void {
    const identity: ActorIdentity = { ...who, process: this.processName };
    const subject = subjects.inspectRecords(this.processName, who.kind, who.namespace, who.name);
    return (ev) => {
      try {
        if (ev.type === '@xstate.actor') {
          const m = machineOf(ev.actorRef as AnyActorRef);
          if (m) this.registerMachine(m);
        }
        if (ev.type !== '@xstate.actor' && ev.type !== '@xstate.event' && ev.type !== '@xstate.snapshot') return;
        if (this.buffered >= this.maxBuffered) {
          this.dropped++;
          return;
        }
        const record = toRecord(ev, identity, this.now());
        if (!record) return;
        let list = this.buffers.get(subject);
        if (!list) this.buffers.set(subject, (list = []));
        list.push(record);
        this.buffered++;
        this.timer ??= setTimeout(() => this.flush(), this.flushMs).unref();
      } catch (e) {
        // Inspection must never break an actor.
        this.dropped++;
        this.opts.log?.debug({ err: (e as Error).message }, 'inspection record not captured');
      }
    };
  }

  /** Stores a machine's graph once per process (idempotent put). */
  registerMachine(machine: AnyStateMachine): void {
    if (this.machines.has(machine.id)) return;
    this.machines.add(machine.id);
    let graph;
    try {
      graph = machineGraph(machine);
    } catch (e) {
      this.opts.log?.warn({ machine: machine.id, err: (e as Error).message }, 'machine graph not serializable');
      return;
    }
    putMachineGraph(this.nc, graph).catch((e) => {
      this.machines.delete(machine.id);
      this.opts.log?.debug({ machine: machine.id, err: (e as Error).message }, 'machine graph not stored');
    });
  }

  /** Publishes everything buffered now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const buffers = [...this.buffers];
    this.buffers.clear();
    this.buffered = 0;
    if (this.nc.isClosed()) {
      for (const [, list] of buffers) this.dropped += list.length;
      return;
    }
    for (const [subject, records] of buffers) this.publishBatches(subject, records);
  }

  private publishBatches(subject: string, records: InspectRecord[]): void {
    let start = 0;
    while (start < records.length) {
      let end = records.length;
      let bytes = encode({ records: records.slice(start, end) } satisfies InspectBatch);
      // Halve until the batch fits; a single record too large is dropped.
      while (bytes.length > this.maxBatchBytes && end - start > 1) {
        end = start + Math.ceil((end - start) / 2);
        bytes = encode({ records: records.slice(start, end) } satisfies InspectBatch);
      }
      if (bytes.length > this.maxBatchBytes) {
        this.dropped++;
      } else {
        this.nc.publish(subject, bytes);
        this.published += end - start;
      }
      start = end;
    }
  }

  async close(): Promise<void> {
    this.flush();
    if (!this.nc.isClosed()) await this.nc.flush().catch(() => {});
  }
}
