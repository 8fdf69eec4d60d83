/**
 * The scheduler's decision as it was before the per-node index (actors/scheduler/node-info.ts):
 * every node's usage and sibling count walked from its pods, candidates sorted. Kept verbatim as
 * the oracle the indexed decision must agree with, decision for decision.
 */
import type { Node, Pod } from '../../protocol/objects.js';
import {
  filterNode,
  keyOf,
  nodeAllocatable,
  nodeUsage,
  podHasClaims,
  podInfo,
  toPodInfo,
  unschedulableMessage,
  volumeFilter,
  volumePreFilter,
  type NodeUsage,
  type PodInfo,
  type PodLike,
  type PodsByNode,
  type Resources,
  type VolumeSnapshot,
} from '../../actors/scheduler/index.js';

const MAX_NODE_SCORE = 100;
type ScheduleResult = { nodeName: string } | { unschedulable: string };

function leastRequested(requested: number, capacity: number): number {
  if (capacity <= 0 || requested > capacity) return 0;
  return Math.floor(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

/** LeastAllocated score of placing a pod needing `podScoreRequests` on a node. */
function leastAllocatedScore(node: Node, usage: NodeUsage, podScoreRequests: Resources): number {
  const alloc = nodeAllocatable(node);
  const cpu = leastRequested(usage.scoreRequested.cpu + podScoreRequests.cpu, alloc.cpu);
  const memory = leastRequested(usage.scoreRequested.memory + podScoreRequests.memory, alloc.memory);
  return Math.floor((cpu + memory) / 2);
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  if (ka.length === 0 || ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => b[k] === a[k]);
}

/** Whether `other` belongs to the same workload as `pod` (same owner, or the same labels). */
export function isSibling(pod: PodInfo, other: PodInfo): boolean {
  if (other.namespace !== pod.namespace) return false;
  if (other.name === pod.name) return false;
  if (pod.ownerUids.some((uid) => other.ownerUids.includes(uid))) return true;
  return sameLabels(pod.labels, other.labels);
}

export function siblingCount(pod: PodInfo, podsOnNode: Iterable<PodLike> | undefined): number {
  let n = 0;
  for (const p of podsOnNode ?? []) {
    const other = toPodInfo(p);
    if (other.phase !== 'Succeeded' && other.phase !== 'Failed' && isSibling(pod, other)) n++;
  }
  return n;
}

/** 32-bit FNV-1a. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

interface NodeScore {
  nodeName: string;
  leastAllocated: number;
  spread: number;
  total: number;
  tieBreak: number;
}

interface Candidate {
  node: Node;
  usage: NodeUsage;
  podsOnNode: Iterable<PodLike> | undefined;
}

/** Scores feasible candidates, best first. */
function scoreNodes(pod: Pod, candidates: readonly Candidate[]): NodeScore[] {
  const info = podInfo(pod);
  const key = keyOf(pod);
  const siblings = candidates.map((c) => siblingCount(info, c.podsOnNode));
  const maxSiblings = Math.max(0, ...siblings);
  const scores = candidates.map((c, i): NodeScore => {
    const nodeName = c.node.metadata?.name ?? '';
    const leastAllocated = leastAllocatedScore(c.node, c.usage, info.scoreRequests);
    const spread = maxSiblings === 0 ? MAX_NODE_SCORE : Math.floor((MAX_NODE_SCORE * (maxSiblings - siblings[i])) / maxSiblings);
    return { nodeName, leastAllocated, spread, total: leastAllocated + spread, tieBreak: fnv1a(`${key}|${nodeName}`) };
  });
  return scores.sort((a, b) => b.total - a.total || a.tieBreak - b.tieBreak || (a.nodeName < b.nodeName ? -1 : 1));
}

function podsOn(podsByNode: PodsByNode, nodeName: string): Iterable<PodLike> | undefined {
  if (podsByNode instanceof Map) return podsByNode.get(nodeName)?.values();
  return (podsByNode as Readonly<Record<string, readonly PodLike[] | undefined>>)[nodeName];
}

/** Below this many nodes every node is filtered and scored (kube-scheduler's minFeasibleNodesToFind). */
const MIN_FEASIBLE_NODES_TO_FIND = 100;
/** The least share of the nodes scored at any size (minFeasibleNodesPercentageToFind). */
const MIN_FEASIBLE_NODES_PERCENTAGE = 5;

/**
 * How many feasible nodes a decision looks for before it stops filtering, as kube-scheduler's
 * adaptive percentageOfNodesToScore: all of them below 100 nodes, else 50% minus 1% per 125
 * nodes (at least 5%, at least 100 nodes): 420 of 1,000 nodes, 500 of 5,000.
 */
function numFeasibleNodesToFind(totalNodes: number): number {
  if (totalNodes < MIN_FEASIBLE_NODES_TO_FIND) return totalNodes;
  const percentage = Math.max(MIN_FEASIBLE_NODES_PERCENTAGE, 50 - Math.floor(totalNodes / 125));
  return Math.max(MIN_FEASIBLE_NODES_TO_FIND, Math.floor((totalNodes * percentage) / 100));
}

interface ScheduleOptions {
  /** Index of the node filtering starts at (kube-scheduler rotates it so every node gets its turn). */
  start?: number;
  /** Filled in: how many nodes were filtered (the caller's next start is `start + evaluated`). */
  stats?: { evaluated: number };
}

/**
 * Decides where `pod` goes: filter the nodes from `start` on (wrapping around) until
 * numFeasibleNodesToFind fit, score those, take the best. Only when fewer fit is every node
 * filtered, so an unschedulable message always counts every node.
 * `podsByNode` holds the pods already on (or assumed on) each node; terminated ones are ignored.
 */
export function referenceSchedulePod(pod: Pod, nodes: readonly Node[], podsByNode: PodsByNode, volumes?: VolumeSnapshot, opts: ScheduleOptions = {}): ScheduleResult {
  const requests = podInfo(pod).requests;
  const key = keyOf(pod);
  const feasible: Candidate[] = [];
  const reasons: string[][] = [];
  const withClaims = volumes !== undefined && podHasClaims(pod);
  if (withClaims) {
    const all = volumePreFilter(pod, volumes);
    if (all) return { unschedulable: `0/${nodes.length} nodes are available: ${all}.` };
  }
  const total = nodes.length;
  const wanted = numFeasibleNodesToFind(total);
  const start = total ? (opts.start ?? 0) % total : 0;
  let evaluated = 0;
  for (; evaluated < total && feasible.length < wanted; evaluated++) {
    const node = nodes[(start + evaluated) % total];
    const onNode = podsOn(podsByNode, node.metadata?.name ?? '');
    const usage = nodeUsage(onNode, key);
    const failed = filterNode(pod, requests, node, usage);
    // VolumeBinding runs after NodeResourcesFit, as in kube-scheduler's filter order.
    if (failed.length === 0 && withClaims) {
      const volumeReason = volumeFilter(pod, node, volumes);
      if (volumeReason) failed.push(volumeReason);
    }
    if (failed.length === 0) feasible.push({ node, usage, podsOnNode: podsOn(podsByNode, node.metadata?.name ?? '') });
    else reasons.push(failed);
  }
  if (opts.stats) opts.stats.evaluated = evaluated;
  if (feasible.length === 0) return { unschedulable: unschedulableMessage(total, reasons) };
  return { nodeName: scoreNodes(pod, feasible)[0].nodeName };
}
