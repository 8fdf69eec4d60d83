/**
 * `kubeact events [-n NS | -A] [--for KIND/NAME] [--types Warning,Normal] [-w]`, as
 * `kubectl events`: Events sorted by when they were last seen. kubeact's Events do not expire
 * (Kubernetes drops them after an hour), so this is the whole history of the cluster.
 */
import { parseArgs } from 'node:util';
import type { Event } from 'kubernetes-types/core/v1.js';
import { resolveKind } from '../../../protocol/kinds.js';
import type { KubeObject } from '../../../protocol/objects.js';
import { parseTime, printTable } from '../printers.js';
import { CliError, openSession, type Output } from '../session.js';

const flags = {
  namespace: { type: 'string', short: 'n' },
  'all-namespaces': { type: 'boolean', short: 'A' },
  for: { type: 'string' },
  types: { type: 'string' },
  watch: { type: 'boolean', short: 'w' },
  'no-headers': { type: 'boolean' },
  server: { type: 'string', short: 's' },
} as const;

function lastSeen(e: KubeObject): number {
  const ev = e as unknown as Event;
  return parseTime(ev.series?.lastObservedTime) ?? parseTime(ev.lastTimestamp) ?? parseTime(ev.eventTime) ?? parseTime(ev.firstTimestamp) ?? 0;
}

/** When the Event was recorded, as MicroTime text (same layout for all: orders Events of one second). */
function recorded(e: KubeObject): string {
  return String((e as unknown as Event).eventTime ?? '');
}

export async function eventsCommand(args: string[], io: Output): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: flags, allowPositionals: true });
  if (positionals.length) throw new CliError(`unknown argument "${positionals[0]}": use --for KIND/NAME`);
  const all = Boolean(values['all-namespaces']);
  const namespace = all ? undefined : (values.namespace ?? 'default');
  let involved: { kind: string; name: string } | undefined;
  if (values.for) {
    const [word, name] = values.for.split('/', 2);
    const kind = resolveKind(word);
    if (!kind || !name) throw new CliError(`--for must be KIND/NAME (e.g. pod/web-1), got "${values.for}"`);
    involved = { kind, name };
  }
  const types = values.types ? values.types.split(',').map((t) => t.trim()) : undefined;
  for (const t of types ?? []) if (t !== 'Normal' && t !== 'Warning') throw new CliError(`valid --types are Normal or Warning, got "${t}"`);
  const keep = (e: KubeObject) => {
    const ev = e as unknown as Event;
    if (involved && (ev.involvedObject?.kind !== involved.kind || ev.involvedObject?.name !== involved.name)) return false;
    return !types || types.includes(ev.type ?? '');
  };
  const session = await openSession(values.server);
  try {
    const list = await session.client.list<KubeObject>('Event', { namespace });
    const items = list.items.filter(keep).sort((a, b) => lastSeen(a) - lastSeen(b) || recorded(a).localeCompare(recorded(b)));
    const table = printTable('Event', items, { now: Date.now(), allNamespaces: all, noHeaders: values['no-headers'] });
    if (table) io.out(table.replace(/\n$/, ''));
    else if (!values.watch) io.out(all ? 'No events found.' : `No events found in ${namespace} namespace.`);
    if (!values.watch) return 0;
    const abort = new AbortController();
    process.once('SIGINT', () => abort.abort());
    const watch = await session.client.watch<KubeObject>('Event', { namespace }, (ev) => {
      if (ev.type === 'DELETED' || !keep(ev.object)) return;
      io.out(printTable('Event', [ev.object], { now: Date.now(), allNamespaces: all, noHeaders: true }).replace(/\n$/, ''));
    });
    await new Promise<void>((resolve) => abort.signal.addEventListener('abort', () => resolve(), { once: true }));
    watch.stop();
  } finally {
    await session.close();
  }
  return 0;
}
