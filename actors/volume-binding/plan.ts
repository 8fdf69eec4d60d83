/**
 * The PersistentVolume controller's decisions (kube-controller-manager's pv_controller with the
 * pvc/pv-protection controllers), as one pure function of the cluster's current state: what to
 * write so that claims and volumes converge. Level-based: the same state gives the same actions,
 * actions already done give none (phases equal to the stored ones are not written again), so a
 * lost or repeated event harms nothing.
 */
import type { Node, Pod } from '../../protocol/objects.js';
import { className, findBestMatch, isPreBoundTo, mismatch } from './match.js';
import type { Claim, StorageClass, Volume, VolumeAction, VolumeWorld } from './types.js';

export const PVC_PROTECTION = 'kubernetes.io/pvc-protection';
export const PV_PROTECTION = 'kubernetes.io/pv-protection';
export const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node';
export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
export const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
export const ANN_PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by';
/** kubeact's directory provisioner (Rancher's local-path-provisioner, in kubeact). */
export const LOCAL_PATH_PROVISIONER = 'kubeact.io/local-path';
export const NO_PROVISIONER = 'kubernetes.io/no-provisioner';

export const MESSAGES = {
  noClass: 'no persistent volumes available for this claim and no storage class is set',
  waitForConsumer: 'waiting for first consumer to be created before binding',
  claimLost: 'Bound claim has lost its PersistentVolume. Data on the volume is lost!',
  claimMisbound: 'Two claims are bound to the same volume, this one is bound incorrectly',
  boundElsewhere: (pv: string) => `volume "${pv}" already bound to a different claim.`,
  classNotFound: (sc: string) => `storageclass.storage.k8s.io "${sc}" not found`,
  externalProvisioning: (p: string) =>
    `Waiting for a volume to be created either by the external provisioner '${p}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`,
  noProvisioner: (sc: string) => `no persistent volumes available for this claim and storage class "${sc}" has no provisioner`,
  localPathNeedsNode: `${LOCAL_PATH_PROVISIONER} provisions only for volumeBindingMode WaitForFirstConsumer: no node was selected for this claim`,
  volumeMismatch: (pv: string, why: string) => `Cannot bind to requested volume "${pv}": ${why} does not match the claim`,
  recycleUnsupported: 'Recycle is not supported by kubeact: use Retain or Delete',
} as const;

const ns = (o: { metadata?: { namespace?: string } }) => o.metadata?.namespace || 'default';
const claimKey = (namespace: string | undefined, name: string | undefined) => `${namespace || 'default'}/${name ?? ''}`;
const hasFinalizer = (o: Claim | Volume, f: string) => (o.metadata?.finalizers ?? []).includes(f);
const terminal = (pod: Pod) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

/** The claims a pod mounts, by name. */
export function podClaimNames(pod: Pod): string[] {
  return (pod.spec?.volumes ?? []).flatMap((v) => (v.persistentVolumeClaim?.claimName ? [v.persistentVolumeClaim.claimName] : []));
}

/**
 * Pods that hold the claim in use: scheduled to a node and not terminated (as the pvc-protection
 * controller: a pod not yet on a node cannot start with a claim being deleted, so it does not count).
 */
export function podsUsingClaim(claim: Claim, pods: readonly Pod[]): Pod[] {
  return pods.filter((p) => ns(p) === ns(claim) && Boolean(p.spec?.nodeName) && !terminal(p) && podClaimNames(p).includes(claim.metadata?.name ?? ''));
}

/** A node as far as volume affinity needs it, when only its name is known. */
function nodeNamed(name: string, nodes: readonly Node[]): Node {
  return nodes.find((n) => n.metadata?.name === name) ?? { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } } };
}

export function planVolumes(world: VolumeWorld): VolumeAction[] {
  const actions: VolumeAction[] = [];
  const classes = new Map(world.classes.map((c) => [c.metadata?.name ?? '', c]));
  const volumes = new Map(world.volumes.map((v) => [v.metadata?.name ?? '', v]));
  const claims = new Map(world.claims.map((c) => [claimKey(c.metadata?.namespace, c.metadata?.name), c]));
  // A volume bound in this pass is not offered to another claim of the same pass.
  const taken = new Set<string>();
  for (const claim of sortByName(world.claims)) actions.push(...syncClaim(claim, world, classes, volumes, taken));
  for (const pv of sortByName(world.volumes)) actions.push(...syncVolume(pv, claims));
  return actions;
}

