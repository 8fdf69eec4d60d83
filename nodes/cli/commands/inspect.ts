/**
 * `kubeact inspect KIND/NAME [-n NS] [--tail N] [-f]` (pod, rs, deploy, node, hpa; or `scheduler`):
 * an actor's current state and its last transitions, replayed from the inspector stream;
 * `--follow` prints new ones as they happen.
 * `kubeact inspect --web` prints the URL of the control plane's web inspector.
 */
import { parseArgs } from 'node:util';
import { resolveKind, KINDS } from '../../../protocol/kinds.js';
import { INSPECTED_KINDS, type InspectRecord, type InspectWebReply } from '../../../protocol/inspect.js';
import { decode } from '../../../protocol/codec.js';
import { subjects } from '../../../protocol/subjects.js';
import { currentState, latestIncarnation, transitions, type Transition } from '../../inspect/history.js';
import { replayRecords } from '../../inspect/store.js';
import { formatRows, humanDuration } from '../printers.js';
import { CliError, openSession, type Output } from '../session.js';

const flags = {
  namespace: { type: 'string', short: 'n' },
  tail: { type: 'string' },
  follow: { type: 'boolean', short: 'f' },
  web: { type: 'boolean' },
  server: { type: 'string', short: 's' },
} as const;

/** Actors that stand for no API object. */
const PSEUDO_KINDS: Record<string, { kind: string; name: string }> = {
  scheduler: { kind: 'Scheduler', name: 'default-scheduler' },
};

export function parseInspectTarget(positionals: string[], namespace: string | undefined): { kind: string; namespace?: string; name: string } {
  const [first, second] = positionals;
  if (!first) throw new CliError('expected KIND/NAME: kubeact inspect pod/NAME (or: pod NAME, node NAME, deploy NAME, rs NAME, hpa NAME, scheduler)');
  const pseudo = PSEUDO_KINDS[first.toLowerCase()];
  if (pseudo) return pseudo;
  const [word, nameFromSlash] = first.includes('/') ? first.split('/', 2) : [first, second];
  const kind = resolveKind(word);
  if (!kind) throw new CliError(`the server doesn't have a resource type "${word}"`);
  if (!(INSPECTED_KINDS as readonly string[]).includes(kind)) throw new CliError(`${kind} objects have no actor to inspect (${INSPECTED_KINDS.join(', ')} and the scheduler do)`);
  if (!nameFromSlash) throw new CliError(`expected a name: kubeact inspect ${word}/NAME`);
  return KINDS[kind].namespaced ? { kind, namespace: namespace ?? 'default', name: nameFromSlash } : { kind, name: nameFromSlash };
}

function clock(ts: number): string {
  return new Date(ts).toISOString().slice(11, 23);
}

function transitionRows(list: Transition[], header: boolean): string {
  const rows = list.map((t) => [clock(t.ts), t.actor, t.event, t.from, t.status && t.status !== 'active' ? `${t.to} (${t.status})` : t.to]);
  return formatRows(header ? [['TIME', 'ACTOR', 'EVENT', 'FROM', 'TO'], ...rows] : rows).replace(/\n$/, '');
}

/** What `kubeact inspect` prints for an actor's records (exported for tests). */
export function formatInspect(records: InspectRecord[], tail: number, now = Date.now()): string {
  const mine = latestIncarnation(records);
  const state = currentState(mine);
  if (!state) return 'No transitions recorded yet.';
  const all = transitions(mine);
  const shown = all.slice(-tail);
  const lines = [
    `Name:       ${state.name}`,
    ...(state.namespace !== undefined ? [`Namespace:  ${state.namespace}`] : []),
    `Kind:       ${state.kind}`,
    `Process:    ${state.process}`,
    ...(state.machine ? [`Machine:    ${state.machine}`] : []),
    `State:      ${state.state} (${state.status}, for ${humanDuration(Math.max(0, now - state.since))})`,
  ];
  const children = Object.entries(state.children);
  if (children.length) lines.push(`Children:   ${children.map(([id, s]) => `${id}=${s}`).join(', ')}`);
  lines.push(`Transitions (last ${shown.length} of ${all.length}):`, transitionRows(shown, true));
  return lines.join('\n');
}

export async function inspectCommand(args: string[], io: Output): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: flags, allowPositionals: true });
  const session = await openSession(values.server);
  try {
    if (values.web) {
      let reply: InspectWebReply;
      try {
        const m = await session.nc.request(subjects.inspectWeb(), undefined, { timeout: 5000 });
        reply = decode<InspectWebReply>(m.data);
      } catch (e) {
        throw new CliError(`the web inspector did not answer (is the control plane running with --inspector-address?): ${(e as Error).message}`);
      }
      io.out(reply.url);
      return 0;
    }
    const target = parseInspectTarget(positionals, values.namespace);
    const tail = values.tail !== undefined ? Number(values.tail) : 20;
    if (!Number.isInteger(tail) || tail < 0) throw new CliError(`invalid argument "${values.tail}" for "--tail" flag`);
    const filter = subjects.inspectRecordsOf(target.kind, target.namespace, target.name);
    const records: InspectRecord[] = [];
    await replayRecords(session.nc, (rs) => records.push(...rs), { filter });
    if (!records.length && !values.follow) {
      throw new CliError(`no inspection records for ${target.kind.toLowerCase()}/${target.name}${target.namespace ? ` in namespace ${target.namespace}` : ''}`);
    }
    io.out(records.length ? formatInspect(records, tail) : 'No transitions recorded yet.');
    if (!values.follow) return 0;
    let printed = transitions(latestIncarnation(records)).length;
    const abort = new AbortController();
    process.once('SIGINT', () => abort.abort());
    const afterHistory = records.length;
    let seen = 0;
    // The follow replays history again (a fresh consumer), then goes on live; skip what was printed.
    await replayRecords(
      session.nc,
      (rs) => {
        for (const r of rs) {
          if (seen++ < afterHistory) continue;
          records.push(r);
        }
        const list = transitions(latestIncarnation(records));
        if (list.length < printed) printed = 0; // a new incarnation (same name, new uid)
        if (list.length > printed) io.out(transitionRows(list.slice(printed), false));
        printed = list.length;
      },
      { filter, follow: true, signal: abort.signal },
    );
  } finally {
    await session.close();
  }
  return 0;
}

