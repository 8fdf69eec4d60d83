/**
 * The PersistentVolume controller's pure decisions (actors/volume-binding): matching (class,
 * access modes, capacity, selector, node affinity, smallest fit, pre-binding both ways), phases
 * and their Events, protection finalizers, reclaim, and WaitForFirstConsumer provisioning.
 */
import t from 'tap';
import {
  ANN_BIND_COMPLETED,
  ANN_SELECTED_NODE,
  LOCAL_PATH_PROVISIONER,
  MESSAGES,
  PV_PROTECTION,
  PVC_PROTECTION,
  findBestMatch,
  planVolumes,
  type Claim,
  type StorageClass,
  type Volume,
  type VolumeAction,
  type VolumeWorld,
} from '../actors/volume-binding/index.js';
import type { Node, Pod } from '../protocol/objects.js';

const pv = (name: string, size: string, extra: { modes?: string[]; sc?: string; labels?: Record<string, string>; claimRef?: object; phase?: string; policy?: string; node?: string; deleting?: boolean; finalizers?: string[] } = {}): Volume => ({
  apiVersion: 'v1',
  kind: 'PersistentVolume',
  metadata: { name, uid: `uid-${name}`, labels: extra.labels, finalizers: extra.finalizers ?? [PV_PROTECTION], ...(extra.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
  spec: {
    capacity: { storage: size },
    accessModes: extra.modes ?? ['ReadWriteOnce'],
    storageClassName: extra.sc ?? '',
    persistentVolumeReclaimPolicy: extra.policy ?? 'Retain',
    volumeMode: 'Filesystem',
    hostPath: { path: `/tmp/${name}` },
    ...(extra.claimRef ? { claimRef: extra.claimRef } : {}),
    ...(extra.node ? { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [extra.node] }] }] } } } : {}),
  },
  status: { phase: extra.phase ?? 'Available' },
});

const pvc = (name: string, size: string, extra: { modes?: string[]; sc?: string; selector?: object; volumeName?: string; phase?: string; annotations?: Record<string, string>; deleting?: boolean } = {}): Claim => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name, namespace: 'default', uid: `uid-${name}`, finalizers: [PVC_PROTECTION], annotations: extra.annotations, ...(extra.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
  spec: {
    accessModes: extra.modes ?? ['ReadWriteOnce'],
    resources: { requests: { storage: size } },
    volumeMode: 'Filesystem',
    ...(extra.sc !== undefined ? { storageClassName: extra.sc } : {}),
    ...(extra.selector ? { selector: extra.selector } : {}),
    ...(extra.volumeName ? { volumeName: extra.volumeName } : {}),
  },
  status: { phase: extra.phase ?? 'Pending' },
});

const sc = (name: string, mode: string, provisioner = LOCAL_PATH_PROVISIONER): StorageClass =>
  ({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name }, provisioner, reclaimPolicy: 'Delete', volumeBindingMode: mode }) as StorageClass;

const node = (name: string): Node => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } } });

const pod = (name: string, claim: string, nodeName?: string, phase = 'Running'): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', uid: `uid-${name}`, creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: { nodeName, containers: [{ name: 'c', image: 'x' }], volumes: [{ name: 'data', persistentVolumeClaim: { claimName: claim } }] },
  status: { phase },
});

const world = (w: Partial<VolumeWorld>): VolumeWorld => ({ claims: [], volumes: [], classes: [], pods: [], nodes: [], ...w });
const ofType = <T extends VolumeAction['type']>(actions: VolumeAction[], type: T) => actions.filter((a): a is Extract<VolumeAction, { type: T }> => a.type === type);
const binds = (actions: VolumeAction[]) => ofType(actions, 'bind').map((a) => `${a.claim.metadata!.name}->${a.volume.metadata!.name}`);
const events = (actions: VolumeAction[]) => ofType(actions, 'event').map((a) => `${a.eventType} ${a.reason}: ${a.message}`);

t.test('the smallest volume that fits wins', async (t) => {
  const vols = [pv('big', '10Gi'), pv('small', '1Gi'), pv('mid', '2Gi'), pv('tiny', '500Mi')];
  t.equal(findBestMatch(pvc('c', '1Gi'), vols)?.metadata?.name, 'small');
  t.equal(findBestMatch(pvc('c', '1500Mi'), vols)?.metadata?.name, 'mid');
  t.equal(findBestMatch(pvc('c', '100Mi'), vols)?.metadata?.name, 'tiny');
  t.equal(findBestMatch(pvc('c', '11Gi'), vols), undefined, 'larger than any volume');
});

