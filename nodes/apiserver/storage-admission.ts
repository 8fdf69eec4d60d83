/**
 * Admission of new PersistentVolumes and claims, as kube-apiserver's plugins do it:
 *  - StorageObjectInUseProtection: `kubernetes.io/pvc-protection` / `kubernetes.io/pv-protection`
 *    finalizers, so an object in use is only marked when deleted (the controller-manager removes
 *    the finalizer once nothing uses it);
 *  - DefaultStorageClass: a claim without `spec.storageClassName` gets the default class (the
 *    newest one annotated `storageclass.kubernetes.io/is-default-class: "true"`); an explicit `""`
 *    stays "no class".
 */
import type { Kind } from '../../protocol/kinds.js';
import type { KubeObject } from '../../protocol/objects.js';

export const PVC_PROTECTION_FINALIZER = 'kubernetes.io/pvc-protection';
export const PV_PROTECTION_FINALIZER = 'kubernetes.io/pv-protection';
export const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';

export function isDefaultClass(sc: KubeObject): boolean {
  return sc.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true';
}

/** The default StorageClass: of several, the newest (then the first by name), as Kubernetes 1.28+. */
export function defaultClass(classes: Iterable<KubeObject>): KubeObject | undefined {
  let best: KubeObject | undefined;
  for (const sc of classes) {
    if (!isDefaultClass(sc)) continue;
    const newer = !best || String(sc.metadata?.creationTimestamp ?? '') > String(best.metadata?.creationTimestamp ?? '');
    const tie = best && sc.metadata?.creationTimestamp === best.metadata?.creationTimestamp && String(sc.metadata?.name) < String(best.metadata?.name);
    if (newer || tie) best = sc;
  }
  return best;
}

/** Mutates a new, valid-shaped PV or PVC (others untouched). */
export function admitStorage(kind: Kind, obj: KubeObject, classes: Iterable<KubeObject>): void {
  if (kind !== 'PersistentVolume' && kind !== 'PersistentVolumeClaim') return;
  const meta = obj.metadata!;
  const finalizer = kind === 'PersistentVolume' ? PV_PROTECTION_FINALIZER : PVC_PROTECTION_FINALIZER;
  const finalizers = Array.isArray(meta.finalizers) ? meta.finalizers : [];
  if (!finalizers.includes(finalizer)) meta.finalizers = [...finalizers, finalizer];
  const spec = obj.spec;
  if (kind === 'PersistentVolumeClaim' && spec && typeof spec === 'object' && (spec.storageClassName === undefined || spec.storageClassName === null)) {
    const sc = defaultClass(classes);
    if (sc) spec.storageClassName = sc.metadata!.name;
  }
}
