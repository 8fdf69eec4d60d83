/**
 * `kubeact delete`: by type and name, by `-l`, `--all`, or `-f`. Like kubectl it waits
 * until the objects are gone (pods stop gracefully first), unless `--wait=false`.
 */
import { parseArgs } from 'node:util';
import { ApiError, Reason } from '../../../protocol/errors.js';
import type { Kind } from '../../../protocol/kinds.js';
import type { KubeObject } from '../../../protocol/objects.js';
import { describeError } from '../main.js';
import { loadManifests } from '../manifests.js';
import { isNamespaced, kindLabel, parseTargets, kindOrThrow } from '../resources.js';
import { CliError, openSession, type Output, type Session } from '../session.js';
import { readStdin } from './stdin.js';

const flags = {
  filename: { type: 'string', short: 'f', multiple: true },
  namespace: { type: 'string', short: 'n' },
  selector: { type: 'string', short: 'l' },
  all: { type: 'boolean' },
  'grace-period': { type: 'string' },
  now: { type: 'boolean' },
  force: { type: 'boolean' },
  wait: { type: 'string' },
  cascade: { type: 'string' },
  timeout: { type: 'string' },
  server: { type: 'string', short: 's' },
} as const;

function isApps(kind: Kind): boolean {
  return kind === 'Deployment' || kind === 'ReplicaSet';
}

interface Victim {
  kind: Kind;
  namespace?: string;
  name: string;
}

export async function deleteCommand(args: string[], io: Output): Promise<number> {
  const normalized = args.map((a) => (a === '--wait' ? '--wait=true' : a));
  const { values, positionals } = parseArgs({ args: normalized, options: flags, allowPositionals: true });
  let grace: number | undefined;
  if (values['grace-period'] !== undefined) {
    grace = Number(values['grace-period']);
    if (!Number.isInteger(grace)) throw new CliError(`invalid argument "${values['grace-period']}" for "--grace-period" flag`);
    if (grace < 0) grace = undefined; // kubectl: negative means "use the object's default"
  }
  if (values.now) grace = 1;
  if (values.force) {
    if (grace === undefined) grace = 0;
    io.err('Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.');
  }
  const wait = values.wait === undefined ? true : values.wait !== 'false';
  const cascade = values.cascade ?? 'background';
  if (!['background', 'orphan', 'foreground', 'true', 'false'].includes(cascade)) throw new CliError(`invalid cascade value (${cascade}). Must be "background", "foreground", or "orphan"`);
  const propagationPolicy = cascade === 'orphan' || cascade === 'false' ? 'Orphan' : 'Background';
  const namespace = values.namespace ?? 'default';
  const session = await openSession(values.server);
  let failed = 0;
  try {
    const victims: Victim[] = [];
    if (values.filename?.length) {
      for (const obj of await loadManifests(values.filename, readStdin)) {
        const kind = kindOrThrow(String(obj.kind));
        victims.push({ kind, namespace: isNamespaced(kind) ? (obj.metadata?.namespace ?? namespace) : undefined, name: String(obj.metadata?.name) });
      }
    } else {
      const targets = parseTargets(positionals);
      for (const t of targets) {
        const ns = isNamespaced(t.kind) ? namespace : undefined;
        if (t.names.length) {
          for (const name of t.names) victims.push({ kind: t.kind, namespace: ns, name });
        } else if (values.selector || values.all) {
          const list = await session.client.list(t.kind, { namespace: ns, labelSelector: values.selector });
          for (const o of list.items) victims.push({ kind: t.kind, namespace: ns, name: o.metadata!.name! });
        } else {
          throw new CliError('resource(s) were provided, but no name was specified');
        }
      }
      if (!victims.length) {
        io.err(`No resources found`);
        return 0;
      }
    }
    const deleted: (Victim & { uid?: string })[] = [];
    for (const v of victims) {
      try {
        const obj = await session.client.delete<KubeObject>(v.kind, v.name, { namespace: v.namespace, gracePeriodSeconds: grace, propagationPolicy });
        io.out(`${kindLabel(v.kind)}${isApps(v.kind) ? '.apps' : ''} "${v.name}" ${values.force ? 'force deleted' : 'deleted'}`);
        deleted.push({ ...v, uid: obj.metadata?.uid });
      } catch (e) {
        failed++;
        io.err(describeError(e));
      }
    }
    if (wait) await waitGone(session, deleted, Number(values.timeout ?? 0) * 1000 || 120_000);
  } finally {
    await session.close();
  }
  return failed ? 1 : 0;
}

/** Waits (watching, not polling) until each deleted object is gone or replaced by a new uid. */
async function waitGone(session: Session, victims: (Victim & { uid?: string })[], timeoutMs: number): Promise<void> {
  const pending = new Set(victims.map((v) => `${v.kind}|${v.namespace ?? ''}|${v.name}`));
  if (!pending.size) return;
  const kinds = [...new Set(victims.map((v) => v.kind))];
  let resolveAll!: () => void;
  const done = new Promise<void>((r) => (resolveAll = r));
  const uids = new Map(victims.map((v) => [`${v.kind}|${v.namespace ?? ''}|${v.name}`, v.uid]));
  const check = (kind: Kind, obj: KubeObject | undefined, key: string) => {
    if (!obj || (uids.get(key) && obj.metadata?.uid !== uids.get(key))) pending.delete(key);
    if (!pending.size) resolveAll();
  };
  const watches = await Promise.all(
    kinds.map((kind) =>
      session.client.watch(kind, {}, (ev) => {
        const key = `${kind}|${ev.object.metadata?.namespace ?? ''}|${ev.object.metadata?.name}`;
        if (!pending.has(key)) return;
        check(kind, ev.type === 'DELETED' ? undefined : ev.object, key);
      }),
    ),
  );
  try {
    // Objects already gone before the watch started never produce an event: look once.
    for (const v of victims) {
      const key = `${v.kind}|${v.namespace ?? ''}|${v.name}`;
      try {
        check(v.kind, await session.client.get(v.kind, v.name, v.namespace), key);
      } catch (e) {
        if (e instanceof ApiError && e.reason === Reason.NotFound) check(v.kind, undefined, key);
        else throw e;
      }
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((_, reject) => {
      timer = setTimeout(() => reject(new CliError(`timed out waiting for the condition on ${[...pending].map((k) => k.split('|')[2]).join(', ')}`)), timeoutMs);
    });
    await Promise.race([done, timeout]).finally(() => clearTimeout(timer));
  } finally {
    for (const w of watches) w.stop();
  }
}
