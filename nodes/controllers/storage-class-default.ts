/**
 * The default StorageClass kubeact ships, as lightweight Kubernetes distributions ship Rancher's
 * `local-path`: directories on the node of the claim's first pod, bound when that pod is
 * scheduled, removed with the claim. Created at start when missing; an existing one (edited or
 * no longer default) is left as the administrator keeps it.
 */
import { LOCAL_PATH_PROVISIONER } from '../../actors/volume-binding/index.js';
import type { ApiClient } from '../../protocol/client.js';
import { ApiError, Reason } from '../../protocol/errors.js';
import type { KubeObject } from '../../protocol/objects.js';
import type { Logger } from '../shared/logger.js';
import { DEFAULT_CLASS_ANNOTATION } from '../apiserver/storage-admission.js';

export const LOCAL_PATH_CLASS = 'local-path';

export function localPathClass(): KubeObject {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: LOCAL_PATH_CLASS, annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' } },
    provisioner: LOCAL_PATH_PROVISIONER,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
    allowVolumeExpansion: false,
  } as KubeObject;
}

export async function ensureDefaultStorageClass(client: ApiClient, log: Logger): Promise<void> {
  try {
    await client.create(localPathClass());
    log.info({ storageClass: LOCAL_PATH_CLASS }, 'created the default StorageClass');
  } catch (e) {
    if (!(e instanceof ApiError && e.reason === Reason.AlreadyExists)) log.warn({ err: (e as Error).message }, 'could not create the default StorageClass');
  }
}
