/**
 * Container probes end to end, on a real cluster (nats-server, control plane, 1 worker as OS
 * processes): an HTTP readiness probe holds a pod unready until its server says it is healthy,
 * a failing exec liveness probe gets the container restarted, a tcpSocket readiness probe on a
 * port nobody listens on keeps the pod unready. Asserted as a user sees it: the stored pod
 * status, Events, `kubeact get pods`. Synchronised on watch events with deadlines, never sleeps.
 */
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Container, KubeObject } from '../protocol/objects.js';
import { startCluster, waitForObject, waitForPodEvents, type TestCluster } from './helpers/cluster.js';

const NS = 'default';

let cluster: TestCluster;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeact-probes-test-'));

t.before(async () => {
  cluster = await startCluster({ nodes: 1, workerArgs: ['--backoff-initial-ms', '200'] });
});

t.teardown(async () => {
  await cluster?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

type Pod = KubeObject;

function podObject(name: string, container: Container, spec: Record<string, unknown> = {}): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS }, spec: { terminationGracePeriodSeconds: 2, ...spec, containers: [container] } };
}

const sleeper = (extra: Partial<Container> = {}): Container => ({ name: 'main', image: 'busybox:1.36', command: ['sh', '-c', 'exec sleep 600'], ...extra });

function waitPod(name: string, predicate: (pod: Pod | undefined) => boolean, timeoutMs = 15_000): Promise<Pod | undefined> {
  return waitForObject<Pod>(cluster.client, 'Pod', name, NS, predicate, timeoutMs);
}

const main = (pod: Pod | undefined) => pod?.status?.containerStatuses?.find((s: { name: string }) => s.name === 'main');
const condition = (pod: Pod | undefined, type: string) => pod?.status?.conditions?.find((c: { type: string }) => c.type === type);
const runningUnready = (pod: Pod | undefined) =>
  pod?.status?.phase === 'Running' && !!main(pod)?.state?.running && main(pod)?.ready === false && condition(pod, 'Ready')?.status === 'False';

/** The pod's Events once `predicate` holds for them (see waitForPodEvents). */
function waitForEvents(pod: Pod, predicate: (events: KubeObject[]) => boolean, timeoutMs = 10_000): Promise<KubeObject[]> {
  return waitForPodEvents(cluster.client, pod, predicate, timeoutMs);
}

const hasEvent = (events: KubeObject[], type: string, reason: string, message: string | RegExp, minCount = 1) =>
  events.some((e: any) => e.type === type && e.reason === reason && (typeof message === 'string' ? e.message === message : message.test(e.message)) && (e.count ?? 1) >= minCount);

/** The row of `kubeact get pods <name>` as columns (NAME READY STATUS RESTARTS AGE). */
async function getPodRow(name: string): Promise<string[]> {
  const res = await cluster.kubeact(['get', 'pods', name]);
  if (res.code !== 0) throw new Error(`kubeact get pods ${name} failed: ${res.stderr}`);
  const lines = res.stdout.trim().split('\n');
  if (!/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE/.test(lines[0])) throw new Error(`unexpected header: ${lines[0]}`);
  const row = lines.find((l) => l.split(/\s{2,}/)[0] === name);
  if (!row) throw new Error(`no row for ${name} in:\n${res.stdout}`);
  return row.split(/\s{2,}/);
}

async function create(pod: Pod): Promise<Pod> {
  return (await cluster.client.create(pod)) as Pod;
}

t.test('httpGet readiness: Running but not Ready until the server answers 200', async (t) => {
  const readyFile = path.join(work, 'web-ready');
  // Answers /healthz with 500 until $READY_FILE exists, then 200.
  const server = [
    "const fs = require('fs');",
    "require('http').createServer((req, res) => {",
    "  res.statusCode = req.url === '/healthz' && !fs.existsSync(process.env.READY_FILE) ? 500 : 200;",
    '  res.end();',
    '}).listen(8080, process.env.POD_IP);',
  ].join('\n');
  const created = await create(
    podObject('web', {
      name: 'main',
      image: 'node:20',
      command: [process.execPath, '-e', server],
      env: [{ name: 'READY_FILE', value: readyFile }],
      ports: [{ name: 'http', containerPort: 8080 }],
      readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 1 },
    }),
  );

  await waitForEvents(created, (evs) => hasEvent(evs, 'Warning', 'Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 500'));
  const pod = await waitPod('web', runningUnready);
  t.equal(pod?.status.phase, 'Running');
  t.match(condition(pod, 'Ready'), { status: 'False', reason: 'ContainersNotReady' });
  t.match(condition(pod, 'ContainersReady'), { status: 'False' });
  t.match(main(pod), { ready: false, started: true });
  const row = await getPodRow('web');
  t.equal(row[1], '0/1', 'READY 0/1');
  t.equal(row[2], 'Running');

  fs.writeFileSync(readyFile, '');
  const ready = await waitPod('web', (p) => condition(p, 'Ready')?.status === 'True');
  t.match(main(ready), { ready: true, started: true, restartCount: 0 });
  t.equal(condition(ready, 'ContainersReady')?.status, 'True');
  t.equal((await getPodRow('web'))[1], '1/1', 'READY 1/1');
});

t.test('exec liveness failing: the container is killed and restarted', async (t) => {
  const created = await create(
    podObject('liveness', sleeper({ livenessProbe: { exec: { command: ['sh', '-c', 'exit 1'] }, periodSeconds: 1, failureThreshold: 1 } })),
  );
  const events = await waitForEvents(
    created,
    (evs) =>
      hasEvent(evs, 'Warning', 'Unhealthy', 'Liveness probe failed: command "sh -c exit 1" exited with 1') &&
      hasEvent(evs, 'Normal', 'Killing', 'Container main failed liveness probe, will be restarted'),
    15_000,
  );
  t.ok(events.length > 0);
  const restarted = await waitPod('liveness', (p) => (main(p)?.restartCount ?? 0) >= 1);
  t.ok(main(restarted).restartCount >= 1, 'restartCount ≥ 1');
  t.equal(restarted?.status.phase, 'Running', 'restartPolicy Always: still Running');
});

t.test('tcpSocket readiness on a port nobody listens on keeps the pod unready', async (t) => {
  const created = await create(podObject('tcp', sleeper({ readinessProbe: { tcpSocket: { port: 5555 }, periodSeconds: 1 } })));
  const running = await waitPod('tcp', (p) => p?.status?.phase === 'Running' && !!p.status.podIP);
  const podIP = running!.status.podIP as string;
  await waitForEvents(created, (evs) => hasEvent(evs, 'Warning', 'Unhealthy', `Readiness probe failed: dial tcp ${podIP}:5555: connect: connection refused`, 2));
  const pod = await waitPod('tcp', (p) => p !== undefined);
  t.ok(runningUnready(pod), 'Running, Ready False after repeated failures');
  t.equal(main(pod).restartCount, 0, 'readiness never restarts');
  t.equal((await getPodRow('tcp'))[1], '0/1');
});
