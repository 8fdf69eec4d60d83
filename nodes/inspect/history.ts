/**
 * Pure reading of an actor's records: its transitions (snapshots whose state changed) and its
 * current state, for the CLI and the web page.
 */
import type { InspectRecord } from '../../protocol/inspect.js';

/** `Running`; `{Running: 'Ready'}` → `Running.Ready`; parallel regions `{a: 'x', b: 'y'}` → `a.x, b.y` (nested: `S.(a.x, b.y)`). */
export function formatStateValue(value: unknown, nested = false): string {
  if (value === undefined || value === null) return '-';
  if (typeof value !== 'object') return String(value);
  const entries = Object.entries(value as Record<string, unknown>);
  const parts = entries.map(([k, v]) => (v && typeof v === 'object' && Object.keys(v).length === 0 ? k : `${k}.${formatStateValue(v, true)}`));
  if (parts.length > 1) return nested ? `(${parts.join(', ')})` : parts.join(', ');
  return parts[0] ?? '-';
}

export interface Transition {
  ts: number;
  /** `pod` for the root actor, the child's id (`container:web`) otherwise. */
  actor: string;
  event: string;
  from: string;
  to: string;
  status?: string;
}

function shortActor(r: InspectRecord): string {
  if (r.root) return r.kind.toLowerCase();
  const i = r.actor.lastIndexOf('/');
  return r.actor.slice(i + 1);
}

/** Records of the latest incarnation (uid) of the object, when several objects had its name. */
export function latestIncarnation(records: InspectRecord[]): InspectRecord[] {
  const last = [...records].reverse().find((r) => r.root && r.uid);
  return last ? records.filter((r) => !r.uid || r.uid === last.uid) : records;
}

/** The state changes of the actor and its machine children, in order. */
export function transitions(records: InspectRecord[]): Transition[] {
  const current = new Map<string, string>();
  const out: Transition[] = [];
  for (const r of records) {
    if (r.type !== 'snapshot') continue;
    const to = formatStateValue(r.value);
    const key = r.actor;
    const from = current.get(key);
    const stopped = r.status === 'stopped' || r.status === 'done' || r.status === 'error';
    if (from === to && !stopped) continue;
    if (from === to && stopped && out.at(-1)?.actor === shortActor(r) && out.at(-1)?.status === r.status) continue;
    current.set(key, to);
    out.push({ ts: r.ts, actor: shortActor(r), event: r.event?.type ?? '-', from: from ?? '-', to, ...(r.status && r.status !== 'active' ? { status: r.status } : {}) });
  }
  return out;
}

export interface ActorState {
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
  process: string;
  machine?: string;
  state: string;
  status: string;
  since: number;
  context?: unknown;
  /** Current state of each machine child (`container:web` → `Running`). */
  children: Record<string, string>;
}

/** The latest state of the root actor and its machine children, or undefined before any snapshot. */
export function currentState(records: InspectRecord[]): ActorState | undefined {
  let root: InspectRecord | undefined;
  let since = 0;
  const children: Record<string, string> = {};
  for (const r of records) {
    if (r.type !== 'snapshot') continue;
    if (r.root) {
      if (!root || formatStateValue(root.value) !== formatStateValue(r.value) || root.status !== r.status) since = r.ts;
      root = r;
    } else {
      const id = shortActor(r);
      if (r.status === 'stopped') delete children[id];
      else children[id] = formatStateValue(r.value);
    }
  }
  if (!root) return undefined;
  return {
    kind: root.kind,
    ...(root.namespace !== undefined ? { namespace: root.namespace } : {}),
    name: root.name,
    ...(root.uid ? { uid: root.uid } : {}),
    process: root.process,
    ...(root.machine ? { machine: root.machine } : {}),
    state: formatStateValue(root.value),
    status: root.status ?? 'active',
    since,
    context: root.context,
    children,
  };
}
