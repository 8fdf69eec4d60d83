/** PersistentVolume and PersistentVolumeClaim validation (protocol/validation/storage.ts). */
import t from 'tap';
import type { FieldCause } from '../protocol/errors.js';
import { validateObject } from '../protocol/validation/index.js';

const pv = (spec: Record<string, unknown> = {}): any => ({
  apiVersion: 'v1',
  kind: 'PersistentVolume',
  metadata: { name: 'pv1' },
  spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/srv/pv1' }, ...spec },
});
const pvc = (spec: Record<string, unknown> = {}): any => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name: 'data', namespace: 'default' },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '500Mi' } }, ...spec },
});
const lines = (causes: FieldCause[]) => causes.map((c) => `${c.field}: ${c.message}`);

t.test('valid volumes and claims', async (t) => {
  t.same(validateObject(pv()), []);
  t.same(validateObject(pv({ hostPath: undefined, local: { path: '/mnt/disk' }, nodeAffinity: { required: { nodeSelectorTerms: [] } }, persistentVolumeReclaimPolicy: 'Delete' })), []);
  t.same(validateObject(pvc()), []);
  t.same(validateObject(pvc({ storageClassName: 'local-path', volumeName: 'pv1' })), []);
});

t.test('capacity -1Gi, an unknown access mode and a missing source: every error at once', async (t) => {
  t.same(lines(validateObject(pv({ capacity: { storage: '-1Gi' }, accessModes: ['ReadWriteSometimes'], hostPath: undefined, persistentVolumeReclaimPolicy: 'Recycle-ish' }))), [
    'spec.accessModes: Unsupported value: "ReadWriteSometimes": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"',
    'spec.capacity[storage]: Invalid value: "-1Gi": must be greater than or equal to 0',
    'spec.persistentVolumeReclaimPolicy: Unsupported value: "Recycle-ish": supported values: "Delete", "Recycle", "Retain"',
    'spec: Required value: must specify a volume type (kubeact supports hostPath, local)',
  ]);
  t.same(lines(validateObject(pv({ capacity: undefined, accessModes: undefined }))), ['spec.accessModes: Required value', 'spec.capacity: Required value']);
  t.same(lines(validateObject(pv({ hostPath: { path: 'relative' } }))), ['spec.hostPath.path: Invalid value: "relative": must be an absolute path']);
  t.same(lines(validateObject(pv({ hostPath: undefined, local: { path: '/mnt' } }))), ['spec.nodeAffinity: Required value: Local volume requires node affinity']);
});

t.test('claims: access modes and a positive storage request are required', async (t) => {
  t.same(lines(validateObject(pvc({ accessModes: [], resources: {} }))), ['spec.accessModes: Required value', 'spec.resources.requests: Required value']);
  t.same(lines(validateObject(pvc({ resources: { requests: { storage: '0' } } }))), ['spec.resources.requests[storage]: Invalid value: "0": must be greater than zero']);
  t.same(lines(validateObject(pvc({ accessModes: ['ReadWriteOncePod', 'ReadOnlyMany'] }))), ['spec.accessModes: Invalid value: ["ReadWriteOncePod","ReadOnlyMany"]: may not use ReadWriteOncePod with other access modes']);
});
