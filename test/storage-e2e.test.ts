/**
 * PersistentVolumes on a real cluster (process runtime): the default local-path class provisions
 * a directory on the node of a Deployment's pod, the data outlives the pod and is read by its
 * replacement; a claim in use is only Terminating when deleted and keeps its data until the pod is
 * gone, then the Delete policy removes volume and directory; Retain keeps a Released volume with its
 * data; a claim larger than any volume stays Pending and says why; bad objects are rejected.
 */
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiError } from '../protocol/errors.js';
import type { KubeObject } from '../protocol/objects.js';
import { startCluster, waitForObject, type TestCluster } from './helpers/cluster.js';

const NS = 'default';
let cluster: TestCluster;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeact-storage-test-'));
const at = (...p: string[]) => path.join(work, ...p);

t.before(async () => {
  cluster = await startCluster({ nodes: 1, workerArgs: ['--backoff-initial-ms', '300', '--backoff-max-ms', '1000'] });
});
t.teardown(async () => {
  await cluster?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

const claim = (name: string, size: string, storageClassName?: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name, namespace: NS },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } }, ...(storageClassName !== undefined ? { storageClassName } : {}) },
});
const waitClaim = (name: string, ok: (c: KubeObject | undefined) => boolean, ms = 60_000) => waitForObject(cluster.client, 'PersistentVolumeClaim', name, NS, ok, ms);
const waitVolume = (name: string, ok: (v: KubeObject | undefined) => boolean, ms = 60_000) => waitForObject(cluster.client, 'PersistentVolume', name, undefined, ok, ms);

async function claimEvents(name: string, ok: (messages: string[]) => boolean, timeoutMs = 30_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let messages: string[] = [];
  while (Date.now() < deadline) {
    const list = await cluster.client.list('Event', { namespace: NS, fieldSelector: `involvedObject.name=${name}` });
    messages = list.items.map((e: any) => `${e.type} ${e.reason} ${e.message}`);
    if (ok(messages)) return messages;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`events of ${name} never matched; last: ${JSON.stringify(messages)}`);
}

async function logsOf(pod: KubeObject): Promise<string> {
  return (await cluster.client.logs(pod.spec.nodeName, { namespace: NS, pod: pod.metadata!.name! })).text;
}

async function waitLogs(pod: KubeObject, ok: (text: string) => boolean, timeoutMs = 40_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < deadline) {
    text = await logsOf(pod).catch(() => '');
    if (ok(text)) return text;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`logs of ${pod.metadata?.name} never matched; last: ${JSON.stringify(text)}`);
}

/** The running pod of the Deployment `app=name` that is not `exclude`. */
async function runningPod(app: string, exclude?: string, timeoutMs = 60_000): Promise<KubeObject> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const pods = await cluster.client.list('Pod', { namespace: NS, labelSelector: `app=${app}` });
    const p = pods.items.find((x) => x.status?.phase === 'Running' && !x.metadata?.deletionTimestamp && x.metadata?.uid !== exclude);
    if (p) return p;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no running pod of ${app}`);
}

t.test('local-path: provisioned on the pod\'s node; data survives the pod; a claim in use is Terminating until the pod is gone; Delete removes it', async (t) => {
  const sc = await cluster.kubeact(['get', 'sc']);
  t.match(sc.stdout, /^NAME\s+PROVISIONER\s+RECLAIMPOLICY\s+VOLUMEBINDINGMODE\s+ALLOWVOLUMEEXPANSION\s+AGE\nlocal-path \(default\)\s+kubeact\.io\/local-path\s+Delete\s+WaitForFirstConsumer\s+false\s+/);

  const created = await cluster.client.create(claim('notes', '64Mi'));
  t.equal(created.spec.storageClassName, 'local-path', 'no class given: the default class');
  t.same(created.metadata?.finalizers, ['kubernetes.io/pvc-protection']);
  await claimEvents('notes', (m) => m.includes('Normal WaitForFirstConsumer waiting for first consumer to be created before binding'));
  t.equal((await cluster.client.get('PersistentVolumeClaim', 'notes', NS)).status?.phase, 'Pending', 'Pending until a pod uses it');

  const mnt = at('notes-mnt');
  await cluster.client.create({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'writer', namespace: NS },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'writer' } },
      template: {
        metadata: { labels: { app: 'writer' } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [{ name: 'main', image: 'busybox:1.36', command: ['sh', '-c', `echo "line from $HOSTNAME" >> ${mnt}/log; cat ${mnt}/log; exec sleep 3600`], volumeMounts: [{ name: 'data', mountPath: mnt }] }],
          volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'notes' } }],
        },
      },
    },
  } as KubeObject);
  const bound = await waitClaim('notes', (c) => c?.status?.phase === 'Bound');
  const pvName = bound!.spec.volumeName;
  t.equal(pvName, `pvc-${bound!.metadata!.uid}`);
  t.equal(bound!.metadata?.annotations?.['volume.kubernetes.io/selected-node'] !== undefined, true, 'the node of the first consumer is recorded');
  const pv = await waitVolume(pvName, (v) => v?.status?.phase === 'Bound');
  const node = bound!.metadata!.annotations!['volume.kubernetes.io/selected-node'];
  t.same(pv!.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0], { key: 'kubernetes.io/hostname', operator: 'In', values: [node] });
  t.equal(pv!.spec.persistentVolumeReclaimPolicy, 'Delete');
  t.match(pv!.spec.claimRef, { namespace: NS, name: 'notes', uid: bound!.metadata!.uid });
  const dir: string = pv!.spec.hostPath.path;
  t.ok(dir.startsWith(cluster.home) && dir.endsWith(`/local-path/${pvName}`), `the directory is under the node's data dir: ${dir}`);

  const first = await runningPod('writer');
  t.equal(first.spec.nodeName, node);
  await waitLogs(first, (s) => s === `line from ${first.metadata!.name}\n`);
  await cluster.client.delete('Pod', first.metadata!.name!, { namespace: NS });
  const second = await runningPod('writer', first.metadata!.uid);
  const text = await waitLogs(second, (s) => s.split('\n').length === 3);
  t.equal(text, `line from ${first.metadata!.name}\nline from ${second.metadata!.name}\n`, 'the replacement reads what the first pod wrote');

  // Deleting the claim while the pod uses it: Terminating, bound, data intact.
  await cluster.client.delete('PersistentVolumeClaim', 'notes', { namespace: NS });
  const terminating = await cluster.client.get('PersistentVolumeClaim', 'notes', NS);
  t.ok(terminating.metadata?.deletionTimestamp, 'marked, kept by kubernetes.io/pvc-protection');
  const get = await cluster.kubeact(['get', 'pvc']);
  t.match(get.stdout, new RegExp(`\\nnotes\\s+Terminating\\s+${pvName}\\s+64Mi\\s+RWO\\s+local-path\\s+`));
  t.equal(fs.readFileSync(path.join(dir, 'log'), 'utf8').split('\n').length, 3, 'the data is still there');
  t.equal((await cluster.client.get('PersistentVolume', pvName)).status?.phase, 'Bound');

  // The pod goes (scale to 0): the claim goes, the volume is Released and — policy Delete — removed with its directory.
  await cluster.client.modify('Deployment', 'writer', NS, (d) => {
    d.spec.replicas = 0;
  });
  await waitClaim('notes', (c) => c === undefined);
  await waitVolume(pvName, (v) => v === undefined);
  t.notOk(fs.existsSync(dir), 'the directory is removed by the node');
  await cluster.client.delete('Deployment', 'writer', { namespace: NS });
});

