/** `kubectl get` columns of the configuration and storage kinds (kubectl's printConfigMap, printSecret, …). */
import type { KubeObject } from '../../protocol/objects.js';
import { formatAge } from './age.js';
import type { Columns } from './printers.js';

const count = (m: unknown) => (m && typeof m === 'object' ? Object.keys(m).length : 0);
const name = (obj: KubeObject) => obj.metadata?.name ?? '';

export const STORAGE_COLUMNS: Record<string, Columns> = {
  ConfigMap: {
    headers: ['NAME', 'DATA', 'AGE'],
    wideHeaders: [],
    row: (obj, now) => [name(obj), String(count((obj as any).data) + count((obj as any).binaryData)), formatAge(obj.metadata?.creationTimestamp, now)],
  },
  Secret: {
    headers: ['NAME', 'TYPE', 'DATA', 'AGE'],
    wideHeaders: [],
    row: (obj, now) => [name(obj), String((obj as any).type ?? ''), String(count((obj as any).data)), formatAge(obj.metadata?.creationTimestamp, now)],
  },
};

/** kubectl prints Terminating for a volume or claim being deleted (kept by its protection finalizer). */
const phase = (obj: KubeObject) => (obj.metadata?.deletionTimestamp ? 'Terminating' : String(obj.status?.phase ?? ''));

const MODE_ABBREV: Record<string, string> = { ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' };
const modes = (obj: KubeObject) => ((obj.spec?.accessModes ?? []) as string[]).map((m) => MODE_ABBREV[m] ?? m).join(',');

STORAGE_COLUMNS.PersistentVolume = {
  headers: ['NAME', 'CAPACITY', 'ACCESS MODES', 'RECLAIM POLICY', 'STATUS', 'CLAIM', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'REASON', 'AGE'],
  wideHeaders: ['VOLUMEMODE'],
  row(obj, now, wide) {
    const ref = obj.spec?.claimRef;
    const cells = [
      name(obj),
      String(obj.spec?.capacity?.storage ?? ''),
      modes(obj),
      String(obj.spec?.persistentVolumeReclaimPolicy ?? ''),
      phase(obj),
      ref?.name ? `${ref.namespace ?? ''}/${ref.name}` : '',
      String(obj.spec?.storageClassName ?? ''),
      '<unset>',
      String(obj.status?.reason ?? ''),
      formatAge(obj.metadata?.creationTimestamp, now),
    ];
    if (wide) cells.push(String(obj.spec?.volumeMode ?? ''));
    return cells;
  },
};

STORAGE_COLUMNS.PersistentVolumeClaim = {
  headers: ['NAME', 'STATUS', 'VOLUME', 'CAPACITY', 'ACCESS MODES', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'AGE'],
  wideHeaders: ['VOLUMEMODE'],
  row(obj, now, wide) {
    const cells = [
      name(obj),
      phase(obj),
      String(obj.spec?.volumeName ?? ''),
      String(obj.status?.capacity?.storage ?? ''),
      obj.status?.accessModes ? ((obj.status.accessModes as string[]).map((m) => MODE_ABBREV[m] ?? m).join(',')) : '',
      String(obj.spec?.storageClassName ?? ''),
      '<unset>',
      formatAge(obj.metadata?.creationTimestamp, now),
    ];
    if (wide) cells.push(String(obj.spec?.volumeMode ?? ''));
    return cells;
  },
};

/** printStorageClass: the default class is marked `(default)` after its name. */
STORAGE_COLUMNS.StorageClass = {
  headers: ['NAME', 'PROVISIONER', 'RECLAIMPOLICY', 'VOLUMEBINDINGMODE', 'ALLOWVOLUMEEXPANSION', 'AGE'],
  wideHeaders: [],
  row(obj, now) {
    const sc = obj as KubeObject & { provisioner?: string; reclaimPolicy?: string; volumeBindingMode?: string; allowVolumeExpansion?: boolean };
    const isDefault = obj.metadata?.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true';
    return [
      isDefault ? `${name(obj)} (default)` : name(obj),
      String(sc.provisioner ?? ''),
      String(sc.reclaimPolicy ?? 'Delete'),
      String(sc.volumeBindingMode ?? 'Immediate'),
      String(sc.allowVolumeExpansion ?? false),
      formatAge(obj.metadata?.creationTimestamp, now),
    ];
  },
};
