/**
 * Pod volumes on a real cluster with the process runtime (containers run in their own mount
 * namespace, volumes bind-mounted on their paths): an emptyDir shared by two containers and gone
 * with the pod, readOnly and subPath, configMap/secret volumes (items, modes, the `..data` swap)
 * and a ConfigMap change seen by a running pod, hostPath type checks.
 */
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Container, KubeObject } from '../protocol/objects.js';
import { startCluster, waitForObject, type TestCluster } from './helpers/cluster.js';

const NS = 'default';
let cluster: TestCluster;
// Mount points: created on the host by the runtime (empty) when missing; kept in a directory of this test.
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeact-volumes-test-'));

t.before(async () => {
  cluster = await startCluster({ nodes: 1, workerArgs: ['--backoff-initial-ms', '300', '--backoff-max-ms', '1000'] });
});
t.teardown(async () => {
  await cluster?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

const at = (...p: string[]) => path.join(work, ...p);
const sh = (name: string, script: string, extra: Partial<Container> = {}): Container => ({ name, image: 'busybox:1.36', command: ['sh', '-c', script], ...extra });
const podOf = (name: string, containers: Container[], volumes: unknown[], restartPolicy = 'Never'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: NS },
  spec: { containers, volumes, restartPolicy },
});
const waitPod = (name: string, predicate: (p: KubeObject | undefined) => boolean, timeoutMs = 40_000) => waitForObject(cluster.client, 'Pod', name, NS, predicate, timeoutMs);

async function logs(pod: string, container?: string): Promise<string> {
  const p = await cluster.client.get('Pod', pod, NS);
  return (await cluster.client.logs(p.spec.nodeName, { namespace: NS, pod, container })).text;
}

/** Waits (on a deadline) until the container's log satisfies `ok`. */
async function waitLogs(pod: string, ok: (text: string) => boolean, container?: string, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < deadline) {
    text = await logs(pod, container).catch(() => '');
    if (ok(text)) return text;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`logs of ${pod} never matched; last: ${JSON.stringify(text)}`);
}

/** The kubelet's directory of a pod (`<worker data dir>/kubelet/pods/<uid>`), found by uid under the cluster's home. */
function podDirs(uid: string): string[] {
  const out: string[] = [];
  const walk = (d: string, depth: number) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory() && e.name === uid && path.basename(d) === 'pods' && path.basename(path.dirname(d)) === 'kubelet') out.push(p);
      else if (e.isDirectory() && depth < 6) walk(p, depth + 1);
    }
  };
  walk(cluster.home, 0);
  return out;
}

t.test('two containers share an emptyDir; it exists only inside the pod and is removed with it', async (t) => {
  const shared = at('emptydir', 'shared');
  await cluster.client.create(
    podOf(
      'share',
      [
        sh('writer', `echo "hello from writer" > ${shared}/msg; sleep 30`, { volumeMounts: [{ name: 'scratch', mountPath: shared }] }),
        sh('reader', `while [ ! -s ${shared}/msg ]; do sleep 0.1; done; cat ${shared}/msg; sleep 30`, { volumeMounts: [{ name: 'scratch', mountPath: shared }] }),
      ],
      [{ name: 'scratch', emptyDir: {} }],
    ),
  );
  const running = await waitPod('share', (p) => p?.status?.phase === 'Running');
  t.equal(await waitLogs('share', (s) => s.includes('hello'), 'reader'), 'hello from writer\n', 'the reader sees what the writer wrote');
  t.same(fs.readdirSync(shared), [], 'the host sees only the (empty) mount point: the mount is private to the pod');
  const uid = running!.metadata!.uid!;
  const [dir] = podDirs(uid);
  t.ok(dir, 'the kubelet keeps the pod directory');
  const volume = path.join(dir, 'volumes', 'kubernetes.io~empty-dir', 'scratch');
  t.equal(fs.readFileSync(path.join(volume, 'msg'), 'utf8'), 'hello from writer\n', 'the data lives in the emptyDir on the node');

  await cluster.client.delete('Pod', 'share', { namespace: NS, gracePeriodSeconds: 1 });
  await waitPod('share', (p) => p === undefined);
  t.notOk(fs.existsSync(volume), 'the emptyDir is gone with the pod');
  t.same(podDirs(uid), []);
});

