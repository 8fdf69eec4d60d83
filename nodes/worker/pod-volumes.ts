/**
 * The kubelet's volumes of one pod, under `<dir>/<podUid>/volumes/<plugin>/<name>` as the kubelet
 * lays them out (`kubernetes.io~empty-dir`, `kubernetes.io~configmap`, `kubernetes.io~secret`):
 * - emptyDir: a directory made with the pod and removed with it (`medium: Memory` is a directory too);
 * - hostPath: the host path itself, after the `type` check (…OrCreate types create it);
 * - configMap / secret: the keys (or `items`) written as files, atomically as the kubelet's
 *   AtomicWriter does: a `..<timestamp>` directory, the `..data` symlink swapped to it by a rename,
 *   and one symlink per top-level name into `..data`; rewritten when the object changes;
 * - persistentVolumeClaim: the bound PersistentVolume's directory (`hostPath` or `local.path`).
 * A problem (missing object, failed type check, unbound claim) is a CreateContainerConfigError:
 * the container waits and the kubelet tries again.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Container, Pod } from '../../protocol/objects.js';
import { sourceBytes, type ConfigObject, type ConfigSources } from './config-sources.js';
import { RuntimeError, type Mount } from './runtime/types.js';

type Volume = NonNullable<NonNullable<Pod['spec']>['volumes']>[number];

/** Host path of each volume of the pod, by volume name. */
export type VolumePaths = Map<string, string>;

/** The PersistentVolume directory of a claim, resolved by the caller (the kubelet asks the API server). */
export type ClaimResolver = (claimName: string) => Promise<string>;

const fail = (volume: string, why: string) => new RuntimeError('CreateContainerConfigError', `MountVolume.SetUp failed for volume "${volume}" : ${why}`);

export class PodVolumes {
  private readonly root: string;
  /** What was last written per configMap/secret volume (to rewrite only on change). */
  private readonly written = new Map<string, string>();

  constructor(
    dir: string,
    private readonly pod: Pod,
  ) {
    this.root = path.join(dir, pod.metadata!.uid!, 'volumes');
  }

  pluginDir(plugin: string, name: string): string {
    return path.join(this.root, `kubernetes.io~${plugin}`, name);
  }

  /** Makes every volume ready (idempotent); returns each one's host path. */
  async setUp(sources: ConfigSources, resolveClaim: ClaimResolver): Promise<VolumePaths> {
    const paths: VolumePaths = new Map();
    for (const v of this.pod.spec?.volumes ?? []) paths.set(v.name, await this.setUpOne(v, sources, resolveClaim));
    return paths;
  }

  /** Rewrites the configMap/secret volumes whose object changed (a running pod sees the new files). */
  async refresh(sources: ConfigSources): Promise<void> {
    for (const v of this.pod.spec?.volumes ?? []) if (v.configMap || v.secret) await this.writeConfig(v, sources).catch(() => {});
  }

  hasConfigVolumes(): boolean {
    return (this.pod.spec?.volumes ?? []).some((v) => v.configMap || v.secret);
  }

  async tearDown(): Promise<void> {
    await fsp.rm(path.dirname(this.root), { recursive: true, force: true });
  }

  /** Bytes used by an emptyDir (for sizeLimit), 0 when it does not exist. */
  async usage(name: string): Promise<number> {
    return du(this.pluginDir('empty-dir', name));
  }

  private async setUpOne(v: Volume, sources: ConfigSources, resolveClaim: ClaimResolver): Promise<string> {
    if (v.emptyDir) {
      const dir = this.pluginDir('empty-dir', v.name);
      await fsp.mkdir(dir, { recursive: true, mode: 0o777 });
      await fsp.chmod(dir, 0o777); // as the kubelet makes it: writable by any user of the pod
      return dir;
    }
    if (v.hostPath) return checkHostPath(v.name, v.hostPath.path, v.hostPath.type ?? '');
    if (v.configMap || v.secret) return this.writeConfig(v, sources);
    if (v.persistentVolumeClaim) return resolveClaim(v.persistentVolumeClaim.claimName);
    throw fail(v.name, 'this volume type is not supported by kubeact (emptyDir, hostPath, configMap, secret, persistentVolumeClaim are)');
  }

  /** A configMap or secret volume, written atomically; returns its directory. */
  private async writeConfig(v: Volume, sources: ConfigSources): Promise<string> {
    const kind = v.configMap ? 'ConfigMap' : 'Secret';
    const src = v.configMap ?? v.secret!;
    const objName = v.configMap ? v.configMap.name! : v.secret!.secretName!;
    const dir = this.pluginDir(v.configMap ? 'configmap' : 'secret', v.name);
    const obj: ConfigObject | undefined = (kind === 'ConfigMap' ? sources.configMaps : sources.secrets).get(objName);
    if (!obj && !src.optional) throw fail(v.name, `${kind.toLowerCase()} "${objName}" not found`);
    const bytes = obj ? sourceBytes(kind, obj) : new Map<string, Buffer>();
    const defaultMode = src.defaultMode ?? 0o644;
    const files = new Map<string, { data: Buffer; mode: number }>();
    if (src.items?.length) {
      for (const item of src.items) {
        const data = bytes.get(item.key);
        if (data === undefined) {
          if (src.optional) continue;
          throw fail(v.name, `configmap references non-existent config key: ${item.key}`.replace('configmap', kind.toLowerCase()));
        }
        files.set(item.path, { data, mode: item.mode ?? defaultMode });
      }
    } else for (const [k, data] of bytes) files.set(k, { data, mode: defaultMode });

    const fingerprint = JSON.stringify([...files].map(([p, f]) => [p, f.mode, f.data.toString('base64')]));
    if (this.written.get(v.name) === fingerprint) return dir;
    await writeAtomically(dir, files);
    this.written.set(v.name, fingerprint);
    return dir;
  }
}

