/**
 * `kubeact describe pv / pvc / storageclass` against kubectl 1.32's describers (pure: objects in,
 * text out), and `describe pvc` through the CLI against a real API server (Used By found there).
 */
import t from 'tap';
import type { Event } from 'kubernetes-types/core/v1.js';
import { describe } from '../nodes/cli/describe.js';
import { accessModesString } from '../nodes/cli/describe-storage.js';
import { runCli } from '../nodes/shared/run-cli.js';
import type { KubeObject } from '../protocol/objects.js';
import { startTestApiServer } from './helpers/apiserver.js';
import { allocateBlock } from './helpers/blocks.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');

const localPv: KubeObject = {
  apiVersion: 'v1',
  kind: 'PersistentVolume',
  metadata: { name: 'pv-local', labels: { type: 'local' }, annotations: { 'pv.kubernetes.io/bound-by-controller': 'yes' }, finalizers: ['kubernetes.io/pv-protection'], creationTimestamp: '2026-03-01T11:00:00Z' },
  spec: {
    capacity: { storage: '5Gi' },
    accessModes: ['ReadWriteOnce'],
    persistentVolumeReclaimPolicy: 'Delete',
    storageClassName: 'local-path',
    volumeMode: 'Filesystem',
    claimRef: { namespace: 'default', name: 'data' },
    local: { path: '/var/lib/kubeact/pv/1' },
    nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-1'] }] }] } },
  },
  status: { phase: 'Bound' },
};

const boundPvc: KubeObject = {
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name: 'data', namespace: 'default', finalizers: ['kubernetes.io/pvc-protection'], annotations: { 'pv.kubernetes.io/bind-completed': 'yes' } },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'local-path', volumeName: 'pv-local', volumeMode: 'Filesystem' },
  status: { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '5Gi' } },
};

const provisioned = [
  {
    type: 'Normal',
    reason: 'ProvisioningSucceeded',
    message: 'Successfully provisioned volume pv-local',
    source: { component: 'local-path-provisioner' },
    firstTimestamp: '2026-03-01T11:58:00Z',
    lastTimestamp: '2026-03-01T11:58:00Z',
    count: 1,
  },
] as Event[];

t.test('describe pv: a bound local volume with node affinity', async (t) => {
  t.equal(
    describe('PersistentVolume', localPv, [], NOW),
    [
      'Name:              pv-local',
      'Labels:            type=local',
      'Annotations:       pv.kubernetes.io/bound-by-controller: yes',
      'Finalizers:        [kubernetes.io/pv-protection]',
      'StorageClass:      local-path',
      'Status:            Bound',
      'Claim:             default/data',
      'Reclaim Policy:    Delete',
      'Access Modes:      RWO',
      'VolumeMode:        Filesystem',
      'Capacity:          5Gi',
      'Node Affinity:     ',
      '  Required Terms:  ',
      '    Term 0:        kubernetes.io/hostname in [node-1]',
      'Message:           ',
      'Source:',
      '    Type:  LocalVolume (a persistent volume backed by local storage on a node)',
      '    Path:  /var/lib/kubeact/pv/1',
      'Events:    <none>',
      '',
    ].join('\n'),
  );
});

t.test('describe pv: hostPath, being deleted, no class, no claim', async (t) => {
  const pv: KubeObject = {
    metadata: { name: 'pv-host', deletionTimestamp: '2026-03-01T11:59:40Z' },
    spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteMany', 'ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain', hostPath: { path: '/tmp/x', type: 'DirectoryOrCreate' } },
    status: { phase: 'Released', message: 'claim gone' },
  };
  t.equal(
    describe('PersistentVolume', pv, [], NOW),
    [
      'Name:            pv-host',
      'Labels:          <none>',
      'Annotations:     <none>',
      'Finalizers:      []',
      'StorageClass:    ',
      'Status:          Terminating (lasts 20s)',
      'Claim:           ',
      'Reclaim Policy:  Retain',
      'Access Modes:    RWO,RWX',
      'Capacity:        1Gi',
      'Node Affinity:   <none>',
      'Message:         claim gone',
      'Source:',
      '    Type:          HostPath (bare host directory volume)',
      '    Path:          /tmp/x',
      '    HostPathType:  DirectoryOrCreate',
      'Events:            <none>',
      '',
    ].join('\n'),
  );
});

t.test('describe pvc: bound (capacity and modes from the volume), Used By sorted, events', async (t) => {
  const pods = [{ metadata: { name: 'web-b', namespace: 'default' } }, { metadata: { name: 'web-a', namespace: 'default' } }];
  t.equal(
    describe('PersistentVolumeClaim', boundPvc, provisioned, NOW, { pods }),
    [
      'Name:          data',
      'Namespace:     default',
      'StorageClass:  local-path',
      'Status:        Bound',
      'Volume:        pv-local',
      'Labels:        <none>',
      'Annotations:   pv.kubernetes.io/bind-completed: yes',
      'Finalizers:    [kubernetes.io/pvc-protection]',
      'Capacity:      5Gi',
      'Access Modes:  RWO',
      'VolumeMode:    Filesystem',
      'Used By:       web-a',
      '               web-b',
      'Events:',
      '  Type    Reason                 Age   From                    Message',
      '  ----    ------                 ----  ----                    -------',
      '  Normal  ProvisioningSucceeded  2m    local-path-provisioner  Successfully provisioned volume pv-local',
      '',
    ].join('\n'),
  );
});