function sortByName<T extends Claim>(list: readonly T[]): T[] {
  return [...list].sort((a, b) => claimKey(a.metadata?.namespace, a.metadata?.name).localeCompare(claimKey(b.metadata?.namespace, b.metadata?.name)));
}

function phaseOf(claim: Claim, phase: 'Pending' | 'Bound' | 'Lost'): VolumeAction[] {
  return claim.status?.phase === phase ? [] : [{ type: 'claimPhase', claim, phase }];
}

function event(object: Claim | Volume, eventType: 'Normal' | 'Warning', reason: string, message: string): VolumeAction {
  return { type: 'event', object, eventType, reason, message };
}

function syncClaim(claim: Claim, world: VolumeWorld, classes: Map<string, StorageClass>, volumes: Map<string, Volume>, taken: Set<string>): VolumeAction[] {
  const out: VolumeAction[] = [];
  const deleting = Boolean(claim.metadata?.deletionTimestamp);
  if (deleting && hasFinalizer(claim, PVC_PROTECTION) && podsUsingClaim(claim, world.pods).length === 0) {
    out.push({ type: 'removeFinalizer', kind: 'PersistentVolumeClaim', object: claim, finalizer: PVC_PROTECTION });
  }
  const volumeName: string | undefined = claim.spec?.volumeName || undefined;
  if (!volumeName) {
    if (deleting) return out; // a claim on its way out is not bound any more
    return [...out, ...syncUnboundClaim(claim, world, classes, volumes, taken)];
  }
  const pv = volumes.get(volumeName);
  const completed = claim.metadata?.annotations?.[ANN_BIND_COMPLETED] !== undefined;
  if (!pv) {
    if (completed || claim.status?.phase === 'Bound' || claim.status?.phase === 'Lost') {
      return [...out, ...phaseOf(claim, 'Lost'), ...(claim.status?.phase === 'Lost' ? [] : [event(claim, 'Warning', 'ClaimLost', MESSAGES.claimLost)])];
    }
    return [...out, ...phaseOf(claim, 'Pending')]; // pre-bound to a volume that does not exist (yet)
  }
  const ref = pv.spec?.claimRef;
  if (!ref?.name) {
    // Pre-bound by the user to a free volume: bind when it satisfies the claim.
    if (deleting) return out;
    const why = mismatch(claim, pv);
    if (why) return [...out, ...phaseOf(claim, 'Pending'), event(claim, 'Warning', 'VolumeMismatch', MESSAGES.volumeMismatch(volumeName, why))];
    taken.add(volumeName);
    return [...out, { type: 'bind', claim, volume: pv }];
  }
  if (isPreBoundTo(pv, claim)) {
    taken.add(volumeName);
    const done = ref.uid === claim.metadata?.uid && completed && claim.status?.phase === 'Bound' && pv.status?.phase === 'Bound';
    return done || deleting ? out : [...out, { type: 'bind', claim, volume: pv }];
  }
  if (completed) return [...out, ...phaseOf(claim, 'Lost'), ...(claim.status?.phase === 'Lost' ? [] : [event(claim, 'Warning', 'ClaimMisbound', MESSAGES.claimMisbound)])];
  return [...out, ...phaseOf(claim, 'Pending'), event(claim, 'Warning', 'FailedBinding', MESSAGES.boundElsewhere(volumeName))];
}

