/** The scheduler's VolumeBinding filter (actors/scheduler/volumes.ts) through schedulePod, with kube-scheduler's messages. */
import t from 'tap';
import { emptyVolumes, schedulePod, type VolumeSnapshot } from '../actors/scheduler/index.js';
import type { KubeObject, Node, Pod } from '../protocol/objects.js';

const node = (name: string): Node => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels: { 'kubernetes.io/hostname': name } },
  status: { allocatable: { cpu: '4', memory: '8Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
});
const nodes = [node('n1'), node('n2'), node('n3')];
const pod = (...claims: string[]): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'default', uid: 'u' },
  spec: { containers: [{ name: 'c', image: 'x' }], volumes: claims.map((c) => ({ name: c, persistentVolumeClaim: { claimName: c } })) },
});
const claim = (name: string, extra: { volumeName?: string; sc?: string; deleting?: boolean } = {}): KubeObject => ({
  kind: 'PersistentVolumeClaim',
  metadata: { name, namespace: 'default', uid: `uid-${name}`, ...(extra.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: extra.sc ?? '', ...(extra.volumeName ? { volumeName: extra.volumeName } : {}) },
});
const volume = (name: string, onNode?: string, sc = ''): KubeObject => ({
  kind: 'PersistentVolume',
  metadata: { name },
  spec: {
    capacity: { storage: '1Gi' },
    accessModes: ['ReadWriteOnce'],
    storageClassName: sc,
    hostPath: { path: `/tmp/${name}` },
    ...(onNode ? { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [onNode] }] }] } } } : {}),
  },
  status: { phase: 'Available' },
});
const sc = (name: string, mode: string, provisioner: string): KubeObject => ({ kind: 'StorageClass', metadata: { name }, provisioner, volumeBindingMode: mode } as KubeObject);
const snap = (claims: KubeObject[], volumes: KubeObject[] = [], classes: KubeObject[] = []): VolumeSnapshot => ({
  claims: Object.fromEntries(claims.map((c) => [`default/${c.metadata!.name}`, c])),
  volumes: Object.fromEntries(volumes.map((v) => [v.metadata!.name!, v])),
  classes: Object.fromEntries(classes.map((c) => [c.metadata!.name!, c])),
});

t.test('a claim bound to a node-local volume places the pod on that node only', async (t) => {
  const s = snap([claim('data', { volumeName: 'local-n2' })], [volume('local-n2', 'n2')]);
  for (let i = 0; i < 3; i++) t.same(schedulePod(pod('data'), nodes, new Map(), s), { nodeName: 'n2' });
  t.same(schedulePod(pod('data'), [node('n1'), node('n3'), { ...node('x'), metadata: { name: 'x', labels: {} } }], new Map(), s), {
    unschedulable: '0/3 nodes are available: 3 node(s) had volume node affinity conflict.',
  });
  const full = { ...node('n2'), status: { ...node('n2').status, allocatable: { cpu: '100m', memory: '8Gi', pods: '110' } } };
  const busy: Pod = { ...pod('data'), spec: { ...pod('data').spec!, containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '1' } } }] } };
  t.same(schedulePod(busy, [node('n1'), full, node('n3')], new Map(), s), {
    unschedulable: '0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had volume node affinity conflict.',
  }, 'the volume node cannot take it: says so, each node under its first failing filter');
});

t.test('claims that cannot be used on any node', async (t) => {
  t.same(schedulePod(pod('absent'), nodes, new Map(), snap([])), { unschedulable: '0/3 nodes are available: persistentvolumeclaim "absent" not found.' });
  t.same(schedulePod(pod('d'), nodes, new Map(), snap([claim('d', { deleting: true })])), { unschedulable: '0/3 nodes are available: persistentvolumeclaim "d" is being deleted.' });
  t.same(schedulePod(pod('d'), nodes, new Map(), snap([claim('d')])), { unschedulable: '0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims.' });
  t.same(schedulePod(pod('d'), nodes, new Map(), snap([claim('d', { sc: 'fast' })], [], [sc('fast', 'Immediate', 'x.io/y')])), { unschedulable: '0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims.' });
  t.same(schedulePod(pod('d'), nodes, new Map(), snap([claim('d', { volumeName: 'gone' })])), { unschedulable: '0/3 nodes are available: 3 node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s).' });
});

t.test('unbound WaitForFirstConsumer claims', async (t) => {
  const local = [sc('local-path', 'WaitForFirstConsumer', 'kubeact.io/local-path')];
  t.ok('nodeName' in schedulePod(pod('d'), nodes, new Map(), snap([claim('d', { sc: 'local-path' })], [], local)), 'local-path provisions on any node');
  const manual = [sc('manual', 'WaitForFirstConsumer', 'kubernetes.io/no-provisioner')];
  t.same(schedulePod(pod('d'), nodes, new Map(), snap([claim('d', { sc: 'manual' })], [volume('v3', 'n3', 'manual')], manual)), { nodeName: 'n3' }, 'the node of a free matching volume');
  t.same(schedulePod(pod('d'), nodes, new Map(), snap([claim('d', { sc: 'manual' })], [], manual)), { unschedulable: "0/3 nodes are available: 3 node(s) didn't find available persistent volumes to bind." });
});

t.test('pods without claims, or without a volume snapshot, are not affected', async (t) => {
  t.ok('nodeName' in schedulePod(pod(), nodes, new Map(), emptyVolumes()));
  t.ok('nodeName' in schedulePod(pod('x'), nodes, new Map()));
});
