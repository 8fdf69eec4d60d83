/**
 * The host-wide bound on pod status writes (nodes/worker/status-write-limiter.ts), with simulated
 * nodes in this process against a real nats-server and API server. A monitor connection sees
 * every pod updateStatus request and its reply, so it counts the writes in flight as the API
 * server sees them. While the test itself holds every slot (as other writers would), the pods
 * start and reach Running but write nothing; once the slots are free, each pod writes exactly
 * once — its latest status, Running (what it published while waiting collapsed into it) — never
 * more than LIMIT at once, and every pod ends Running in the store.
 */
import t from 'tap';
import { decode } from '../protocol/codec.js';
import type { KubeObject, Pod } from '../protocol/objects.js';
import { subjects } from '../protocol/subjects.js';
import { silentLogger } from '../nodes/shared/logger.js';
import { SimulatedNodes } from '../nodes/worker/simulated-nodes.js';
import { StatusWriteLimiter } from '../nodes/worker/status-write-limiter.js';
import { allocateBlock } from './helpers/blocks.js';
import { startTestApiServer } from './helpers/apiserver.js';
import { until } from './helpers/wait.js';

const LIMIT = 2;
const NODES = 3;
const PODS = 60;

const block = allocateBlock();
t.teardown(() => block.release());
const api = await startTestApiServer({ serviceCidr: block.serviceNetwork });
t.teardown(() => api.stop());
const monitorNc = await api.nats.connect();
t.teardown(() => monitorNc.close());

/** Pod updateStatus requests seen: pod name and phase written, in order; and the writes in flight. */
const writes: { pod: string; phase?: string }[] = [];
const open = new Set<string>();
let maxOpen = 0;
monitorNc.subscribe(subjects.api('updateStatus', 'pods'), {
  callback: (_err, msg) => {
    const body = decode<{ object?: KubeObject }>(msg.data);
    writes.push({ pod: body.object?.metadata?.name ?? '?', phase: body.object?.status?.phase as string | undefined });
    if (msg.reply) open.add(msg.reply);
    maxOpen = Math.max(maxOpen, open.size);
  },
});
// Replies travel to the requester's inbox: nats-server hands the monitor each reply before the requester sees it.
monitorNc.subscribe('_INBOX.>', { callback: (_err, msg) => void open.delete(msg.subject) });
await monitorNc.flush();

const hosts = new SimulatedNodes({
  nc: api.nc,
  logger: silentLogger(),
  count: NODES,
  namePrefix: 'limit-node-',
  nodeNetwork: block.nodeNetwork,
  podNetwork: block.podNetwork,
  podPrefix: 26,
  metricsMs: 0,
  tuning: { statusCoalesceMs: 0 },
  statusWritesInflight: LIMIT,
});
t.teardown(() => hosts.stop());

t.test('status writes wait for a slot, hold only the latest status, and never exceed the bound', async (t) => {
  await hosts.start();
  const limiter = hosts.statusWrites as StatusWriteLimiter;
  t.equal(limiter.limit, LIMIT);
  const held = await Promise.all(Array.from({ length: LIMIT }, () => limiter.acquire()));
  const names = Array.from({ length: PODS }, (_, i) => `limited-${i}`);
  await Promise.all(
    names.map((name, i) =>
      api.client.create<Pod>({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: 'default' },
        spec: { nodeName: `limit-node-${1 + (i % NODES)}`, containers: [{ name: 'c', image: 'sim' }] },
      } as Pod),
    ),
  );
  const workers = () => hosts.kubelets.flatMap((k) => [...k.pods()]);
  await until('every pod actor running (its status not written: no slot)', () => workers().length === PODS && workers().every((w) => w.status?.phase === 'Running'));
  t.equal(writes.length, 0, 'no pod wrote while every slot was taken');
  t.equal(limiter.stats().waiting, PODS, 'one waiter per pod, however many statuses it published');
  for (const release of held) release();
  const stored = await until('every pod Running in the store', async () => {
    const pods = (await api.client.list<Pod>('Pod', { namespace: 'default' })).items;
    return pods.length === PODS && pods.every((p) => p.status?.phase === 'Running') && pods;
  });
  t.equal(stored.length, PODS);
  t.ok(maxOpen >= 1 && maxOpen <= LIMIT, `at most ${LIMIT} writes in flight at the API server (saw ${maxOpen})`);
  t.ok(limiter.stats().peak <= LIMIT, `the limiter's own peak: ${limiter.stats().peak}`);
  const perPod = new Map<string, string[]>();
  for (const w of writes) perPod.set(w.pod, [...(perPod.get(w.pod) ?? []), w.phase ?? '?']);
  t.same([...perPod.keys()].sort(), [...names].sort(), 'every pod wrote');
  t.ok([...perPod.values()].every((phases) => phases.length === 1 && phases[0] === 'Running'), 'each pod wrote once, its latest status (Running)');
  t.same(limiter.stats(), { inFlight: 0, waiting: 0, peak: limiter.stats().peak }, 'every slot was given back');
});
