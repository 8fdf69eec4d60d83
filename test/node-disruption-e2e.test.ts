/**
 * Master disruption mode on a real cluster: when every node stops renewing at once (here the
 * only one, SIGKILLed), the node-lifecycle controller marks it unreachable but evicts nothing,
 * as kube-controller-manager does — the pods stay bound, waiting for their node.
 * Control plane defaults: node-monitor grace 3 s, eviction toleration 1 s.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import type { KubeObject } from '../protocol/objects.js';
import { startCluster, waitForObject, type TestCluster } from './helpers/cluster.js';

const UNREACHABLE = 'node.kubernetes.io/unreachable';
let cluster: TestCluster;

t.before(async () => {
  cluster = await startCluster({ nodes: 1, controlPlaneArgs: [] });
});
t.teardown(() => cluster?.stop());

/** Waits (with a deadline) until a line of the file matches. */
async function untilLogLine(file: string, pattern: RegExp, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = readFileSync(file, 'utf8').split('\n').find((l) => pattern.test(l));
    if (line) return line;
    if (Date.now() > deadline) throw new Error(`no line matching ${pattern} in ${file} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

t.test('the only node lost: unreachable, but its pod is not evicted', async (t) => {
  const { client } = cluster;
  await client.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'stays', namespace: 'default' },
    spec: { containers: [{ name: 'main', image: 'busybox:1.36', command: ['sleep', '3600'] }], terminationGracePeriodSeconds: 1 },
  });
  const running = await waitForObject(client, 'Pod', 'stays', 'default', (p) => p?.status?.phase === 'Running', 60_000);
  const worker = cluster.ctx.processes.find((p) => p.role === 'worker')!;
  t.equal(running?.spec?.nodeName, worker.name);

  process.kill(worker.pid, 'SIGKILL');
  const node = await waitForObject(client, 'Node', worker.name, undefined, (n) => Boolean((n as KubeObject | undefined)?.spec?.taints?.some((x: { key: string }) => x.key === UNREACHABLE)), 60_000);
  t.ok(node, 'the node is tainted unreachable');

  // The controller's decision is made on its first eviction attempt (after the 1 s toleration)
  // and logged; from then on the pod must still be there, bound to its node, not terminating.
  const cp = cluster.ctx.processes.find((p) => p.role === 'control-plane')!;
  const line = await untilLogLine(cp.log, /Entering master disruption mode/, 60_000);
  t.match(line, /all Nodes are not-Ready/);
  const pod = await client.get('Pod', 'stays', 'default');
  t.ok(pod, 'the pod still exists');
  t.equal(pod?.spec?.nodeName, worker.name, 'still bound to its node');
  t.notOk(pod?.metadata?.deletionTimestamp, 'not being deleted');
  t.notOk(readFileSync(cp.log, 'utf8').includes('evicted pod from unreachable node'), 'no eviction logged');
});
