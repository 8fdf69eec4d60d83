/** Where pod startup time goes: per-pod intervals between the stamps of a PodTimeline. */
import type { PodTimeline } from './pod-startup.js';
import type { Stage } from './report.js';
import { summarize } from './stats.js';

type Stamp = Exclude<keyof PodTimeline, 'name' | 'uid' | 'node' | 'events' | 'error'>;

const STAGES: [string, Stamp, Stamp][] = [
  ['create → create reply (API create round trip)', 'create', 'reply'],
  ['create → ADDED event seen', 'create', 'added'],
  ['create → bound (scheduler bind seen in the watch)', 'create', 'bound'],
  ['bound → container started (kubelet gets the pod, pod actor, runtime.start; kubelet log)', 'bound', 'containerStarted'],
  ['container started → Running seen (status write(s) through the API, watch)', 'containerStarted', 'running'],
  ['bound → first kubelet status seen (ContainerCreating write)', 'bound', 'firstStatus'],
  ['first kubelet status → Running seen', 'firstStatus', 'running'],
  ['create → Running seen (total)', 'create', 'running'],
];

export function breakdown(timelines: PodTimeline[]): Stage[] {
  const stages: Stage[] = [];
  for (const [name, from, to] of STAGES) {
    const samples: number[] = [];
    for (const t of timelines) {
      const a = t[from];
      const b = t[to];
      if (a !== undefined && b !== undefined) samples.push(b - a);
    }
    if (!samples.length) continue;
    const label = samples.length < timelines.length ? `${name} [${samples.length}/${timelines.length} pods]` : name;
    stages.push({ name: label, summary: summarize(samples) });
    if (to === 'bound') stages.push(...schedulerStages(timelines));
  }
  return stages;
}

/**
 * The scheduler binds one pod at a time, in arrival order: pod i's bind can start once the pod
 * is known and pod i-1's bind is done. `bound − max(added, previous bound)` approximates the bind
 * itself (API round trip + store write); the rest of create → bound is waiting in its queue.
 */
function schedulerStages(timelines: PodTimeline[]): Stage[] {
  const seq = timelines.filter((t) => t.added !== undefined && t.bound !== undefined && t.create !== undefined).sort((a, b) => a.bound! - b.bound!);
  const service: number[] = [];
  const queued: number[] = [];
  let previous = -Infinity;
  for (const t of seq) {
    const ready = Math.max(t.added!, previous);
    service.push(t.bound! - ready);
    queued.push(Math.max(0, previous - t.added!));
    previous = t.bound!;
  }
  if (!seq.length) return [];
  return [
    { name: '  of which waiting for earlier binds (bound − max(added, previous pod bound), serial scheduler)', summary: summarize(queued) },
    { name: '  of which the bind itself (bound − max(added, previous pod bound))', summary: summarize(service) },
  ];
}
