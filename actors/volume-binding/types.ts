/** Shapes shared by the volume binder's pure parts. */
import type { KubeObject, Node, Pod } from '../../protocol/objects.js';

export type Claim = KubeObject;
export type Volume = KubeObject;
export type StorageClass = KubeObject & { provisioner?: string; reclaimPolicy?: string; volumeBindingMode?: string; parameters?: Record<string, string> };

/** Everything the binder decides from: the informers' caches. */
export interface VolumeWorld {
  claims: readonly Claim[];
  volumes: readonly Volume[];
  classes: readonly StorageClass[];
  pods: readonly Pod[];
  nodes: readonly Node[];
}

export type VolumeAction =
  /** Write pv.spec.claimRef (+ Bound), then claim.spec.volumeName (+ Bound with capacity and access modes). */
  | { type: 'bind'; claim: Claim; volume: Volume }
  | { type: 'claimPhase'; claim: Claim; phase: 'Pending' | 'Bound' | 'Lost' }
  | { type: 'volumePhase'; volume: Volume; phase: 'Available' | 'Bound' | 'Released' | 'Failed'; message?: string }
  /** A controller-made binding whose claim went to another volume: claimRef goes, the volume is Available again. */
  | { type: 'unbindVolume'; volume: Volume }
  /** WaitForFirstConsumer: the node of the claim's first scheduled pod (annotation volume.kubernetes.io/selected-node). */
  | { type: 'selectNode'; claim: Claim; node: string }
  | { type: 'provision'; claim: Claim; storageClass: StorageClass; node: string }
  /** Reclaim policy Delete of a Released volume: its data, then the object. */
  | { type: 'deleteVolume'; volume: Volume }
  | { type: 'removeFinalizer'; kind: 'PersistentVolume' | 'PersistentVolumeClaim'; object: KubeObject; finalizer: string }
  | { type: 'event'; object: KubeObject; eventType: 'Normal' | 'Warning'; reason: string; message: string };
