/**
 * kube-scheduler's VolumeBinding plugin, the parts kubeact needs (pure): a pod's claims must
 * exist and not be being deleted, and an unbound claim of a class that binds at once
 * (`Immediate`) must be bound first — reasons for every node (PreFilter). Per node (Filter):
 * a bound claim's volume must admit the node (its nodeAffinity); an unbound WaitForFirstConsumer
 * claim needs a matching free volume on the node unless kubeact's local-path provisioner makes
 * one there.
 */
import { findBestMatch, volumeAdmitsNode } from '../volume-binding/match.js';
import { LOCAL_PATH_PROVISIONER, podClaimNames } from '../volume-binding/plan.js';
import type { KubeObject, Node, Pod } from '../../protocol/objects.js';

export const VOLUME_REASON = {
  nodeConflict: 'node(s) had volume node affinity conflict',
  noVolume: "node(s) didn't find available persistent volumes to bind",
  volumeMissing: 'node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)',
  unboundImmediate: 'pod has unbound immediate PersistentVolumeClaims',
} as const;

/** The claims, volumes and classes the scheduler knows: claims by `namespace/name`, the others by name. */
export interface VolumeSnapshot {
  claims: Record<string, KubeObject>;
  volumes: Record<string, KubeObject>;
  classes: Record<string, KubeObject>;
}

export const emptyVolumes = (): VolumeSnapshot => ({ claims: {}, volumes: {}, classes: {} });

function claimsOf(pod: Pod, snap: VolumeSnapshot): { name: string; claim?: KubeObject }[] {
  const ns = pod.metadata?.namespace || 'default';
  return podClaimNames(pod).map((name) => ({ name, claim: snap.claims[`${ns}/${name}`] }));
}

const classOf = (claim: KubeObject, snap: VolumeSnapshot) => snap.classes[String(claim.spec?.storageClassName ?? '')] as (KubeObject & { provisioner?: string; volumeBindingMode?: string }) | undefined;

/** A reason no node can take the pod now (undefined: look at each node). */
export function volumePreFilter(pod: Pod, snap: VolumeSnapshot): string | undefined {
  for (const { name, claim } of claimsOf(pod, snap)) {
    if (!claim) return `persistentvolumeclaim "${name}" not found`;
    if (claim.metadata?.deletionTimestamp) return `persistentvolumeclaim "${name}" is being deleted`;
  }
  for (const { claim } of claimsOf(pod, snap)) {
    if (!claim!.spec?.volumeName && classOf(claim!, snap)?.volumeBindingMode !== 'WaitForFirstConsumer') return VOLUME_REASON.unboundImmediate;
  }
  return undefined;
}

/** Why `node` cannot take the pod's volumes (undefined when it can). */
export function volumeFilter(pod: Pod, node: Node, snap: VolumeSnapshot): string | undefined {
  for (const { claim } of claimsOf(pod, snap)) {
    if (!claim) continue;
    const volumeName: string | undefined = claim.spec?.volumeName;
    if (volumeName) {
      const pv = snap.volumes[volumeName];
      if (!pv) return VOLUME_REASON.volumeMissing;
      if (!volumeAdmitsNode(pv, node)) return VOLUME_REASON.nodeConflict;
      continue;
    }
    if (classOf(claim, snap)?.provisioner === LOCAL_PATH_PROVISIONER) continue;
    if (!findBestMatch(claim, Object.values(snap.volumes), node)) return VOLUME_REASON.noVolume;
  }
  return undefined;
}

export function podHasClaims(pod: Pod): boolean {
  return podClaimNames(pod).length > 0;
}
