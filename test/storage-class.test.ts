/**
 * StorageClass validation (protocol/validation/storage-class.ts), `get sc` columns, and the
 * storage admission of new claims and volumes (nodes/apiserver/storage-admission.ts): protection
 * finalizers and the default class.
 */
import t from 'tap';
import { admitStorage, defaultClass } from '../nodes/apiserver/storage-admission.js';
import '../nodes/cli/printers.js'; // loads the columns (storage-columns.ts is imported through it)
import { STORAGE_COLUMNS } from '../nodes/cli/storage-columns.js';
import { localPathClass } from '../nodes/controllers/storage-class-default.js';
import type { FieldCause } from '../protocol/errors.js';
import type { KubeObject } from '../protocol/objects.js';
import { validateObject } from '../protocol/validation/index.js';

const lines = (causes: FieldCause[]) => causes.map((c) => `${c.field}: ${c.message}`);
const sc = (extra: Record<string, unknown> = {}): any => ({
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  metadata: { name: 'fast' },
  provisioner: 'kubeact.io/local-path',
  reclaimPolicy: 'Delete',
  volumeBindingMode: 'WaitForFirstConsumer',
  ...extra,
});

t.test('valid classes, and every error of a bad one at once', async (t) => {
  t.same(validateObject(sc()), []);
  t.same(validateObject(localPathClass()), []);
  t.same(lines(validateObject(sc({ provisioner: undefined, reclaimPolicy: 'Recycle', volumeBindingMode: 'Later', allowVolumeExpansion: 'yes', parameters: { a: 1 } }))), [
    'provisioner: Required value',
    'parameters[a]: Invalid value: "integer": parameters[a] in body must be of type string: 1',
    'reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"',
    'volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"',
    'allowVolumeExpansion: Invalid value: "string": allowVolumeExpansion in body must be of type boolean: "yes"',
  ]);
  t.match(lines(validateObject(sc({ provisioner: 'not a name!' }))), [/^provisioner: Invalid value: "not a name!": name part must consist of alphanumeric characters/]);
});

t.test('provisioner, parameters, reclaimPolicy and volumeBindingMode are immutable', async (t) => {
  const old = { ...sc(), metadata: { name: 'fast', uid: 'u', resourceVersion: '1' } };
  t.same(lines(validateObject({ ...old, provisioner: 'other.io/x', parameters: { a: 'b' }, reclaimPolicy: 'Retain', volumeBindingMode: 'Immediate' }, old)), [
    'provisioner: Forbidden: updates to provisioner are forbidden.',
    'parameters: Forbidden: updates to parameters are forbidden.',
    'reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.',
    'volumeBindingMode: Invalid value: "Immediate": field is immutable',
  ].sort((a, b) => order(a) - order(b)));
  t.same(validateObject({ ...old, allowVolumeExpansion: true, metadata: { ...old.metadata, labels: { a: 'b' } } }, old), [], 'labels and expansion may change');
});
const order = (line: string) => ['parameters', 'provisioner', 'reclaimPolicy', 'volumeBindingMode'].indexOf(line.split(':')[0]);

t.test('get sc: kubectl columns, (default) marker', async (t) => {
  const cols = STORAGE_COLUMNS.StorageClass;
  t.same(cols.headers, ['NAME', 'PROVISIONER', 'RECLAIMPOLICY', 'VOLUMEBINDINGMODE', 'ALLOWVOLUMEEXPANSION', 'AGE']);
  const now = Date.parse('2026-01-01T00:10:00Z');
  const lp = { ...localPathClass(), metadata: { ...localPathClass().metadata, creationTimestamp: '2026-01-01T00:00:00Z' } };
  t.same(cols.row(lp, now, false), ['local-path (default)', 'kubeact.io/local-path', 'Delete', 'WaitForFirstConsumer', 'false', '10m']);
  t.same(cols.row({ ...sc(), metadata: { name: 'fast', creationTimestamp: '2026-01-01T00:09:00Z' } }, now, false), ['fast', 'kubeact.io/local-path', 'Delete', 'WaitForFirstConsumer', 'false', '60s']);
});

t.test('admission: protection finalizers and the default class', async (t) => {
  const classes: KubeObject[] = [
    { ...sc(), metadata: { name: 'old', creationTimestamp: '2026-01-01T00:00:00Z', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } },
    { ...sc(), metadata: { name: 'new', creationTimestamp: '2026-02-01T00:00:00Z', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } },
    { ...sc(), metadata: { name: 'plain', creationTimestamp: '2026-03-01T00:00:00Z' } },
  ];
  t.equal(defaultClass(classes)?.metadata?.name, 'new', 'of two defaults the newest');
  const claim = (spec: Record<string, unknown>): KubeObject => ({ kind: 'PersistentVolumeClaim', metadata: { name: 'c', namespace: 'default' }, spec });
  const a = claim({});
  admitStorage('PersistentVolumeClaim', a, classes);
  t.equal(a.spec.storageClassName, 'new', 'no class: the default');
  t.same(a.metadata?.finalizers, ['kubernetes.io/pvc-protection']);
  const b = claim({ storageClassName: '' });
  admitStorage('PersistentVolumeClaim', b, classes);
  t.equal(b.spec.storageClassName, '', 'an explicit "" stays without class');
  const c = claim({});
  admitStorage('PersistentVolumeClaim', c, classes.slice(2));
  t.equal(c.spec.storageClassName, undefined, 'no default class: none');
  const v: KubeObject = { kind: 'PersistentVolume', metadata: { name: 'v', finalizers: ['x'] }, spec: {} };
  admitStorage('PersistentVolume', v, classes);
  t.same(v.metadata?.finalizers, ['x', 'kubernetes.io/pv-protection']);
  t.equal(v.spec.storageClassName, undefined, 'volumes get no default class');
});
