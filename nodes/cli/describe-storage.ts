/**
 * `kubectl describe pv / pvc / storageclass` (kubectl 1.32's describePersistentVolume,
 * describePersistentVolumeClaim and describeStorageClass), line by line as kubectl writes them.
 * StorageClass is described from its standard shape: the CLI needs no kind table entry to print it.
 */
import type { Event, NodeSelectorRequirement, Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../protocol/objects.js';
import { describeEvents, printAnnotationsMultiline, printLabelsMultiline } from './describe.js';
import type { LevelWriter } from './describe-netpol.js';
import { compareStrings, formatAge, formatLabels } from './printers.js';

const ACCESS_MODES: Record<string, string> = { ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' };

/** storageutil.GetAccessModesAsString: the abbreviations, each once, in kubectl's order. */
export function accessModesString(modes: readonly string[] | undefined): string {
  const set = new Set(modes ?? []);
  return ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'].filter((m) => set.has(m)).map((m) => ACCESS_MODES[m]).join(',');
}

/** Go's `%v` of a []string: `[a b]`. */
const goList = (items: readonly string[] | undefined) => `[${(items ?? []).join(' ')}]`;

/** `storageClassName`, or the beta annotation older objects carry. */
const storageClassOf = (obj: KubeObject) => String(obj.spec?.storageClassName ?? obj.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? '');

function status(w: LevelWriter, obj: KubeObject, now: number): void {
  if (obj.metadata?.deletionTimestamp) w.write(0, `Status:\tTerminating (lasts ${formatAge(obj.metadata.deletionTimestamp, now)})\n`);
  else w.write(0, `Status:\t${obj.status?.phase ?? ''}\n`);
}

/** printVolumeNodeAffinity. */
function nodeAffinity(w: LevelWriter, affinity: { required?: { nodeSelectorTerms?: { matchExpressions?: NodeSelectorRequirement[] }[] } } | undefined): void {
  w.write(0, 'Node Affinity:\t');
  if (!affinity?.required) {
    w.write(0, '<none>\n');
    return;
  }
  w.write(0, '\n');
  const terms = affinity.required.nodeSelectorTerms ?? [];
  w.write(1, 'Required Terms:\t');
  if (!terms.length) {
    w.write(0, '<none>\n');
    return;
  }
  w.write(0, '\n');
  terms.forEach((term, i) => {
    w.write(2, `Term ${i}:\t`);
    const reqs = term.matchExpressions ?? [];
    if (!reqs.length) w.write(0, '<none>\n');
    reqs.forEach((req, j) => {
      if (j !== 0) w.write(2, '\t');
      const values = req.values?.length ? ` [${req.values.join(', ')}]` : '';
      w.write(0, `${req.key} ${req.operator.toLowerCase()}${values}\n`);
    });
  });
}

export function describePersistentVolume(w: LevelWriter, pv: KubeObject, events: readonly Event[], now: number): void {
  const spec = pv.spec ?? {};
  w.write(0, `Name:\t${pv.metadata?.name ?? ''}\n`);
  printLabelsMultiline(w, 'Labels', pv.metadata?.labels);
  printAnnotationsMultiline(w, 'Annotations', pv.metadata?.annotations);
  w.write(0, `Finalizers:\t${goList(pv.metadata?.finalizers)}\n`);
  w.write(0, `StorageClass:\t${storageClassOf(pv)}\n`);
  if (spec.volumeAttributesClassName) w.write(0, `VolumeAttributesClass:\t${spec.volumeAttributesClassName}\n`);
  status(w, pv, now);
  w.write(0, `Claim:\t${spec.claimRef ? `${spec.claimRef.namespace ?? ''}/${spec.claimRef.name ?? ''}` : ''}\n`);
  w.write(0, `Reclaim Policy:\t${spec.persistentVolumeReclaimPolicy ?? ''}\n`);
  w.write(0, `Access Modes:\t${accessModesString(spec.accessModes)}\n`);
  if (spec.volumeMode) w.write(0, `VolumeMode:\t${spec.volumeMode}\n`);
  w.write(0, `Capacity:\t${spec.capacity?.storage ?? '0'}\n`);
  nodeAffinity(w, spec.nodeAffinity);
  w.write(0, `Message:\t${pv.status?.message ?? ''}\n`);
  w.write(0, 'Source:\n');
  if (spec.hostPath) {
    w.write(2, `Type:\tHostPath (bare host directory volume)\n    Path:\t${spec.hostPath.path}\n    HostPathType:\t${spec.hostPath.type ?? '<none>'}\n`);
  } else if (spec.local) {
    w.write(2, `Type:\tLocalVolume (a persistent volume backed by local storage on a node)\n    Path:\t${spec.local.path}\n`);
  }
  describeEvents(w, events, now);
}

/** The pods of the claim's namespace with a volume naming the claim (kubectl's getPodsForPVC). */
export function podsUsingClaim(pods: readonly Pod[], pvc: KubeObject): Pod[] {
  return pods.filter(
    (p) => (p.metadata?.namespace ?? 'default') === (pvc.metadata?.namespace ?? 'default') && (p.spec?.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === pvc.metadata?.name),
  );
}

export function describePersistentVolumeClaim(w: LevelWriter, pvc: KubeObject, pods: readonly Pod[], events: readonly Event[], now: number): void {
  const spec = pvc.spec ?? {};
  w.write(0, `Name:\t${pvc.metadata?.name ?? ''}\n`);
  w.write(0, `Namespace:\t${pvc.metadata?.namespace ?? ''}\n`);
  w.write(0, `StorageClass:\t${storageClassOf(pvc)}\n`);
  if (spec.volumeAttributesClassName) w.write(0, `VolumeAttributesClass:\t${spec.volumeAttributesClassName}\n`);
  status(w, pvc, now);
  w.write(0, `Volume:\t${spec.volumeName ?? ''}\n`);
  printLabelsMultiline(w, 'Labels', pvc.metadata?.labels);
  printAnnotationsMultiline(w, 'Annotations', pvc.metadata?.annotations);
  w.write(0, `Finalizers:\t${goList(pvc.metadata?.finalizers)}\n`);
  // Capacity and modes are the bound volume's (status), shown only once the claim names one.
  const bound = Boolean(spec.volumeName);
  w.write(0, `Capacity:\t${bound ? (pvc.status?.capacity?.storage ?? '0') : ''}\n`);
  w.write(0, `Access Modes:\t${bound ? accessModesString(pvc.status?.accessModes) : ''}\n`);
  if (spec.volumeMode) w.write(0, `VolumeMode:\t${spec.volumeMode}\n`);
  const users = [...pods].sort((a, b) => compareStrings(a.metadata?.name ?? '', b.metadata?.name ?? ''));
  w.write(0, 'Used By:\t');
  if (!users.length) w.write(0, '<none>\n');
  users.forEach((p, i) => w.write(0, `${i ? '\t' : ''}${p.metadata?.name ?? ''}\n`));
  describeEvents(w, events, now);
}

/** storageutil.IsDefaultAnnotationText. */
function isDefaultClass(sc: KubeObject): string {
  const a = sc.metadata?.annotations ?? {};
  return a['storageclass.kubernetes.io/is-default-class'] === 'true' || a['storageclass.beta.kubernetes.io/is-default-class'] === 'true' ? 'Yes' : 'No';
}

export function describeStorageClass(w: LevelWriter, sc: KubeObject, events: readonly Event[], now: number): void {
  const o = sc as KubeObject & { provisioner?: string; parameters?: Record<string, string>; allowVolumeExpansion?: boolean; mountOptions?: string[]; reclaimPolicy?: string; volumeBindingMode?: string };
  w.write(0, `Name:\t${sc.metadata?.name ?? ''}\n`);
  w.write(0, `IsDefaultClass:\t${isDefaultClass(sc)}\n`);
  w.write(0, `Annotations:\t${formatLabels(sc.metadata?.annotations)}\n`);
  w.write(0, `Provisioner:\t${o.provisioner ?? ''}\n`);
  w.write(0, `Parameters:\t${formatLabels(o.parameters)}\n`);
  w.write(0, `AllowVolumeExpansion:\t${o.allowVolumeExpansion === undefined ? '<unset>' : o.allowVolumeExpansion ? 'True' : 'False'}\n`);
  if (!o.mountOptions?.length) w.write(0, 'MountOptions:\t<none>\n');
  else {
    w.write(0, 'MountOptions:\n');
    for (const m of o.mountOptions) w.write(1, `${m}\n`);
  }
  if (o.reclaimPolicy) w.write(0, `ReclaimPolicy:\t${o.reclaimPolicy}\n`);
  if (o.volumeBindingMode) w.write(0, `VolumeBindingMode:\t${o.volumeBindingMode}\n`);
  describeEvents(w, events, now);
}
