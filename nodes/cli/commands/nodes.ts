/**
 * `kubeact cordon|uncordon|drain NODE`: unschedulable on/off; drain cordons, then evicts
 * every pod on the node (graceful deletes) and waits until they are gone. Pods no
 * controller would replace are refused unless `--force`, as kubectl does.
 */
import { parseArgs } from 'node:util';
import type { ApiClient } from '../../../protocol/client.js';
import { ApiError } from '../../../protocol/errors.js';
import type { KubeObject } from '../../../protocol/objects.js';
import { CliError, openSession, type Output } from '../session.js';

async function setUnschedulable(client: ApiClient, name: string, value: boolean, io: Output): Promise<void> {
  let unchanged = false;
  const updated = await client.modify<KubeObject>('Node', name, undefined, (n) => {
    if (Boolean(n.spec?.unschedulable) === value) {
      unchanged = true;
      return false;
    }
    n.spec = { ...(n.spec ?? {}) };
    if (value) n.spec.unschedulable = true;
    else delete n.spec.unschedulable;
  });
  if (!updated) throw ApiError.notFound('Node', name);
  io.out(`node/${name} ${unchanged ? 'already ' : ''}${value ? 'cordoned' : 'uncordoned'}`);
}

export async function cordonCommand(args: string[], io: Output): Promise<number> {
  return toggle(args, io, true);
}

export async function uncordonCommand(args: string[], io: Output): Promise<number> {
  return toggle(args, io, false);
}

async function toggle(args: string[], io: Output, value: boolean): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { server: { type: 'string', short: 's' } }, allowPositionals: true });
  if (!positionals.length) throw new CliError('NODE is required');
  const session = await openSession(values.server);
  try {
    for (const name of positionals) await setUnschedulable(session.client, name.replace(/^nodes?\//, ''), value, io);
  } finally {
    await session.close();
  }
  return 0;
}

export async function drainCommand(args: string[], io: Output): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      force: { type: 'boolean' },
      'ignore-daemonsets': { type: 'boolean' },
      'delete-emptydir-data': { type: 'boolean' },
      'grace-period': { type: 'string' },
      timeout: { type: 'string' },
      server: { type: 'string', short: 's' },
    },
    allowPositionals: true,
  });
  const name = positionals[0]?.replace(/^nodes?\//, '');
  if (!name) throw new CliError('NODE is required');
  const grace = values['grace-period'] !== undefined && Number(values['grace-period']) >= 0 ? Number(values['grace-period']) : undefined;
  const timeoutMs = values.timeout ? parseFloat(values.timeout) * (values.timeout.endsWith('m') ? 60_000 : 1000) : 120_000;
  const session = await openSession(values.server);
  try {
    const { client } = session;
    await setUnschedulable(client, name, true, io);
    const pods = (await client.list('Pod', { fieldSelector: `spec.nodeName=${name}` })).items.filter((p) => !['Succeeded', 'Failed'].includes(p.status?.phase));
    const unmanaged = pods.filter((p) => !(p.metadata?.ownerReferences ?? []).some((r) => r.controller));
    if (unmanaged.length && !values.force) {
      throw new CliError(
        `unable to drain node "${name}" due to error: cannot delete Pods declare no controller (use --force to override): ${unmanaged.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`).join(', ')}`,
      );
    }
    if (unmanaged.length) io.err(`Warning: deleting Pods that declare no controller: ${unmanaged.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`).join(', ')}`);
    for (const p of pods) {
      io.out(`evicting pod ${p.metadata?.namespace}/${p.metadata?.name}`);
      await client.delete('Pod', p.metadata!.name!, { namespace: p.metadata?.namespace, gracePeriodSeconds: grace, preconditions: { uid: p.metadata?.uid } }).catch(() => {});
    }
    await Promise.all(
      pods.map(async (p) => {
        await client.waitFor('Pod', p.metadata!.name!, p.metadata?.namespace, (o) => !o || o.metadata?.uid !== p.metadata?.uid, timeoutMs);
        io.out(`pod/${p.metadata?.name} evicted`);
      }),
    );
    io.out(`node/${name} drained`);
  } finally {
    await session.close();
  }
  return 0;
}
