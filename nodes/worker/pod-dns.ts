/**
 * The kubelet's per-pod DNS files: `<dir>/<podUid>/resolv.conf` written before the pod's first
 * container starts, handed to the containers as a mount on `/etc/resolv.conf` (runtimes that can
 * bind-mount, e.g. docker) and as `KUBEACT_RESOLV_CONF=<path>` in their environment (the process
 * runtime cannot replace a host process's /etc/resolv.conf: programs that want cluster names
 * read that file), and removed with the pod.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Pod } from '../../protocol/objects.js';
import { formatResolvConf, podResolvConf, type DnsSettings } from './resolv-conf.js';
import type { Mount } from './runtime/types.js';

export const RESOLV_CONF_ENV = 'KUBEACT_RESOLV_CONF';

export interface PodDnsFiles {
  env: Record<string, string>;
  mounts: Mount[];
}

export class PodDns {
  constructor(
    private readonly dir: string,
    private readonly settings: DnsSettings,
  ) {}

  pathOf(podUid: string): string {
    return path.join(this.dir, podUid, 'resolv.conf');
  }

  /** Writes the pod's resolv.conf (again: it is cheap and keeps it right after a kubelet restart). */
  async prepare(pod: Pod): Promise<PodDnsFiles> {
    const file = this.pathOf(pod.metadata!.uid!);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, formatResolvConf(podResolvConf(pod, this.settings)));
    return {
      env: { [RESOLV_CONF_ENV]: file },
      mounts: [{ name: 'kube-dns-resolv-conf', hostPath: file, containerPath: '/etc/resolv.conf', readOnly: true }],
    };
  }

  async remove(podUid: string): Promise<void> {
    await rm(path.join(this.dir, podUid), { recursive: true, force: true });
  }
}
