/** `kubectl get` columns of the configuration and storage kinds (kubectl's printConfigMap, printSecret, …). */
import type { KubeObject } from '../../protocol/objects.js';
import { formatAge, type Columns } from './printers.js';

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
