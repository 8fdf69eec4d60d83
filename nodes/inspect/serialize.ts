/**
 * Pure conversions from XState's live objects to the inspector's plain data: inspection
 * events to `InspectRecord`s (no actor references, bounded sizes) and machines to graphs.
 */
import type { AnyActorRef, AnyStateMachine, InspectionEvent } from 'xstate';
import type { InspectRecord, MachineGraph, StateGraphNode, TransitionGraphEdge } from '../../protocol/inspect.js';

/** The object a root actor stands for, and where it runs. */
export interface ActorIdentity {
  process: string;
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
  /** What of the context to keep (default: all of it); for actors whose context is a cache of the cluster. */
  view?: (context: any) => unknown;
}

const MAX_DEPTH = 10;
const MAX_ARRAY = 200;
const MAX_STRING = 4096;
const MAX_KEYS = 200;

function isActorRef(v: object): v is AnyActorRef {
  return typeof (v as AnyActorRef).send === 'function' && typeof (v as AnyActorRef).sessionId === 'string';
}

/**
 * A deep copy that msgpack and JSON both carry unchanged: actor references become
 * `{ actorRef: id }`, functions vanish, errors keep their message, long values are cut.
 */
export function toPlain(value: unknown, depth = 0): unknown {
  if (value === null || value === undefined) return value ?? null;
  switch (typeof value) {
    case 'string':
      return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (depth >= MAX_DEPTH) return '…';
  const obj = value as object;
  if (isActorRef(obj)) return { actorRef: obj.id };
  if (obj instanceof Date) return obj.toISOString();
  if (obj instanceof Error) return { error: obj.name, message: obj.message };
  if (obj instanceof Uint8Array) return `<${obj.length} bytes>`;
  if (typeof AbortSignal !== 'undefined' && obj instanceof AbortSignal) return { aborted: obj.aborted };
  if (obj instanceof Map) return toPlain(Object.fromEntries(obj), depth);
  if (obj instanceof Set) return toPlain([...obj], depth);
  if (Array.isArray(obj)) {
    const out = obj.slice(0, MAX_ARRAY).map((v) => toPlain(v, depth + 1) ?? null);
    if (obj.length > MAX_ARRAY) out.push(`… ${obj.length - MAX_ARRAY} more`);
    return out;
  }
  const out: Record<string, unknown> = {};
  let n = 0;
  for (const [k, v] of Object.entries(obj)) {
    if (n++ >= MAX_KEYS) {
      out['…'] = `${Object.keys(obj).length - MAX_KEYS} more keys`;
      break;
    }
    const p = toPlain(v, depth + 1);
    if (p !== undefined) out[k] = p;
  }
  return out;
}

function plainEvent(event: unknown): InspectRecord['event'] {
  const p = toPlain(event);
  if (p && typeof p === 'object' && typeof (p as { type?: unknown }).type === 'string') return p as InspectRecord['event'];
  return { type: 'unknown' };
}

/** The machine behind an actor, if it is one (promise and callback actors are not). */
export function machineOf(ref: AnyActorRef): AnyStateMachine | undefined {
  const logic = (ref as unknown as { logic?: AnyStateMachine }).logic;
  return logic && typeof logic === 'object' && 'root' in logic && 'id' in logic ? logic : undefined;
}

/**
 * The record for one inspection event, or undefined for those the inspector does not keep
 * (microsteps, actions, and the snapshots of non-machine actors, whose values are effects' outputs).
 */
export function toRecord(ev: InspectionEvent, who: ActorIdentity, ts: number): InspectRecord | undefined {
  const ref = ev.actorRef as AnyActorRef;
  const root = ref.sessionId === ev.rootId;
  const rootActor = `${who.process}/${who.kind}/${who.namespace ?? '_'}/${who.name}`;
  const base = {
    ts,
    process: who.process,
    kind: who.kind,
    ...(who.namespace !== undefined ? { namespace: who.namespace } : {}),
    name: who.name,
    ...(who.uid ? { uid: who.uid } : {}),
    actor: root ? rootActor : `${rootActor}/${ref.id}`,
    root,
  };
  const machine = machineOf(ref);
  switch (ev.type) {
    case '@xstate.actor':
      return { ...base, type: 'actor', ...(machine ? { machine: machine.id } : {}) };
    case '@xstate.event': {
      if (!machine) return undefined;
      const src = ev.sourceRef as AnyActorRef | undefined;
      const source = src ? (src.sessionId === ev.rootId ? rootActor : src === ref ? 'self' : `${rootActor}/${src.id}`) : undefined;
      return { ...base, type: 'event', event: plainEvent(ev.event), ...(source ? { source } : {}) };
    }
    case '@xstate.snapshot': {
      if (!machine) return undefined;
      const snap = ev.snapshot as { value?: unknown; status?: string; context?: unknown };
      return {
        ...base,
        type: 'snapshot',
        machine: machine.id,
        event: plainEvent(ev.event),
        value: toPlain(snap.value),
        status: snap.status,
        context: toPlain(who.view ? who.view(snap.context) : snap.context),
      };
    }
    default:
      return undefined;
  }
}

interface StateNodeLike {
  id: string;
  key: string;
  type: StateGraphNode['type'];
  initial?: { target?: StateNodeLike[] };
  states: Record<string, StateNodeLike>;
  transitions: Map<string, Array<{ target?: StateNodeLike[]; guard?: unknown }>>;
  always?: Array<{ target?: StateNodeLike[]; guard?: unknown }>;
}

function guardName(guard: unknown): string | undefined {
  if (!guard) return undefined;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'object' && typeof (guard as { type?: unknown }).type === 'string') return (guard as { type: string }).type;
  return 'guard';
}

/** `xstate.after.5000.pod.Running` → `after 5000`. */
export function edgeLabel(eventType: string): string {
  const m = /^xstate\.after\.([^.]+)\./.exec(eventType);
  if (m) return `after ${m[1]}`;
  return eventType;
}

function graphNode(node: StateNodeLike): StateGraphNode {
  const transitions: TransitionGraphEdge[] = [];
  const add = (event: string, list: Array<{ target?: StateNodeLike[]; guard?: unknown }>) => {
    for (const t of list) {
      const g = guardName(t.guard);
      transitions.push({ event, targets: (t.target ?? []).map((s) => s.id), ...(g ? { guard: g } : {}) });
    }
  };
  for (const [eventType, list] of node.transitions) add(edgeLabel(eventType), list);
  if (node.always) add('always', node.always);
  const initial = node.initial?.target?.[0]?.key;
  return {
    id: node.id,
    key: node.key,
    type: node.type,
    ...(initial ? { initial } : {}),
    states: Object.values(node.states).map(graphNode),
    transitions,
  };
}

/** The machine's states and transitions (what the web page draws). */
export function machineGraph(machine: AnyStateMachine): MachineGraph {
  return { id: machine.id, root: graphNode(machine.root as unknown as StateNodeLike) };
}