t.test('class, access modes, volume mode and selector must match', async (t) => {
  t.equal(findBestMatch(pvc('c', '1Gi', { sc: 'fast' }), [pv('a', '5Gi', { sc: 'slow' })]), undefined, 'other class');
  t.equal(findBestMatch(pvc('c', '1Gi'), [pv('a', '5Gi', { sc: 'slow' })]), undefined, 'no class never takes a classed volume');
  t.equal(findBestMatch(pvc('c', '1Gi', { sc: 'slow' }), [pv('a', '5Gi', { sc: 'slow' })])?.metadata?.name, 'a');
  t.equal(findBestMatch(pvc('c', '1Gi', { modes: ['ReadWriteMany'] }), [pv('a', '5Gi')]), undefined, 'mode missing');
  t.equal(findBestMatch(pvc('c', '1Gi', { modes: ['ReadWriteOnce'] }), [pv('a', '5Gi', { modes: ['ReadWriteOnce', 'ReadOnlyMany'] })])?.metadata?.name, 'a', 'superset of modes');
  t.equal(findBestMatch(pvc('c', '1Gi', { modes: ['ReadWriteOnce', 'ReadOnlyMany'] }), [pv('a', '5Gi')]), undefined, 'every requested mode');
  const block = pv('b', '5Gi');
  block.spec.volumeMode = 'Block';
  t.equal(findBestMatch(pvc('c', '1Gi'), [block]), undefined, 'volume mode');
  const sel = { matchLabels: { tier: 'gold' } };
  t.equal(findBestMatch(pvc('c', '1Gi', { selector: sel }), [pv('a', '1Gi'), pv('g', '5Gi', { labels: { tier: 'gold' } })])?.metadata?.name, 'g', 'selector beats size');
  t.equal(findBestMatch(pvc('c', '1Gi', { selector: { matchExpressions: [{ key: 'tier', operator: 'Exists' }] } }), [pv('a', '1Gi')]), undefined);
});

t.test('bound, released, failed and deleting volumes are not offered; pre-bound volumes win', async (t) => {
  const ref = { kind: 'PersistentVolumeClaim', namespace: 'default', name: 'other', uid: 'uid-other' };
  t.equal(findBestMatch(pvc('c', '1Gi'), [pv('a', '1Gi', { claimRef: ref, phase: 'Bound' })]), undefined, 'bound to another claim');
  t.equal(findBestMatch(pvc('c', '1Gi'), [pv('a', '1Gi', { claimRef: ref, phase: 'Released' })]), undefined, 'released');
  t.equal(findBestMatch(pvc('c', '1Gi'), [pv('a', '1Gi', { phase: 'Failed' })]), undefined, 'failed');
  t.equal(findBestMatch(pvc('c', '1Gi'), [pv('a', '1Gi', { deleting: true })]), undefined, 'being deleted');
  const mine = pv('mine', '10Gi', { claimRef: { namespace: 'default', name: 'c' } });
  t.equal(findBestMatch(pvc('c', '1Gi'), [pv('a', '1Gi'), mine])?.metadata?.name, 'mine', 'a volume pre-bound to the claim wins over a smaller one');
  t.equal(findBestMatch(pvc('d', '1Gi'), [mine]), undefined, 'and is not offered to others');
});

t.test('node affinity: with a selected node only volumes admitting it', async (t) => {
  const vols = [pv('on-a', '1Gi', { node: 'a' }), pv('on-b', '2Gi', { node: 'b' })];
  t.equal(findBestMatch(pvc('c', '1Gi'), vols, node('b'))?.metadata?.name, 'on-b');
  t.equal(findBestMatch(pvc('c', '1Gi'), vols, node('c')), undefined);
});

t.test('an unbound claim binds to the best volume; two claims never get the same volume', async (t) => {
  const actions = planVolumes(world({ claims: [pvc('a', '1Gi'), pvc('b', '1Gi'), pvc('c', '1Gi')], volumes: [pv('v1', '1Gi'), pv('v2', '3Gi')] }));
  t.same(binds(actions), ['a->v1', 'b->v2']);
  t.same(events(actions), [`Normal FailedBinding: ${MESSAGES.noClass}`], 'the third says why it waits');
});

t.test('a claim larger than any volume stays Pending with FailedBinding', async (t) => {
  const claim = pvc('huge', '100Gi', { phase: undefined as unknown as string });
  delete claim.status;
  const actions = planVolumes(world({ claims: [claim], volumes: [pv('v1', '1Gi')] }));
  t.same(ofType(actions, 'claimPhase').map((a) => a.phase), ['Pending']);
  t.same(binds(actions), []);
  t.same(events(actions), [`Normal FailedBinding: no persistent volumes available for this claim and no storage class is set`]);
});

