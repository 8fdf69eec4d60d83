/**
 * A mixed cluster end to end: node-1 runs the process runtime, node-2 the docker runtime
 * (real engine, locally imported image). Pods on the docker node run as containers, serve on
 * their pod IP, log, restart per policy, report a missing image, survive a kubelet restart
 * (adopted, not duplicated) and are removed with their pod; `down` leaves no container behind.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Docker from 'dockerode';
import { saveContext } from '../nodes/launcher/context.js';
import { launch } from '../nodes/launcher/up.js';
import { LABEL } from '../nodes/worker/runtime/docker-labels.js';
import type { Container, Node, Pod } from '../protocol/objects.js';
import { startCluster, waitForObject, waitForPodEvents } from './helpers/cluster.js';
import { getText as get } from './helpers/http.js';
import { BUSYBOX_IMAGE, withDocker } from './helpers/docker.js';
import { until } from './helpers/wait.js';

const docker = new Docker();

function dockerPod(name: string, container: Partial<Container>, spec: Partial<Pod['spec']> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: {
      nodeSelector: { 'kubernetes.io/hostname': 'node-2' },
      terminationGracePeriodSeconds: 5,
      containers: [{ name: 'main', image: BUSYBOX_IMAGE, ...container } as Container],
      ...spec,
    },
  } as Pod;
}

await withDocker(t, async () => {
  const cluster = await startCluster({ nodes: 2, runtimes: ['process', 'docker'], workerArgs: ['--backoff-initial-ms', '500', '--backoff-max-ms', '2000'] });
  t.teardown(cluster.stop);
  const { client, kubeact } = cluster;
  const dockerDir = path.resolve(cluster.ctx.processes.find((p) => p.name === 'node-2')!.dataDir!);
  const podContainers = (uid: string) =>
    docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${LABEL.scope}=${dockerDir}`, `${LABEL.podUid}=${uid}`] }) });
  const waitPod = (name: string, pred: (p: Pod | undefined) => boolean, ms = 60_000) => waitForObject<Pod>(client, 'Pod', name, 'default', pred, ms);
  const running = (p: Pod | undefined) => p?.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.ready === true;

  t.test('each node reports its runtime and version', async (t) => {
    const n1 = await client.get<Node>('Node', 'node-1');
    const n2 = await client.get<Node>('Node', 'node-2');
    t.match(n1.status?.nodeInfo?.containerRuntimeVersion, /^process:\/\//);
    t.match(n2.status?.nodeInfo?.containerRuntimeVersion, /^docker:\/\/\d+\.\d+/);
    const out = await kubeact(['get', 'nodes', '-o', 'wide']);
    t.match(out.stdout, /docker:\/\/\d/, '`get nodes -o wide` shows it');
  });

  t.test('a pod runs as a container, serves on its pod IP, and logs', async (t) => {
    await client.create(dockerPod('web', { command: ['sh', '-c', 'echo "serving on $POD_IP"; exec httpd -f -p $POD_IP:8080 -h /www'] }));
    const pod = await waitPod('web', running);
    const st = pod!.status!.containerStatuses![0];
    t.match(st.containerID, /^docker:\/\/[0-9a-f]{64}$/);
    const ip = pod!.status!.podIP!;
    const res = await until('the pod answering on its IP', () => get(`http://${ip}:8080/index.html`).catch(() => undefined), 30_000);
    t.equal(res.body, 'hello from kubeact-test/busybox\n');
    const logs = await until('logs', async () => {
      const r = await kubeact(['logs', 'web']);
      return r.stdout.includes('serving') && r;
    });
    t.equal(logs.stdout, `serving on ${ip}\n`);
    const list = await podContainers(pod!.metadata!.uid!);
    t.equal(list.length, 1);
    t.equal(`docker://${list[0].Id}`, st.containerID, 'the status names the engine container');
    t.equal(list[0].HostConfig.NetworkMode, 'host');
  });

  t.test('restartPolicy OnFailure restarts a failing container; logs --previous shows the last run', async (t) => {
    await client.create(dockerPod('crasher', { command: ['sh', '-c', 'echo "run at $(cat /proc/uptime)"; exit 2'] }, { restartPolicy: 'OnFailure' }));
    const pod = await waitPod('crasher', (p) => (p?.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 2);
    const st = pod!.status!.containerStatuses![0];
    t.match(st.lastState, { terminated: { exitCode: 2, reason: 'Error' } });
    const prev = await kubeact(['logs', 'crasher', '--previous']);
    t.equal(prev.code, 0, prev.stderr);
    t.match(prev.stdout, /^run at [\d.]+ [\d.]+\n$/);
    // Kubelet's container GC: at most the current and one dead instance stay.
    await until('old dead instances removed', async () => (await podContainers(pod!.metadata!.uid!)).length <= 2);
    t.pass('old dead instances are removed');
  });

  t.test('a missing image: ErrImagePull then ImagePullBackOff in the pod status, with the engine message', async (t) => {
    await client.create(dockerPod('noimage', { image: 'kubeact-test/not-there:1', command: ['true'] }));
    const errPull = await waitPod('noimage', (p) => p?.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ErrImagePull', 30_000);
    t.match(errPull!.status!.containerStatuses![0].state!.waiting!.message, /failed to pull image "kubeact-test\/not-there:1": Error response from daemon: .*No such image/);
    t.equal(errPull!.status!.phase, 'Pending');
    await waitPod('noimage', (p) => p?.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff', 30_000);
    const out = await until('`get pods` showing ImagePullBackOff or ErrImagePull', async () => {
      const r = await kubeact(['get', 'pod', 'noimage']);
      return /noimage\s+0\/1\s+(ImagePullBackOff|ErrImagePull)\s+0\s/.test(r.stdout) && r;
    });
    t.pass(out.stdout.trim().split('\n')[1]);
    await waitForPodEvents(client, errPull!, (evs) => evs.some((e: any) => e.reason === 'BackOff' && e.message === 'Back-off pulling image "kubeact-test/not-there:1"'), 30_000);
    t.equal((await podContainers(errPull!.metadata!.uid!)).length, 0, 'no container was created');
  });

  t.test('a restarted kubelet adopts the running container: same container, no duplicate', async (t) => {
    const before = await client.get<Pod>('Pod', 'web');
    const id = before.status!.containerStatuses![0].containerID;
    const record = cluster.ctx.processes.find((p) => p.name === 'node-2')!;
    process.kill(record.pid, 'SIGKILL');
    await until('the old kubelet gone', () => {
      try {
        process.kill(record.pid, 0);
        return false;
      } catch {
        return true;
      }
    });
    const engineId = id!.slice('docker://'.length);
    t.equal((await docker.getContainer(engineId).inspect()).State.Running, true, 'the container outlives its kubelet');
    const again = launch('worker', record.name, record.argv![1], record.argv!.slice(2), path.dirname(record.log));
    record.pid = again.pid;
    saveContext(cluster.ctx);
    const log = path.join(path.dirname(record.log), `${record.name}.log`);
    await until('the new kubelet adopted the container', async () => {
      return readFileSync(log, 'utf8').includes('adopted a running container');
    }, 60_000);
    const after = await waitPod('web', (p) => running(p) && p!.status!.containerStatuses![0].containerID === id);
    t.equal(after!.status!.containerStatuses![0].containerID, id, 'same container id');
    const list = await podContainers(before.metadata!.uid!);
    t.same(list.map((c) => c.Id), [engineId], 'exactly one container for the pod');
    const res = await get(`http://${after!.status!.podIP}:8080/index.html`);
    t.equal(res.status, 200, 'still serving');
  });

  t.test('deleting a pod stops its container within the grace period and removes it', async (t) => {
    const pod = await client.get<Pod>('Pod', 'web');
    const t0 = Date.now();
    await client.delete('Pod', 'web', { namespace: 'default' });
    await waitPod('web', (p) => p === undefined, 30_000);
    t.ok(Date.now() - t0 < 20_000, `gone in ${Date.now() - t0} ms`);
    await until('its container removed', async () => (await podContainers(pod.metadata!.uid!)).length === 0);
    t.pass('no container left for the pod');
  });

  t.test('kubeact down removes every container of the cluster', async (t) => {
    await client.create(dockerPod('leftover', { command: ['sleep', '300'] }));
    await waitPod('leftover', running);
    await cluster.stop();
    const left = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${LABEL.scope}=${dockerDir}`] }) });
    t.equal(left.length, 0);
  });
});
