/**
 * The playground's storage step: a claim of the default `local-path` class waits for its first
 * consumer; a one-replica Deployment's pod gets a directory provisioned on its node and writes a
 * line into it; the pod is deleted and its replacement reads the same data (and adds its line).
 */
import path from 'node:path';
import type { ApiClient } from '../protocol/client.js';
import type { KubeObject, Pod } from '../protocol/objects.js';
import { check, type Narrator } from './narrator.js';

export interface StorageStepsOptions {
  n: Narrator;
  client: ApiClient;
  kubeact(args: string[], opts?: { expectFail?: boolean }): Promise<string>;
  /** Where the process runtime's mount point goes (a host path: see README, process runtime mapping). */
  workDir: string;
}

async function runningPod(client: ApiClient, exclude?: string): Promise<Pod> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const pods = (await client.list<Pod>('Pod', { namespace: 'default', labelSelector: 'app=notes' })).items;
    const p = pods.find((x) => x.status?.phase === 'Running' && !x.metadata?.deletionTimestamp && x.metadata?.uid !== exclude);
    if (p) return p;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no running pod of the notes Deployment');
}

async function logLines(client: ApiClient, pod: Pod, lines: number): Promise<string> {
  const deadline = Date.now() + 15_000;
  let text = '';
  while (Date.now() < deadline) {
    text = (await client.logs(pod.spec!.nodeName!, { namespace: 'default', pod: pod.metadata!.name! }).catch(() => ({ text: '' }))).text;
    if (text.split('\n').length > lines) return text;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the logs of ${pod.metadata?.name} did not show ${lines} line(s): ${JSON.stringify(text)}`);
}

export async function storageSteps({ n, client, kubeact, workDir }: StorageStepsOptions): Promise<void> {
  await n.step('Storage: a local-path claim, a Deployment writing into it; its replacement pod reads the same data', async () => {
    await kubeact(['get', 'storageclass']);
    await client.create({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'notes', namespace: 'default' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '16Mi' } } },
    });
    const mnt = path.join(workDir, 'notes');
    await client.create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'notes', namespace: 'default' },
      spec: {
        selector: { matchLabels: { app: 'notes' } },
        template: {
          metadata: { labels: { app: 'notes' } },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', `echo "written by $HOSTNAME" >> ${mnt}/notes.txt; cat ${mnt}/notes.txt; exec sleep 3600`], volumeMounts: [{ name: 'data', mountPath: mnt }] }],
            volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'notes' } }],
          },
        },
      },
    } as KubeObject);
    const first = await runningPod(client);
    await kubeact(['get', 'pvc,pv']);
    const claim = await client.get('PersistentVolumeClaim', 'notes', 'default');
    check(claim.status?.phase === 'Bound', `the claim is ${claim.status?.phase}, not Bound`);
    n.say(`provisioned ${claim.spec.volumeName} on ${first.spec!.nodeName} (the node of the first pod using it)`);
    await logLines(client, first, 1);
    await kubeact(['delete', 'pod', first.metadata!.name!]);
    const second = await runningPod(client, first.metadata!.uid);
    const text = await logLines(client, second, 2);
    n.say(`${second.metadata!.name} logs: ${text.trim().split('\n').join(' | ')}`);
    check(text.startsWith(`written by ${first.metadata!.name}\n`), 'the replacement did not read what the first pod wrote');
    // Cleanup (the claim goes once the pod has; local-path's Delete policy then removes the directory).
    await client.delete('Deployment', 'notes', { namespace: 'default' });
    await client.delete('PersistentVolumeClaim', 'notes', { namespace: 'default' });
  });
}
