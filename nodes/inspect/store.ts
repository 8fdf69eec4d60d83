/**
 * The inspector's storage on JetStream: the size-bounded record stream and the machine-graph
 * bucket, and replay of records. Replay uses a plain ephemeral pull consumer (deliver all,
 * no acks): on nats-server 2.9 an ordered consumer delivering everything hung.
 */
import { AckPolicy, DeliverPolicy, DiscardPolicy, RetentionPolicy, StorageType, nanos, type KV, type NatsConnection } from 'nats';
import { decode, encode } from '../../protocol/codec.js';
import {
  INSPECT_MACHINES_BUCKET,
  INSPECT_STREAM,
  INSPECT_STREAM_LIMITS,
  type InspectBatch,
  type InspectRecord,
  type MachineGraph,
} from '../../protocol/inspect.js';
import { subjects } from '../../protocol/subjects.js';

const buckets = new WeakMap<NatsConnection, Promise<KV>>();

function machinesBucket(nc: NatsConnection): Promise<KV> {
  let kv = buckets.get(nc);
  if (!kv) {
    kv = nc.jetstream().views.kv(INSPECT_MACHINES_BUCKET, { history: 1 });
    kv.catch(() => buckets.delete(nc));
    buckets.set(nc, kv);
  }
  return kv;
}

/** Creates the stream (or updates its bounds) and the bucket; safe to call from every process. */
export async function ensureInspectStore(nc: NatsConnection): Promise<void> {
  const jsm = await nc.jetstreamManager();
  const config = {
    name: INSPECT_STREAM,
    subjects: [subjects.inspectRecordsOf()],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_bytes: INSPECT_STREAM_LIMITS.maxBytes,
    max_msgs: INSPECT_STREAM_LIMITS.maxMsgs,
  };
  try {
    await jsm.streams.info(INSPECT_STREAM);
  } catch {
    await jsm.streams.add(config).catch(async (e) => {
      // Another process created it meanwhile.
      await jsm.streams.info(INSPECT_STREAM).catch(() => Promise.reject(e));
    });
  }
  await machinesBucket(nc);
}

export async function putMachineGraph(nc: NatsConnection, graph: MachineGraph): Promise<void> {
  const kv = await machinesBucket(nc);
  await kv.put(graph.id, encode(graph));
}

export async function getMachineGraph(nc: NatsConnection, id: string): Promise<MachineGraph | undefined> {
  const kv = await machinesBucket(nc);
  const e = await kv.get(id);
  return e && e.operation === 'PUT' ? decode<MachineGraph>(e.value) : undefined;
}

export interface ReplayOptions {
  /** Subject filter (default: every record). */
  filter?: string;
  /** Keep delivering new records after the history (default: stop at the end of history). */
  follow?: boolean;
  signal?: AbortSignal;
}

/**
 * Delivers the stored records in order, then (with `follow`) new ones as they arrive.
 * Resolves at the end of history, or when `signal` aborts a follow. Garbage messages are skipped.
 */
export async function replayRecords(nc: NatsConnection, onRecords: (records: InspectRecord[], seq: number) => void, opts: ReplayOptions = {}): Promise<void> {
  const jsm = await nc.jetstreamManager();
  const info = await jsm.consumers.add(INSPECT_STREAM, {
    filter_subject: opts.filter ?? subjects.inspectRecordsOf(),
    ack_policy: AckPolicy.None,
    deliver_policy: DeliverPolicy.All,
    inactive_threshold: nanos(30_000),
    mem_storage: true,
  });
  const consumer = await nc.jetstream().consumers.get(INSPECT_STREAM, info.name);
  try {
    if (!opts.follow && info.num_pending === 0) return;
    const messages = await consumer.consume({ max_messages: 512 });
    const onAbort = () => void messages.close();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted) onAbort();
    try {
      for await (const m of messages) {
        let batch: InspectBatch | undefined;
        try {
          batch = decode<InspectBatch>(m.data);
        } catch {
          batch = undefined;
        }
        if (batch && Array.isArray(batch.records)) onRecords(batch.records.filter(isRecord), m.seq);
        if (!opts.follow && m.info.pending === 0) break;
      }
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      // Not awaited: after a `break` the iterator is already done and close() never resolves.
      void messages.close().catch(() => {});
    }
  } finally {
    await jsm.consumers.delete(INSPECT_STREAM, info.name).catch(() => {});
  }
}

function isRecord(r: unknown): r is InspectRecord {
  const x = r as InspectRecord;
  return !!x && typeof x === 'object' && typeof x.kind === 'string' && typeof x.name === 'string' && typeof x.type === 'string' && typeof x.actor === 'string';
}
