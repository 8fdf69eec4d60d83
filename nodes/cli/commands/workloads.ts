/**
 * `kubeact scale`, `kubeact set image`: changes to a workload's spec, written with
 * compare-and-set (re-read and retried on Conflict), printed as kubectl prints them.
 */
import { parseArgs } from 'node:util';
import { ApiError } from '../../../protocol/errors.js';
import type { KubeObject } from '../../../protocol/objects.js';
import { objectRef, parseOneTarget } from '../resources.js';
import { CliError, openSession, type Output } from '../session.js';

export async function scaleCommand(args: string[], io: Output): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { replicas: { type: 'string' }, namespace: { type: 'string', short: 'n' }, 'current-replicas': { type: 'string' }, server: { type: 'string', short: 's' } },
    allowPositionals: true,
  });
  const { kind, name } = parseOneTarget(positionals);
  if (kind !== 'Deployment' && kind !== 'ReplicaSet') throw new CliError(`cannot scale ${kind.toLowerCase()}s: only deployments and replicasets have replicas`);
  const replicas = Number(values.replicas);
  if (values.replicas === undefined || !Number.isInteger(replicas) || replicas < 0) throw new CliError('The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0');
  const session = await openSession(values.server);
  try {
    const updated = await session.client.modify<KubeObject>(kind, name, values.namespace ?? 'default', (obj) => {
      if (values['current-replicas'] !== undefined && String(obj.spec?.replicas) !== values['current-replicas']) {
        throw new CliError(`Expected replicas to be ${values['current-replicas']}, was ${obj.spec?.replicas}`);
      }
      obj.spec.replicas = replicas;
    });
    if (!updated) throw ApiError.notFound(kind, name);
    io.out(`${objectRef(kind, name)} scaled`);
  } finally {
    await session.close();
  }
  return 0;
}

export async function setCommand(args: string[], io: Output): Promise<number> {
  const [what, ...rest] = args;
  if (what !== 'image') throw new CliError(`unknown command "${what ?? ''}" for "kubeact set": only "set image" is supported`);
  const { values, positionals } = parseArgs({ args: rest, options: { namespace: { type: 'string', short: 'n' }, server: { type: 'string', short: 's' } }, allowPositionals: true });
  const { kind, name, rest: pairs } = parseOneTarget(positionals);
  if (!pairs.length) throw new CliError('at least one image update is required: CONTAINER=IMAGE');
  const images = new Map<string, string>();
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new CliError(`invalid image update "${p}": expected CONTAINER=IMAGE`);
    images.set(p.slice(0, eq), p.slice(eq + 1));
  }
  const session = await openSession(values.server);
  try {
    const updated = await session.client.modify<KubeObject>(kind, name, values.namespace ?? 'default', (obj) => {
      const spec = kind === 'Pod' ? obj.spec : obj.spec?.template?.spec;
      const containers: { name: string; image?: string }[] = [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])];
      for (const [container, image] of images) {
        const targets = container === '*' ? containers : containers.filter((c) => c.name === container);
        if (!targets.length) throw new CliError(`unable to find container named "${container}"`);
        for (const c of targets) c.image = image;
      }
    });
    if (!updated) throw ApiError.notFound(kind, name);
    io.out(`${objectRef(kind, name)} image updated`);
  } finally {
    await session.close();
  }
  return 0;
}