/** The volume mounts of one container: host paths (subPath applied) on the container's paths. */
export function containerMounts(container: Container, paths: VolumePaths): Mount[] {
  return (container.volumeMounts ?? []).map((m) => {
    const base = paths.get(m.name);
    if (base === undefined) throw new RuntimeError('CreateContainerConfigError', `volume "${m.name}" is not set up`);
    const sub = m.subPath ? path.normalize(m.subPath) : '';
    if (sub.startsWith('..') || path.isAbsolute(sub)) throw new RuntimeError('CreateContainerConfigError', `subPath "${m.subPath}" must be a relative path within the volume`);
    return { name: m.name, hostPath: sub ? path.join(base, sub) : base, containerPath: m.mountPath, readOnly: m.readOnly ?? false };
  });
}

/** Creates the subPath directories a container needs inside its volumes (as the kubelet does). */
export async function ensureSubPaths(mounts: Mount[], container: Container): Promise<void> {
  for (const m of container.volumeMounts ?? []) {
    if (!m.subPath) continue;
    const mount = mounts.find((x) => x.name === m.name && x.containerPath === m.mountPath);
    if (mount) await fsp.mkdir(mount.hostPath, { recursive: true }).catch(() => {});
  }
}

const HOST_PATH_TYPES = ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'];

async function checkHostPath(volume: string, p: string, type: string): Promise<string> {
  if (!HOST_PATH_TYPES.includes(type)) throw fail(volume, `hostPath type ${type} is not supported`);
  if (type === 'DirectoryOrCreate') await fsp.mkdir(p, { recursive: true, mode: 0o755 });
  if (type === 'FileOrCreate') {
    await fsp.mkdir(path.dirname(p), { recursive: true });
    await (await fsp.open(p, 'a', 0o644)).close();
  }
  const st = await fsp.stat(p).catch(() => undefined);
  if (type === '') return p;
  const want: Record<string, [boolean | undefined, string]> = {
    DirectoryOrCreate: [st?.isDirectory(), 'a directory'],
    Directory: [st?.isDirectory(), 'a directory'],
    FileOrCreate: [st?.isFile(), 'a file'],
    File: [st?.isFile(), 'a file'],
    Socket: [st?.isSocket(), 'a socket file'],
    CharDevice: [st?.isCharacterDevice(), 'a character device'],
    BlockDevice: [st?.isBlockDevice(), 'a block device'],
  };
  const [ok, what] = want[type];
  if (!st) throw fail(volume, `hostPath type check failed: ${p} does not exist`);
  if (!ok) throw fail(volume, `hostPath type check failed: ${p} is not ${what}`);
  return p;
}

/** AtomicWriter: new `..<ts>` dir, `..data` swapped by rename, top-level symlinks, old dir removed. */
async function writeAtomically(dir: string, files: Map<string, { data: Buffer; mode: number }>): Promise<void> {
  await fsp.mkdir(dir, { recursive: true });
  const stamp = `..${new Date().toISOString().replace(/[-:]/g, '_').replace('T', '_').replace('Z', '')}.${process.hrtime.bigint() % 1000000n}`;
  const tsDir = path.join(dir, stamp);
  await fsp.mkdir(tsDir);
  for (const [rel, f] of files) {
    const file = path.join(tsDir, rel);
    await fsp.mkdir(path.dirname(file), { recursive: true });
    await fsp.writeFile(file, f.data, { mode: f.mode });
    await fsp.chmod(file, f.mode);
  }
  const dataLink = path.join(dir, '..data');
  const old = await fsp.readlink(dataLink).catch(() => undefined);
  const tmp = path.join(dir, '..data_tmp');
  await fsp.rm(tmp, { force: true });
  await fsp.symlink(stamp, tmp);
  await fsp.rename(tmp, dataLink);
  const top = new Set([...files.keys()].map((rel) => rel.split('/')[0]));
  for (const name of top) {
    const link = path.join(dir, name);
    if ((await fsp.readlink(link).catch(() => undefined)) !== path.join('..data', name)) {
      await fsp.rm(link, { recursive: true, force: true });
      await fsp.symlink(path.join('..data', name), link);
    }
  }
  for (const entry of await fsp.readdir(dir)) {
    if (entry.startsWith('..') || top.has(entry)) continue;
    await fsp.rm(path.join(dir, entry), { recursive: true, force: true }); // a key that is gone
  }
  if (old && old !== stamp) await fsp.rm(path.join(dir, old), { recursive: true, force: true });
}

/** Bytes under `p` (files' sizes; symlinks not followed). */
async function du(p: string): Promise<number> {
  const st = await fsp.lstat(p).catch(() => undefined);
  if (!st) return 0;
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const e of await fsp.readdir(p).catch(() => [] as string[])) total += await du(path.join(p, e));
  return total;
}
