/**
 * The ReplicaSet actor's pods by name, in 64 shards: a change copies one shard (about n/64
 * entries) and the 64-key top level instead of every entry — copying all of them on each pod
 * event made filling a 1,000-replica ReplicaSet quadratic. Plain JSON, persisted with the
 * snapshot; never mutated (every change returns a new cache sharing the untouched shards).
 */
import type { Pod } from '../../protocol/objects.js';

export type PodCache = Record<string, Record<string, Pod>>;

const SHARDS = 64;

/** FNV-1a of the name, as a shard key. */
function shardOf(name: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return String((h >>> 0) % SHARDS);
}

export function podGet(cache: PodCache, name: string): Pod | undefined {
  return cache[shardOf(name)]?.[name];
}

export function podSet(cache: PodCache, name: string, pod: Pod): PodCache {
  const key = shardOf(name);
  return { ...cache, [key]: { ...cache[key], [name]: pod } };
}

export function podDelete(cache: PodCache, name: string): PodCache {
  const key = shardOf(name);
  const shard = cache[key];
  if (!shard || !(name in shard)) return cache;
  const { [name]: _, ...rest } = shard;
  return { ...cache, [key]: rest };
}

export function podList(cache: PodCache): Pod[] {
  const out: Pod[] = [];
  for (const shard of Object.values(cache)) for (const pod of Object.values(shard)) out.push(pod);
  return out;
}

/** A cache from pods by name (a snapshot persisted before the shards). */
export function podCacheOf(byName: Record<string, Pod>): PodCache {
  let cache: PodCache = {};
  for (const [name, pod] of Object.entries(byName)) cache = podSet(cache, name, pod);
  return cache;
}