t.test('describe pvc: Pending shows no capacity nor modes, Used By <none>', async (t) => {
  const pvc: KubeObject = { metadata: { name: 'big', namespace: 'default' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '100Gi' } } }, status: { phase: 'Pending' } };
  t.equal(
    describe('PersistentVolumeClaim', pvc, [], NOW, { pods: [] }),
    [
      'Name:          big',
      'Namespace:     default',
      'StorageClass:  ',
      'Status:        Pending',
      'Volume:        ',
      'Labels:        <none>',
      'Annotations:   <none>',
      'Finalizers:    []',
      'Capacity:      ',
      'Access Modes:  ',
      'Used By:       <none>',
      'Events:        <none>',
      '',
    ].join('\n'),
  );
});

t.test('describe storageclass: the default class (annotation), provisioner, policies', async (t) => {
  const sc: KubeObject = {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: 'local-path', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    provisioner: 'rancher.io/local-path',
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
  } as KubeObject;
  t.equal(
    describe('StorageClass', sc, [], NOW),
    [
      'Name:                  local-path',
      'IsDefaultClass:        Yes',
      'Annotations:           storageclass.kubernetes.io/is-default-class=true',
      'Provisioner:           rancher.io/local-path',
      'Parameters:            <none>',
      'AllowVolumeExpansion:  <unset>',
      'MountOptions:          <none>',
      'ReclaimPolicy:         Delete',
      'VolumeBindingMode:     WaitForFirstConsumer',
      'Events:                <none>',
      '',
    ].join('\n'),
  );
  const other = describe('StorageClass', { metadata: { name: 'slow' }, provisioner: 'x', parameters: { type: 'hdd', fs: 'ext4' }, allowVolumeExpansion: false, mountOptions: ['ro', 'noatime'] } as KubeObject, [], NOW);
  t.match(other, /^IsDefaultClass:\s+No$/m);
  t.match(other, /^Parameters:\s+fs=ext4,type=hdd$/m);
  t.match(other, /^AllowVolumeExpansion:\s+False$/m);
  t.match(other, /^MountOptions:\n  ro\n  noatime\n/m);
  t.notMatch(other, /ReclaimPolicy|VolumeBindingMode/, 'unset policies are not printed');
});

t.test('access modes in kubectl order, each once', async (t) => {
  t.equal(accessModesString(['ReadWriteMany', 'ReadWriteOncePod', 'ReadWriteOnce', 'ReadWriteOnce']), 'RWO,RWX,RWOP');
  t.equal(accessModesString(undefined), '');
});

t.test('kubeact describe pv and pvc against a real API server: Used By lists the pods naming the claim', async (t) => {
  const block = allocateBlock();
  const api = await startTestApiServer({ serviceCidr: block.serviceNetwork });
  t.teardown(async () => {
    await api.stop();
    block.release();
  });
  const { client, nats } = api;
  await client.create({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv-1' }, spec: { capacity: { storage: '2Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/tmp/pv-1' } } });
  await client.create({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'default' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } });
  const pod = (name: string, namespace: string, claimName: string): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace },
    spec: { containers: [{ name: 'c', image: 'busybox' }], volumes: [{ name: 'v', persistentVolumeClaim: { claimName } }] },
  });
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } });
  await client.create(pod('user-2', 'default', 'data'));
  await client.create(pod('user-1', 'default', 'data'));
  await client.create(pod('not-a-user', 'default', 'elsewhere'));
  await client.create(pod('same-claim-name-other-ns', 'other', 'data'));
  const env = { KUBEACT_NATS_URL: nats.url, KUBEACT_HOME: nats.dir };

  const pvc = await runCli(['describe', 'pvc', 'data'], env, { timeoutMs: 90_000 });
  t.equal(pvc.code, 0, pvc.stderr);
  t.match(pvc.stdout, /^Status:\s+Pending$/m);
  t.match(pvc.stdout, /^Used By:\s+user-1\n\s+user-2\nEvents:\s+<none>$/m);

  const pv = await runCli(['describe', 'pv', 'pv-1'], env, { timeoutMs: 90_000 });
  t.equal(pv.code, 0, pv.stderr);
  t.match(pv.stdout, /^Reclaim Policy:\s+Retain$/m, 'the API server defaulted Retain');
  t.match(pv.stdout, /^Status:\s+Pending$/m);
  t.match(pv.stdout, /^    Type:\s+HostPath \(bare host directory volume\)\n    Path:\s+\/tmp\/pv-1\n/m);
});