t.test('readOnly mounts refuse writes; subPath mounts a directory inside the volume', async (t) => {
  const ro = at('ro', 'data');
  const sub = at('sub', 'only-b');
  await cluster.client.create(
    podOf(
      'romount',
      [
        sh('init', `mkdir -p ${at('rw')}/b && echo in-b > ${at('rw')}/b/file && echo top > ${at('rw')}/top; touch ${at('rw')}/done; sleep 30`, {
          volumeMounts: [{ name: 'v', mountPath: at('rw') }],
        }),
        sh('check', `while [ ! -e ${sub}/file ]; do sleep 0.1; done; if (echo x > ${ro}/new) 2>/dev/null; then echo WROTE; else echo READONLY; fi; ls ${sub}; cat ${ro}/top; sleep 30`, {
          volumeMounts: [
            { name: 'v', mountPath: ro, readOnly: true },
            { name: 'v', mountPath: sub, subPath: 'b' },
          ],
        }),
      ],
      [{ name: 'v', emptyDir: {} }],
    ),
  );
  t.equal(await waitLogs('romount', (s) => s.split('\n').length >= 4, 'check'), 'READONLY\nfile\ntop\n');
  await cluster.client.delete('Pod', 'romount', { namespace: NS, gracePeriodSeconds: 0 });
});

t.test('configMap and secret volumes: keys as files, items/paths, modes; a change reaches the running pod', async (t) => {
  await cluster.client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web-config', namespace: NS }, data: { greeting: 'hello v1', extra: 'x' } } as KubeObject);
  await cluster.client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'web-secret', namespace: NS }, stringData: { token: 't0k3n' } } as KubeObject);
  const cfg = at('cfg', 'etc');
  const sec = at('cfg', 'secret');
  const script = [
    `ls -A ${cfg}`,
    `stat -c '%a' ${sec}/creds/token.txt`,
    `cat ${sec}/creds/token.txt; echo`,
    'last=""',
    `while true; do now=$(cat ${cfg}/greeting); if [ "$now" != "$last" ]; then echo "greeting=$now"; last=$now; fi; sleep 0.2; done`,
  ].join('; ');
  await cluster.client.create(
    podOf(
      'cfgpod',
      [
        sh('main', script, {
          volumeMounts: [
            { name: 'config', mountPath: cfg },
            { name: 'secret', mountPath: sec, readOnly: true },
          ],
        }),
      ],
      [
        { name: 'config', configMap: { name: 'web-config' } },
        { name: 'secret', secret: { secretName: 'web-secret', defaultMode: 0o400, items: [{ key: 'token', path: 'creds/token.txt' }] } },
      ],
    ),
  );
  const first = await waitLogs('cfgpod', (s) => s.includes('greeting=hello v1'));
  const [stamp, ...rest] = first.split('\n');
  t.match(stamp, /^\.\.\d{4}_\d\d_\d\d_/, 'the timestamped directory ..data points to');
  t.equal(rest.join('\n'), '..data\nextra\ngreeting\n400\nt0k3n\ngreeting=hello v1\n', 'the ..data link, one entry per key; the item at its path with its mode');

  await cluster.client.modify('ConfigMap', 'web-config', NS, (cm: any) => void (cm.data.greeting = 'hello v2'));
  t.match(await waitLogs('cfgpod', (s) => s.includes('greeting=hello v2')), /greeting=hello v1\ngreeting=hello v2\n$/, 'the running container reads the new value');
  await cluster.client.delete('Pod', 'cfgpod', { namespace: NS, gracePeriodSeconds: 0 });
});

