/**
 * API create latency beside its baseline, the raw JetStream KV put on the same nats-server:
 * sequential, interleaved one API create / one KV put, so both see the same machine noise.
 * The KV put stores the bytes of the object the API create just returned, in a scratch bucket.
 */
import type { KV, NatsConnection } from 'nats';
import type { ApiClient } from '../protocol/client.js';
import { encode } from '../protocol/codec.js';
import type { KubeObject } from '../protocol/objects.js';
import { now, throwIfAborted } from './pace.js';

export const SCRATCH_BUCKET = 'kubeact_bench_scratch';

export interface ApiLatencyResult {
  create: number[];
  kvPut: number[];
  objectBytes: number;
}

export async function apiLatency(
  client: ApiClient,
  nc: NatsConnection,
  opts: { count: number; warmup: number; runId: string; say: (l: string) => void; signal?: AbortSignal },
): Promise<ApiLatencyResult> {
  const kv: KV = await nc.jetstream().views.kv(SCRATCH_BUCKET, { history: 1 });
  const create: number[] = [];
  const kvPut: number[] = [];
  let objectBytes = 0;
  try {
    const total = opts.warmup + opts.count;
    for (let i = 0; i < total; i++) {
      throwIfAborted(opts.signal);
      const ns: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `bench-${opts.runId}-${i}` } };
      const t0 = now();
      const made = await client.create(ns);
      const t1 = now();
      const bytes = encode(made);
      const t2 = now();
      await kv.put(`ns-${i}`, bytes);
      const t3 = now();
      if (i < opts.warmup) continue;
      create.push(t1 - t0);
      kvPut.push(t3 - t2);
      objectBytes = bytes.length;
      const done = i + 1 - opts.warmup;
      if (done % 100 === 0) opts.say(`  ${done}/${opts.count} creates + puts`);
    }
  } finally {
    await kv.destroy().catch(() => {});
  }
  return { create, kvPut, objectBytes };
}
