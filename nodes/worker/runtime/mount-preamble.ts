/**
 * How the process runtime gives a container its volumes: the container runs in a private mount
 * namespace (`unshare --mount --propagation private`, root only), where a small sh preamble
 * bind-mounts each volume's host directory (or file) on its `containerPath` — read-only when
 * asked — and then exec()s the command. Host processes and other containers see nothing of it.
 * A `containerPath` that does not exist on the host is created there first (an empty directory
 * or file, left behind as a mount point), since a bind mount needs a target.
 */
import type { Mount } from './types.js';

export const UNSHARE = '/usr/bin/unshare';

/** The mount the pod-dns module hands to runtimes that replace /etc/resolv.conf; the process runtime passes the path in env instead. */
export const DNS_MOUNT_NAME = 'kube-dns-resolv-conf';

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Mounts the process runtime applies, parents before children (so `/a` does not hide `/a/b`). */
export function volumeMounts(mounts: Mount[] | undefined): Mount[] {
  return (mounts ?? []).filter((m) => m.name !== DNS_MOUNT_NAME).sort((a, b) => depth(a.containerPath) - depth(b.containerPath));
}

const depth = (p: string) => p.split('/').filter(Boolean).length;

/**
 * argv that runs `argv` with `mounts` in place: `unshare … sh -c PREAMBLE sh ARGV…`. `cwd` is
 * entered after the mounts (it may be inside one).
 */
export function mountedArgv(mounts: Mount[], argv: string[], cwd: string): string[] {
  const lines = [
    'set -e',
    // m SRC DST MODE: a directory or file target like the source, bind-mounted, then remounted read-only.
    'm() { if [ -d "$1" ]; then mkdir -p "$2"; elif [ ! -e "$2" ]; then mkdir -p "${2%/*}"; : > "$2"; fi; mount --bind "$1" "$2"; if [ "$3" = ro ]; then mount -o remount,bind,ro "$2"; fi; }',
    ...mounts.map((m) => `m ${quote(m.hostPath)} ${quote(m.containerPath)} ${m.readOnly ? 'ro' : 'rw'}`),
    `cd ${quote(cwd)}`,
    'exec "$@"',
  ];
  return [UNSHARE, '--mount', '--propagation', 'private', '--', '/bin/sh', '-c', lines.join('\n'), 'sh', ...argv];
}