function syncUnboundClaim(claim: Claim, world: VolumeWorld, classes: Map<string, StorageClass>, volumes: Map<string, Volume>, taken: Set<string>): VolumeAction[] {
  const out: VolumeAction[] = [...phaseOf(claim, 'Pending')];
  const scName = className(claim);
  const sc = scName ? classes.get(scName) : undefined;
  const delayed = sc?.volumeBindingMode === 'WaitForFirstConsumer';
  let selected: string | undefined = claim.metadata?.annotations?.[ANN_SELECTED_NODE];
  if (delayed && !selected) {
    // The first consumer: a pod using the claim that the scheduler placed (kubeact records its node here).
    const consumer = podsUsingClaim(claim, world.pods).sort((a, b) => String(a.metadata?.creationTimestamp).localeCompare(String(b.metadata?.creationTimestamp)))[0];
    if (!consumer) return [...out, event(claim, 'Normal', 'WaitForFirstConsumer', MESSAGES.waitForConsumer)];
    selected = consumer.spec!.nodeName!;
    out.push({ type: 'selectNode', claim, node: selected });
  }
  const node = delayed && selected ? nodeNamed(selected, world.nodes) : undefined;
  const free = [...volumes.values()].filter((v) => !taken.has(v.metadata?.name ?? ''));
  const pv = findBestMatch(claim, free, node);
  if (pv) {
    taken.add(pv.metadata!.name!);
    return [...out, { type: 'bind', claim, volume: pv }];
  }
  if (!scName) return [...out, event(claim, 'Normal', 'FailedBinding', MESSAGES.noClass)];
  if (!sc) return [...out, event(claim, 'Warning', 'ProvisioningFailed', MESSAGES.classNotFound(scName))];
  if (sc.provisioner === LOCAL_PATH_PROVISIONER) {
    if (!delayed || !selected) return [...out, event(claim, 'Warning', 'ProvisioningFailed', MESSAGES.localPathNeedsNode)];
    return [...out, { type: 'provision', claim, storageClass: sc, node: selected }];
  }
  if (sc.provisioner === NO_PROVISIONER || !sc.provisioner) return [...out, event(claim, 'Normal', 'FailedBinding', MESSAGES.noProvisioner(scName))];
  return [...out, event(claim, 'Normal', 'ExternalProvisioning', MESSAGES.externalProvisioning(sc.provisioner))];
}

function volumePhase(pv: Volume, phase: 'Available' | 'Bound' | 'Released' | 'Failed', message?: string): VolumeAction[] {
  return pv.status?.phase === phase && (message === undefined || pv.status?.message === message) ? [] : [{ type: 'volumePhase', volume: pv, phase, message }];
}

function syncVolume(pv: Volume, claims: Map<string, Claim>): VolumeAction[] {
  const out: VolumeAction[] = [];
  if (pv.metadata?.deletionTimestamp && hasFinalizer(pv, PV_PROTECTION) && pv.status?.phase !== 'Bound') {
    out.push({ type: 'removeFinalizer', kind: 'PersistentVolume', object: pv, finalizer: PV_PROTECTION });
  }
  const ref = pv.spec?.claimRef;
  if (!ref?.name || !ref.uid) return [...out, ...(pv.status?.phase === 'Failed' && ref?.name ? [] : volumePhase(pv, 'Available'))];
  const found = claims.get(claimKey(ref.namespace, ref.name));
  const claim = found && found.metadata?.uid === ref.uid ? found : undefined;
  if (!claim) {
    // The claim is gone: Released, then its reclaim policy.
    if (pv.status?.phase === 'Failed') return out;
    if (pv.status?.phase !== 'Released') return [...out, ...volumePhase(pv, 'Released')];
    const policy = pv.spec?.persistentVolumeReclaimPolicy ?? 'Retain';
    if (policy === 'Delete' && !pv.metadata?.deletionTimestamp) out.push({ type: 'deleteVolume', volume: pv });
    if (policy === 'Recycle') out.push(...volumePhase(pv, 'Failed', MESSAGES.recycleUnsupported), event(pv, 'Warning', 'VolumeFailedRecycle', MESSAGES.recycleUnsupported));
    return out;
  }
  if (claim.spec?.volumeName === pv.metadata?.name) return [...out, ...volumePhase(pv, 'Bound')];
  if (!claim.spec?.volumeName) return out; // binding in progress: the claim's sync finishes it
  // The claim went to another volume.
  if (pv.metadata?.annotations?.[ANN_BOUND_BY_CONTROLLER] !== undefined) out.push({ type: 'unbindVolume', volume: pv });
  return out;
}
