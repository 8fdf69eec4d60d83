/**
 * imagePullPolicy on a node that reaches no registry (kubeact's network rule: loopback only).
 * Images come from `docker import` / `docker load` on the node (see .ci/docker-images.sh); the
 * engine is never asked to pull, so nothing waits on a registry and nothing leaves the machine.
 *
 * - IfNotPresent: the local image, or ErrImagePull when there is none.
 * - Always: a pull would fail, so the local image is used when present (as when the registry
 *   answers "up to date"); ErrImagePull when there is none. Never hangs.
 * - Never: the local image, or ErrImageNeverPull with the kubelet's message.
 * The pod machine turns ErrImagePull into ImagePullBackOff with back-off (actors/pod/container.ts).
 */
import type Docker from 'dockerode';
import { RuntimeError } from './types.js';

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

function engineText(err: unknown): string {
  const e = err as { json?: { message?: string }; message?: string };
  return e?.json?.message ?? e?.message ?? String(err);
}

/** Resolves when `image` is present on the engine; rejects with ErrImagePull / ErrImageNeverPull. */
export async function ensureImage(docker: Docker, image: string, policy: PullPolicy): Promise<void> {
  if (!image) throw new RuntimeError('ErrImagePull', 'no image given');
  try {
    await docker.getImage(image).inspect();
    return;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) {
      throw new RuntimeError('ErrImagePull', `failed to inspect image "${image}": ${engineText(err)}`, { cause: err });
    }
    if (policy === 'Never') {
      throw new RuntimeError('ErrImageNeverPull', `Container image "${image}" is not present with pull policy of Never`);
    }
    throw new RuntimeError(
      'ErrImagePull',
      `failed to pull image "${image}": Error response from daemon: ${engineText(err)} ` +
        `(kubeact nodes never pull from a registry: import or load the image into the node's Docker engine)`,
      { cause: err },
    );
  }
}
