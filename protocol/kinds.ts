/**
 * The kinds kubeact serves. One table drives the API server's buckets, the CLI's
 * resource names (plural, singular, short names) and the subjects of watch events.
 */
export const KINDS = {
  Namespace: { plural: 'namespaces', apiVersion: 'v1', namespaced: false, shortNames: ['ns'] },
  Node: { plural: 'nodes', apiVersion: 'v1', namespaced: false, shortNames: ['no'] },
  Pod: { plural: 'pods', apiVersion: 'v1', namespaced: true, shortNames: ['po'] },
  Event: { plural: 'events', apiVersion: 'v1', namespaced: true, shortNames: ['ev'] },
  Lease: { plural: 'leases', apiVersion: 'coordination.k8s.io/v1', namespaced: true, shortNames: [] },
  Service: { plural: 'services', apiVersion: 'v1', namespaced: true, shortNames: ['svc'] },
  Endpoints: { plural: 'endpoints', apiVersion: 'v1', namespaced: true, shortNames: ['ep'] },
  NetworkPolicy: { plural: 'networkpolicies', apiVersion: 'networking.k8s.io/v1', namespaced: true, shortNames: ['netpol'] },
  Deployment: { plural: 'deployments', apiVersion: 'apps/v1', namespaced: true, shortNames: ['deploy'] },
  ReplicaSet: { plural: 'replicasets', apiVersion: 'apps/v1', namespaced: true, shortNames: ['rs'] },
  HorizontalPodAutoscaler: { plural: 'horizontalpodautoscalers', apiVersion: 'autoscaling/v2', namespaced: true, shortNames: ['hpa'] },
  ConfigMap: { plural: 'configmaps', apiVersion: 'v1', namespaced: true, shortNames: ['cm'] },
  Secret: { plural: 'secrets', apiVersion: 'v1', namespaced: true, shortNames: [] },
  PersistentVolume: { plural: 'persistentvolumes', apiVersion: 'v1', namespaced: false, shortNames: ['pv'] },
  PersistentVolumeClaim: { plural: 'persistentvolumeclaims', apiVersion: 'v1', namespaced: true, shortNames: ['pvc'] },
  StorageClass: { plural: 'storageclasses', apiVersion: 'storage.k8s.io/v1', namespaced: false, shortNames: ['sc'] },
} as const satisfies Record<string, KindInfo>;

export interface KindInfo {
  plural: string;
  apiVersion: string;
  namespaced: boolean;
  shortNames: readonly string[];
}

export type Kind = keyof typeof KINDS;
export type Plural = (typeof KINDS)[Kind]['plural'];

export const KIND_NAMES = Object.keys(KINDS) as Kind[];

export function isKind(value: unknown): value is Kind {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(KINDS, value);
}

export function kindInfo(kind: Kind): KindInfo {
  return KINDS[kind];
}

/** Resolves what a user types (`pod`, `pods`, `po`, `Pod`) to a kind, as kubectl does. */
export function resolveKind(word: string): Kind | undefined {
  const w = word.toLowerCase();
  for (const kind of KIND_NAMES) {
    const info = KINDS[kind];
    if (kind.toLowerCase() === w || info.plural === w || (info.shortNames as readonly string[]).includes(w)) return kind;
  }
  return undefined;
}

/** `apps/v1` → group `apps`; `v1` → core group `''`. */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/**
 * The resource as kube-apiserver names it in error messages: plural, then `.group` outside the
 * core group (`pods`, `deployments.apps`, `horizontalpodautoscalers.autoscaling`).
 */
export function qualifiedResource(kind: Kind): string {
  const { plural, apiVersion } = KINDS[kind];
  const group = groupOf(apiVersion);
  return group ? `${plural}.${group}` : plural;
}