t.test('Retain keeps a Released volume with its data; static hostPath under /tmp with Delete is removed', async (t) => {
  const keep = at('keep');
  const drop = at('drop');
  fs.mkdirSync(keep);
  fs.mkdirSync(drop);
  fs.writeFileSync(path.join(keep, 'data'), 'kept\n');
  fs.writeFileSync(path.join(drop, 'data'), 'dropped\n');
  const volume = (name: string, dir: string, policy: string): KubeObject => ({
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name },
    spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: policy, hostPath: { path: dir }, claimRef: { namespace: NS, name: `claim-${name}` } },
  });
  await cluster.client.create(volume('retained', keep, 'Retain'));
  await cluster.client.create(volume('deleted', drop, 'Delete'));
  await cluster.client.create(claim('claim-retained', '1Gi', ''));
  await cluster.client.create(claim('claim-deleted', '1Gi', ''));
  await waitClaim('claim-retained', (c) => c?.status?.phase === 'Bound' && c.spec.volumeName === 'retained');
  await waitClaim('claim-deleted', (c) => c?.status?.phase === 'Bound' && c.spec.volumeName === 'deleted');
  const get = await cluster.kubeact(['get', 'pv']);
  t.match(get.stdout, new RegExp(`\\nretained\\s+1Gi\\s+RWO\\s+Retain\\s+Bound\\s+${NS}/claim-retained\\s+`));

  await cluster.client.delete('PersistentVolumeClaim', 'claim-retained', { namespace: NS });
  await cluster.client.delete('PersistentVolumeClaim', 'claim-deleted', { namespace: NS });
  await waitVolume('retained', (v) => v?.status?.phase === 'Released');
  await waitVolume('deleted', (v) => v === undefined);
  t.equal(fs.readFileSync(path.join(keep, 'data'), 'utf8'), 'kept\n', 'Retain: data kept');
  t.notOk(fs.existsSync(drop), 'Delete: directory removed');
  const after = await cluster.kubeact(['get', 'pv']);
  t.match(after.stdout, new RegExp(`\\nretained\\s+1Gi\\s+RWO\\s+Retain\\s+Released\\s+${NS}/claim-retained\\s+`));
  t.notMatch(after.stdout, /\ndeleted\s/);
});

t.test('a claim larger than any volume stays Pending and says why; bad objects are rejected and nothing is stored', async (t) => {
  await cluster.client.create({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'small' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: at('small') } } });
  await cluster.client.create(claim('huge', '100Gi', ''));
  const events = await claimEvents('huge', (m) => m.length > 0);
  t.same(events, ['Normal FailedBinding no persistent volumes available for this claim and no storage class is set']);
  t.equal((await cluster.client.get('PersistentVolumeClaim', 'huge', NS)).status?.phase, 'Pending');
  t.equal((await waitVolume('small', (v) => v?.status?.phase === 'Available'))?.status?.phase, 'Available', 'the small volume stays free');

  const bad = await cluster.client
    .create({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'broken' }, reclaimPolicy: 'Recycle', volumeBindingMode: 'Sometimes' } as KubeObject)
    .then(() => undefined, (e) => e as ApiError);
  t.equal(bad?.code, 422);
  t.same(bad?.causes.map((c) => c.field), ['provisioner', 'reclaimPolicy', 'volumeBindingMode']);
  t.equal(await cluster.client.find('StorageClass', 'broken'), undefined);
  const badClaim = await cluster.client.create({ ...claim('neg', '-1Gi'), spec: { accessModes: ['ReadWriteSometimes'], resources: { requests: { storage: '-1Gi' } } } }).then(() => undefined, (e) => e as ApiError);
  t.equal(badClaim?.code, 422);
  t.same(badClaim?.causes.map((c) => c.field), ['spec.accessModes', 'spec.resources.requests[storage]']);
  t.equal(await cluster.client.find('PersistentVolumeClaim', 'neg', NS), undefined);
});
