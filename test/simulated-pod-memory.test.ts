/**
 * What a simulated pod keeps alive (issue 9: 100,000 pods on one host). A pod's worker and actor
 * hold the latest pod object only: the first one the kubelet was handed (and with it the message
 * it was decoded from) must be collectable once a newer one came. A real nats-server and API
 * server, a kubelet in this process on the simulated runtime; the heap is collected with V8's gc.
 */
import t from 'tap';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Kubelet } from '../nodes/worker/kubelet.js';
import type { Pod } from '../protocol/objects.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';
import { allocateBlock } from './helpers/blocks.js';
import { startSimulatedKubelet } from './helpers/sim-kubelet.js';
import { until } from './helpers/wait.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const block = allocateBlock();
let api: TestApiServer;
let kubelet: Kubelet;
t.before(async () => {
  api = await startTestApiServer({ serviceCidr: block.serviceNetwork });
  kubelet = await startSimulatedKubelet(api, block, 'memory-node', { sharedResync: true });
});
t.teardown(async () => {
  await kubelet?.stop();
  await api?.stop();
  block.release();
});

const podObject = (resourceVersion: string): Pod =>
  ({
    apiVersion: 'v1',
    kind: 'Pod',
    // Not in the store: the kubelet is handed it as a relist would (its status writes find no object).
    metadata: { name: 'kept', namespace: 'default', uid: 'a1b2c3d4-0000-4000-8000-000000000001', resourceVersion },
    spec: { nodeName: 'memory-node', containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.9' }] },
  }) as Pod;

/** Hands the kubelet its first object of the pod; returns only a weak reference to it. */
function handFirst(): WeakRef<Pod> {
  const first = podObject('10');
  kubelet.syncListed(first);
  return new WeakRef(first);
}

t.test("a running pod's worker and actor keep the latest pod object, not the first", async (t) => {
  const first = handFirst();
  const worker = await until('the pod Running', () => [...kubelet.pods()].find((w) => w.status?.phase === 'Running'));
  kubelet.syncListed(podObject('11'));
  t.equal(worker.object.metadata?.resourceVersion, '11', 'the worker has the newer object');
  await new Promise((r) => setImmediate(r));
  for (let i = 0; i < 3; i++) gc();
  t.equal(first.deref(), undefined, 'the first object was collected');
});
