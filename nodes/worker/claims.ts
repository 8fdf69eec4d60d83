/**
 * A pod's persistentVolumeClaim volume → the host directory of the PersistentVolume the claim
 * names in `spec.volumeName` (`hostPath.path` or `local.path`). A missing or unbound claim, or a
 * missing volume, keeps the container waiting (CreateContainerConfigError) until it is there.
 */
import type { ApiClient } from '../../protocol/client.js';
import type { KubeObject, Pod } from '../../protocol/objects.js';
import { RuntimeError } from './runtime/types.js';

const waiting = (message: string) => new RuntimeError('CreateContainerConfigError', message);

export async function resolveClaimPath(client: ApiClient, pod: Pod, claimName: string): Promise<string> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const claim = await client.find<KubeObject>('PersistentVolumeClaim', claimName, namespace);
  if (!claim) throw waiting(`persistentvolumeclaim "${claimName}" not found`);
  if (claim.metadata?.deletionTimestamp) throw waiting(`persistentvolumeclaim "${claimName}" is being deleted`);
  const volumeName: string | undefined = claim.spec?.volumeName;
  if (!volumeName) throw waiting(`persistentvolumeclaim "${claimName}" is not bound`);
  const pv = await client.find<KubeObject>('PersistentVolume', volumeName);
  if (!pv) throw waiting(`persistentvolume "${volumeName}" not found (claimed by persistentvolumeclaim "${claimName}")`);
  const dir: string | undefined = pv.spec?.hostPath?.path ?? pv.spec?.local?.path;
  if (!dir) throw waiting(`persistentvolume "${volumeName}" has no hostPath or local path`);
  return dir;
}
