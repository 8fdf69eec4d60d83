/**
 * The ConfigMaps and Secrets a pod refers to (env `valueFrom`, `envFrom`, configMap/secret
 * volumes), read by the kubelet when it starts a container, and the environment built from
 * them. A missing object or key that is not `optional` is the kubelet's
 * CreateContainerConfigError: the container waits and is tried again.
 */
import type { Container, Pod } from '../../protocol/objects.js';
import type { ApiClient } from '../../protocol/client.js';
import type { KubeObject } from '../../protocol/objects.js';
import { isEnvVarName } from '../../protocol/validation/index.js';
import { RuntimeError } from './runtime/types.js';

export interface ConfigObject extends KubeObject {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}

/** The objects one pod refers to, by name; undefined when it does not exist. */
export interface ConfigSources {
  configMaps: Map<string, ConfigObject | undefined>;
  secrets: Map<string, ConfigObject | undefined>;
}

export const emptySources = (): ConfigSources => ({ configMaps: new Map(), secrets: new Map() });

/** Names of the ConfigMaps and Secrets the pod refers to anywhere. */
export function referencedSources(pod: Pod): { configMaps: Set<string>; secrets: Set<string> } {
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  for (const c of containers) {
    for (const e of c.env ?? []) {
      if (e.valueFrom?.configMapKeyRef?.name) configMaps.add(e.valueFrom.configMapKeyRef.name);
      if (e.valueFrom?.secretKeyRef?.name) secrets.add(e.valueFrom.secretKeyRef.name);
    }
    for (const f of c.envFrom ?? []) {
      if (f.configMapRef?.name) configMaps.add(f.configMapRef.name);
      if (f.secretRef?.name) secrets.add(f.secretRef.name);
    }
  }
  for (const v of pod.spec?.volumes ?? []) {
    if (v.configMap?.name) configMaps.add(v.configMap.name);
    if (v.secret?.secretName) secrets.add(v.secret.secretName);
  }
  return { configMaps, secrets };
}

/** Reads every referenced object from the API server (a missing one is recorded as undefined). */
export async function fetchSources(client: ApiClient, pod: Pod): Promise<ConfigSources> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const refs = referencedSources(pod);
  const out = emptySources();
  const reads: Promise<void>[] = [];
  for (const name of refs.configMaps) reads.push(client.find<ConfigObject>('ConfigMap', name, namespace).then((o) => void out.configMaps.set(name, o)));
  for (const name of refs.secrets) reads.push(client.find<ConfigObject>('Secret', name, namespace).then((o) => void out.secrets.set(name, o)));
  await Promise.all(reads);
  return out;
}

/** The decoded content of a ConfigMap (data + binaryData) or Secret (data, base64) as bytes per key. */
export function sourceBytes(kind: 'ConfigMap' | 'Secret', obj: ConfigObject): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (kind === 'ConfigMap') {
    for (const [k, v] of Object.entries(obj.data ?? {})) out.set(k, Buffer.from(v, 'utf8'));
    for (const [k, v] of Object.entries(obj.binaryData ?? {})) out.set(k, Buffer.from(v, 'base64'));
  } else {
    for (const [k, v] of Object.entries(obj.data ?? {})) out.set(k, Buffer.from(v, 'base64'));
  }
  return out;
}

const configError = (message: string) => new RuntimeError('CreateContainerConfigError', message);

function lookup(sources: ConfigSources, kind: 'ConfigMap' | 'Secret', name: string): ConfigObject | undefined {
  return (kind === 'ConfigMap' ? sources.configMaps : sources.secrets).get(name);
}

/** One key of a ConfigMap or Secret for `valueFrom`; undefined when optional and missing. */
function keyValue(sources: ConfigSources, kind: 'ConfigMap' | 'Secret', ref: { name?: string; key: string; optional?: boolean }, namespace: string): string | undefined {
  const name = ref.name ?? '';
  const obj = lookup(sources, kind, name);
  if (!obj) {
    if (ref.optional) return undefined;
    throw configError(`${kind.toLowerCase()} "${name}" not found`);
  }
  const value = sourceBytes(kind, obj).get(ref.key);
  if (value === undefined) {
    if (ref.optional) return undefined;
    throw configError(`couldn't find key ${ref.key} in ${kind} ${namespace}/${name}`);
  }
  return value.toString('utf8');
}

/**
 * The variables `envFrom` and env `configMapKeyRef`/`secretKeyRef` give a container: envFrom
 * first (in order, `prefix` prepended, keys that are no valid variable names skipped, as the
 * kubelet does), then the env entries with a key ref. Other env entries are not here.
 */
export function envFromSources(container: Container, sources: ConfigSources, namespace: string): { envFrom: Record<string, string>; keyRefs: Map<string, string | undefined> } {
  const envFrom: Record<string, string> = {};
  for (const f of container.envFrom ?? []) {
    const kind = f.configMapRef ? 'ConfigMap' : 'Secret';
    const ref = f.configMapRef ?? f.secretRef;
    if (!ref) continue;
    const obj = lookup(sources, kind, ref.name ?? '');
    if (!obj) {
      if (ref.optional) continue;
      throw configError(`${kind.toLowerCase()} "${ref.name}" not found`);
    }
    for (const [k, v] of sourceBytes(kind, obj)) {
      const name = `${f.prefix ?? ''}${k}`;
      if (isEnvVarName(name).length === 0) envFrom[name] = v.toString('utf8');
    }
  }
  const keyRefs = new Map<string, string | undefined>();
  for (const e of container.env ?? []) {
    if (e.valueFrom?.configMapKeyRef) keyRefs.set(e.name, keyValue(sources, 'ConfigMap', e.valueFrom.configMapKeyRef, namespace));
    else if (e.valueFrom?.secretKeyRef) keyRefs.set(e.name, keyValue(sources, 'Secret', e.valueFrom.secretKeyRef, namespace));
  }
  return { envFrom, keyRefs };
}
