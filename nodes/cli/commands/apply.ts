/** `kubeact apply -f` and `kubeact create -f` / `create namespace NAME`. */
import { parseArgs } from 'node:util';
import type { KubeObject } from '../../../protocol/objects.js';
import { describeError } from '../main.js';
import { formatApiError } from '../printers.js';
import { ApiError } from '../../../protocol/errors.js';
import { loadManifests, sourceOf } from '../manifests.js';
import { objectRef } from '../resources.js';
import { isKind } from '../../../protocol/kinds.js';
import { CliError, openSession, type Output } from '../session.js';
import { readStdin } from './stdin.js';

const flags = {
  filename: { type: 'string', short: 'f', multiple: true },
  namespace: { type: 'string', short: 'n' },
  recursive: { type: 'boolean', short: 'R' },
  server: { type: 'string', short: 's' },
} as const;

function ref(obj: KubeObject): string {
  return isKind(obj.kind) ? objectRef(obj.kind, String(obj.metadata?.name)) : `${String(obj.kind).toLowerCase()}/${obj.metadata?.name}`;
}

async function objectsFrom(values: { filename?: string[]; namespace?: string }): Promise<KubeObject[]> {
  if (!values.filename?.length) throw new CliError('must specify one of -f and -k');
  const objects = await loadManifests(values.filename, readStdin);
  if (!objects.length) throw new CliError('no objects passed to apply');
  for (const obj of objects) {
    if (values.namespace) {
      obj.metadata ??= {};
      if (obj.metadata.namespace && obj.metadata.namespace !== values.namespace) {
        throw new CliError(`the namespace from the provided object "${obj.metadata.namespace}" does not match the namespace "${values.namespace}". You must pass '--namespace=${obj.metadata.namespace}' to perform this operation.`);
      }
      obj.metadata.namespace = values.namespace;
    }
  }
  return objects;
}

export async function applyCommand(args: string[], io: Output): Promise<number> {
  const { values } = parseArgs({ args, options: flags, allowPositionals: false });
  const objects = await objectsFrom(values);
  const session = await openSession(values.server);
  let failed = 0;
  try {
    for (const obj of objects) {
      try {
        const res = await session.client.apply(obj);
        io.out(`${ref(res.object)} ${res.outcome}`);
      } catch (e) {
        failed++;
        io.err(e instanceof ApiError ? formatApiError(e, { verb: 'applying', source: sourceOf(obj) }) : describeError(e));
      }
    }
  } finally {
    await session.close();
  }
  return failed ? 1 : 0;
}

export async function createCommand(args: string[], io: Output): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: flags, allowPositionals: true });
  let objects: KubeObject[];
  if (positionals[0] === 'namespace' || positionals[0] === 'ns') {
    if (!positionals[1]) throw new CliError('NAME is required');
    objects = [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: positionals[1] } }];
  } else {
    if (positionals.length) throw new CliError(`unknown command "${positionals[0]}" for "kubeact create"`);
    objects = await objectsFrom(values);
  }
  const session = await openSession(values.server);
  let failed = 0;
  try {
    for (const obj of objects) {
      try {
        const created = await session.client.create(obj);
        io.out(`${ref(created)} created`);
      } catch (e) {
        failed++;
        io.err(e instanceof ApiError ? formatApiError(e, { verb: 'creating', source: sourceOf(obj) }) : describeError(e));
      }
    }
  } finally {
    await session.close();
  }
  return failed ? 1 : 0;
}