t.test('pre-bound claims (spec.volumeName) and volumes (claimRef)', async (t) => {
  // Claim names a free volume: bound to it even though a smaller one exists.
  t.same(binds(planVolumes(world({ claims: [pvc('c', '1Gi', { volumeName: 'big' })], volumes: [pv('small', '1Gi'), pv('big', '9Gi')] }))), ['c->big']);
  // Claim names a volume that does not fit.
  const mismatch = planVolumes(world({ claims: [pvc('c', '5Gi', { volumeName: 'small' })], volumes: [pv('small', '1Gi')] }));
  t.same(binds(mismatch), []);
  t.match(events(mismatch), [/Warning VolumeMismatch: Cannot bind to requested volume "small": capacity/]);
  // Claim names a volume bound to someone else.
  const taken = planVolumes(world({ claims: [pvc('c', '1Gi', { volumeName: 'v' })], volumes: [pv('v', '1Gi', { claimRef: { namespace: 'default', name: 'x', uid: 'uid-x' }, phase: 'Bound' })] }));
  t.same(events(taken), ['Warning FailedBinding: volume "v" already bound to a different claim.']);
  // Claim names a volume that does not exist yet: Pending, quietly.
  t.same(planVolumes(world({ claims: [pvc('c', '1Gi', { volumeName: 'later' })] })), []);
  // Volume pre-bound to a claim by name only: the claim gets it.
  t.same(binds(planVolumes(world({ claims: [pvc('c', '1Gi')], volumes: [pv('v', '1Gi', { claimRef: { namespace: 'default', name: 'c' } })] }))), ['c->v']);
  t.same(ofType(planVolumes(world({ volumes: [pv('v', '1Gi', { claimRef: { namespace: 'default', name: 'c' }, phase: 'Pending' })] })), 'volumePhase').map((a) => a.phase), ['Available'], 'waiting for its claim: Available');
});

t.test('a completed binding produces nothing (level-based, repeatable)', async (t) => {
  const claim = pvc('c', '1Gi', { volumeName: 'v', phase: 'Bound', annotations: { [ANN_BIND_COMPLETED]: 'yes' } });
  const vol = pv('v', '1Gi', { claimRef: { namespace: 'default', name: 'c', uid: 'uid-c' }, phase: 'Bound' });
  t.same(planVolumes(world({ claims: [claim], volumes: [vol] })), []);
});

t.test('a bound claim whose volume is gone is Lost', async (t) => {
  const claim = pvc('c', '1Gi', { volumeName: 'v', phase: 'Bound', annotations: { [ANN_BIND_COMPLETED]: 'yes' } });
  const actions = planVolumes(world({ claims: [claim] }));
  t.same(ofType(actions, 'claimPhase').map((a) => a.phase), ['Lost']);
  t.same(events(actions), [`Warning ClaimLost: ${MESSAGES.claimLost}`]);
});

t.test('the claim of a bound volume is deleted: Released, then the reclaim policy', async (t) => {
  const ref = { namespace: 'default', name: 'gone', uid: 'uid-gone' };
  t.same(ofType(planVolumes(world({ volumes: [pv('v', '1Gi', { claimRef: ref, phase: 'Bound' })] })), 'volumePhase').map((a) => a.phase), ['Released']);
  t.same(planVolumes(world({ volumes: [pv('v', '1Gi', { claimRef: ref, phase: 'Released', policy: 'Retain' })] })), [], 'Retain: stays Released');
  t.same(ofType(planVolumes(world({ volumes: [pv('v', '1Gi', { claimRef: ref, phase: 'Released', policy: 'Delete' })] })), 'deleteVolume').length, 1, 'Delete: deleted');
  const recreated = pvc('gone', '1Gi');
  recreated.metadata!.uid = 'uid-new';
  t.same(ofType(planVolumes(world({ claims: [recreated], volumes: [pv('v', '1Gi', { claimRef: ref, phase: 'Bound' })] })), 'volumePhase').map((a) => a.phase), ['Released'], 'a new claim of the same name is not the old one');
});

t.test('pvc-protection: the finalizer goes only when no running pod on a node uses the claim', async (t) => {
  const claim = pvc('c', '1Gi', { deleting: true, volumeName: 'v', phase: 'Bound', annotations: { [ANN_BIND_COMPLETED]: 'yes' } });
  const vol = pv('v', '1Gi', { claimRef: { namespace: 'default', name: 'c', uid: 'uid-c' }, phase: 'Bound' });
  const removes = (pods: Pod[]) => ofType(planVolumes(world({ claims: [claim], volumes: [vol], pods })), 'removeFinalizer').map((a) => a.finalizer);
  t.same(removes([pod('p', 'c', 'n1')]), [], 'a running pod holds it');
  t.same(removes([pod('p', 'c', 'n1', 'Pending')]), [], 'a pod starting on a node holds it');
  t.same(removes([pod('p', 'c', undefined, 'Pending')]), [PVC_PROTECTION], 'a pod not on a node does not');
  t.same(removes([pod('p', 'c', 'n1', 'Succeeded')]), [PVC_PROTECTION], 'a finished pod does not');
  t.same(removes([pod('p', 'other', 'n1')]), [PVC_PROTECTION], 'a pod of another claim does not');
  t.same(removes([]), [PVC_PROTECTION]);
});

