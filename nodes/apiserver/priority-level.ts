/**
 * Which priority level a request is served at — kubeact's fixed version of kube-apiserver's API
 * Priority and Fairness classification (no FlowSchema objects). `node-high` is kube's
 * `system-node-high`: a kubelet's heartbeat, its Lease in kube-node-lease and its Node object,
 * which must never starve behind workload traffic or nodes get marked unreachable. Everything
 * else is `workload`. The class comes from what the request is, not from the subject it came
 * on: a pod create sent to the node-critical subject is still workload.
 */
import type { Kind } from '../../protocol/kinds.js';
import { NODE_LEASE_NAMESPACE } from '../../protocol/objects.js';
import type { ApiVerb } from '../../protocol/subjects.js';

export type PriorityLevel = 'node-high' | 'workload';

/** Verbs of a heartbeat: reads and writes of one object (no list, no delete). */
const HEARTBEAT_VERBS: ReadonlySet<string> = new Set<ApiVerb>(['get', 'create', 'apply', 'update', 'updateStatus']);

export function priorityLevel(verb: ApiVerb, kind: Kind, body: Record<string, any>): PriorityLevel {
  if (!HEARTBEAT_VERBS.has(verb)) return 'workload';
  if (kind === 'Node') return 'node-high';
  if (kind !== 'Lease') return 'workload';
  const namespace = verb === 'get' ? body.namespace : body.object?.metadata?.namespace;
  return namespace === NODE_LEASE_NAMESPACE ? 'node-high' : 'workload';
}
