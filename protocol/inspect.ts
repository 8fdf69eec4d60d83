/**
 * The inspector's wire: what every actor-hosting process publishes about its actors (XState
 * inspection events made serializable) and the machine graphs the web page draws.
 *
 * Records go to `subjects.inspectRecords(process, kind, ns, name)` as batches
 * (`InspectBatch`, msgpack); the JetStream stream `INSPECT_STREAM` keeps them, bounded by size,
 * so history survives restarts and can be replayed. Machine graphs live in the KV bucket
 * `INSPECT_MACHINES_BUCKET`, one key per machine id.
 */
export const INSPECT_STREAM = 'KUBEACT_INSPECT';
export const INSPECT_MACHINES_BUCKET = 'kubeact_inspect_machines';

/** Stream bounds: oldest records are discarded first. */
export const INSPECT_STREAM_LIMITS = { maxBytes: 256 * 1024 * 1024, maxMsgs: 1_000_000 } as const;

/** API kinds whose objects each have an actor (what `kubeact inspect KIND/NAME` accepts); the scheduler is the one actor of no object. */
export const INSPECTED_KINDS = ['Pod', 'ReplicaSet', 'Deployment', 'Node', 'HorizontalPodAutoscaler'] as const;

export const INSPECT_RECORD_TYPES = ['actor', 'event', 'snapshot'] as const;
export type InspectRecordType = (typeof INSPECT_RECORD_TYPES)[number];

/** One inspection event of one actor, with every value plain data (no actor references). */
export interface InspectRecord {
  /** Milliseconds since the epoch, taken by the hosting process. */
  ts: number;
  /** The hosting process (`control-plane`, a node name). */
  process: string;
  /** The object the root actor stands for (`Pod`, `ReplicaSet`, `Scheduler`, ...). */
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
  /** `<process>/<kind>/<ns>/<name>` for the root actor, `<root id>/<child id>` for its children. */
  actor: string;
  root: boolean;
  type: InspectRecordType;
  /** Machine id (the key of its graph), when the actor is a state machine. */
  machine?: string;
  /** `event`: the event received (sanitized); `snapshot`: the event that caused it. */
  event?: { type: string; [field: string]: unknown };
  /** `event`: the sender's actor id, when known. */
  source?: string;
  /** `snapshot`: state value, status and context. */
  value?: unknown;
  status?: string;
  context?: unknown;
}

export interface InspectBatch {
  records: InspectRecord[];
}

/** A machine's states and transitions, enough to draw its statechart. */
export interface MachineGraph {
  id: string;
  root: StateGraphNode;
}

export interface StateGraphNode {
  /** Full id (`pod.Running`). */
  id: string;
  key: string;
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  initial?: string;
  states: StateGraphNode[];
  transitions: TransitionGraphEdge[];
}

export interface TransitionGraphEdge {
  /** Event type; delayed transitions are `after <delay>`, eventless ones `always`. */
  event: string;
  /** Target state ids; empty for a self/internal transition. */
  targets: string[];
  guard?: string;
}

/** Reply to `subjects.inspectWeb()`. */
export interface InspectWebReply {
  url: string;
}

/** The key of an actor's object: `Pod/default/web-1`. */
export function inspectObjectKey(r: Pick<InspectRecord, 'kind' | 'namespace' | 'name'>): string {
  return `${r.kind}/${r.namespace ?? '_'}/${r.name}`;
}