t.test('pv-protection: the finalizer goes only when the volume is not Bound', async (t) => {
  const ref = { namespace: 'default', name: 'c', uid: 'uid-c' };
  const claim = pvc('c', '1Gi', { volumeName: 'v', phase: 'Bound', annotations: { [ANN_BIND_COMPLETED]: 'yes' } });
  const removes = (v: Volume, claims: Claim[]) => ofType(planVolumes(world({ claims, volumes: [v] })), 'removeFinalizer').map((a) => a.finalizer);
  t.same(removes(pv('v', '1Gi', { claimRef: ref, phase: 'Bound', deleting: true }), [claim]), []);
  t.same(removes(pv('v', '1Gi', { claimRef: ref, phase: 'Released', deleting: true }), []), [PV_PROTECTION]);
  t.same(removes(pv('v', '1Gi', { deleting: true }), []), [PV_PROTECTION]);
});

t.test('WaitForFirstConsumer: waits for a scheduled pod, records its node, provisions there', async (t) => {
  const classes = [sc('local-path', 'WaitForFirstConsumer')];
  const waiting = planVolumes(world({ classes, claims: [pvc('c', '1Gi', { sc: 'local-path' })], volumes: [pv('v', '1Gi', { sc: 'local-path' })] }));
  t.same(binds(waiting), [], 'no binding before a consumer, even with a matching volume');
  t.same(events(waiting), [`Normal WaitForFirstConsumer: ${MESSAGES.waitForConsumer}`]);
  t.same(events(planVolumes(world({ classes, claims: [pvc('c', '1Gi', { sc: 'local-path' })], pods: [pod('p', 'c')] }))), [`Normal WaitForFirstConsumer: ${MESSAGES.waitForConsumer}`], 'an unscheduled pod is not a consumer yet');

  const consumed = planVolumes(world({ classes, claims: [pvc('c', '1Gi', { sc: 'local-path' })], pods: [pod('p', 'c', 'n2')], nodes: [node('n1'), node('n2')] }));
  t.same(ofType(consumed, 'selectNode').map((a) => a.node), ['n2']);
  t.same(ofType(consumed, 'provision').map((a) => a.node), ['n2']);

  const selected = pvc('c', '1Gi', { sc: 'local-path', annotations: { [ANN_SELECTED_NODE]: 'n1' } });
  const statics = [pv('on-n2', '1Gi', { sc: 'local-path', node: 'n2' }), pv('on-n1', '5Gi', { sc: 'local-path', node: 'n1' })];
  t.same(binds(planVolumes(world({ classes, claims: [selected], volumes: statics, nodes: [node('n1'), node('n2')] }))), ['c->on-n1'], 'a static volume on the selected node');
});

t.test('classes: unknown, external, no-provisioner, local-path with Immediate', async (t) => {
  const ev = (classes: StorageClass[], name: string) => events(planVolumes(world({ classes, claims: [pvc('c', '1Gi', { sc: name })] })));
  t.same(ev([], 'gold'), ['Warning ProvisioningFailed: storageclass.storage.k8s.io "gold" not found']);
  t.match(ev([sc('ext', 'Immediate', 'ebs.csi.aws.com')], 'ext'), [/Normal ExternalProvisioning: Waiting for a volume to be created either by the external provisioner 'ebs.csi.aws.com'/]);
  t.same(ev([sc('manual', 'Immediate', 'kubernetes.io/no-provisioner')], 'manual'), ['Normal FailedBinding: no persistent volumes available for this claim and storage class "manual" has no provisioner']);
  t.same(ev([sc('lp', 'Immediate')], 'lp'), [`Warning ProvisioningFailed: ${MESSAGES.localPathNeedsNode}`]);
  t.same(binds(planVolumes(world({ classes: [sc('manual', 'Immediate', 'kubernetes.io/no-provisioner')], claims: [pvc('c', '1Gi', { sc: 'manual' })], volumes: [pv('v', '2Gi', { sc: 'manual' })] }))), ['c->v'], 'Immediate binds at once');
});

t.test('a controller-bound volume whose claim went elsewhere is unbound', async (t) => {
  const claim = pvc('c', '1Gi', { volumeName: 'other', phase: 'Bound' });
  const vol = pv('v', '1Gi', { claimRef: { namespace: 'default', name: 'c', uid: 'uid-c' }, phase: 'Bound' });
  vol.metadata!.annotations = { 'pv.kubernetes.io/bound-by-controller': 'yes' };
  t.same(ofType(planVolumes(world({ claims: [claim], volumes: [vol, pv('other', '1Gi')] })), 'unbindVolume').map((a) => a.volume.metadata?.name), ['v']);
});