t.test('hostPath: the host directory itself; a failed type check keeps the container waiting with the reason', async (t) => {
  const host = at('host-dir');
  fs.mkdirSync(host);
  fs.writeFileSync(path.join(host, 'from-host'), 'host data\n');
  const mnt = at('hostpath', 'mnt');
  await cluster.client.create(
    podOf('hostpod', [sh('main', `cat ${mnt}/from-host; echo written > ${mnt}/from-pod`, { volumeMounts: [{ name: 'h', mountPath: mnt }] })], [{ name: 'h', hostPath: { path: host, type: 'Directory' } }]),
  );
  await waitPod('hostpod', (p) => p?.status?.phase === 'Succeeded');
  t.equal(await logs('hostpod'), 'host data\n');
  t.equal(fs.readFileSync(path.join(host, 'from-pod'), 'utf8'), 'written\n', 'what the pod writes is on the host');

  await cluster.client.create(podOf('badhost', [sh('main', 'true', { volumeMounts: [{ name: 'h', mountPath: mnt }] })], [{ name: 'h', hostPath: { path: at('nope'), type: 'Directory' } }]));
  const waiting = await waitPod('badhost', (p) => p?.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerConfigError');
  t.equal(waiting?.status.containerStatuses[0].state.waiting.message, `MountVolume.SetUp failed for volume "h" : hostPath type check failed: ${at('nope')} does not exist`);
  fs.mkdirSync(at('nope'));
  await waitPod('badhost', (p) => p?.status?.phase === 'Succeeded');
  t.pass('runs once the directory exists');
});

t.test('data written through a claim survives the pod and is read by the next one (claim bound by spec.volumeName)', async (t) => {
  const disk = at('pv-disk');
  fs.mkdirSync(disk);
  await cluster.client.create({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'disk-1' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: disk } } } as KubeObject);
  await cluster.client.create({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'data', namespace: NS },
    // storageClassName "" (no class), as in Kubernetes: without it the default class is set and the volume (no class) would not match.
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '100Mi' } }, volumeName: 'disk-1', storageClassName: '' },
  } as KubeObject);
  const mnt = at('pvc', 'data');
  const claimVolume = [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }];
  await cluster.client.create(podOf('first', [sh('main', `echo "written by first" > ${mnt}/note`, { volumeMounts: [{ name: 'd', mountPath: mnt }] })], claimVolume));
  await waitPod('first', (p) => p?.status?.phase === 'Succeeded');
  await cluster.client.delete('Pod', 'first', { namespace: NS });
  await waitPod('first', (p) => p === undefined);

  await cluster.client.create(podOf('second', [sh('main', `cat ${mnt}/note`, { volumeMounts: [{ name: 'd', mountPath: mnt }] })], claimVolume));
  await waitPod('second', (p) => p?.status?.phase === 'Succeeded');
  t.equal(await logs('second'), 'written by first\n');
  t.equal(fs.readFileSync(path.join(disk, 'note'), 'utf8'), 'written by first\n', 'the data is in the volume directory');

  await cluster.client.create(podOf('noclaim', [sh('main', 'true', { volumeMounts: [{ name: 'd', mountPath: mnt }] })], [{ name: 'd', persistentVolumeClaim: { claimName: 'absent' } }]));
  // As kube-scheduler's VolumeBinding: a pod whose claim does not exist is not scheduled.
  const pending = await waitPod('noclaim', (p) => p?.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'PodScheduled' && c.status === 'False'));
  t.match(pending?.status.conditions.find((c: { type: string }) => c.type === 'PodScheduled').message, /^0\/\d+ nodes are available: persistentvolumeclaim "absent" not found\.$/);

  await cluster.client.waitFor('PersistentVolumeClaim', 'data', NS, (c) => c?.status?.phase === 'Bound', 60_000);
  const out = await cluster.kubeact(['get', 'pv,pvc']);
  t.equal(out.code, 0, out.stderr);
  t.match(out.stdout, new RegExp(`^NAME\\s+CAPACITY\\s+ACCESS MODES\\s+RECLAIM POLICY\\s+STATUS\\s+CLAIM\\s+STORAGECLASS\\s+VOLUMEATTRIBUTESCLASS\\s+REASON\\s+AGE\\ndisk-1\\s+1Gi\\s+RWO\\s+Retain\\s+Bound\\s+${NS}/data\\s+`));
  t.match(out.stdout, /NAME\s+STATUS\s+VOLUME\s+CAPACITY\s+ACCESS MODES\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+AGE\ndata\s+Bound\s+disk-1\s+1Gi\s+RWO\s+/);
});
