/**
 * The scheduler's per-node index (actors/scheduler/node-info.ts): the decision read from running
 * totals agrees with the walk-every-pod decision it replaced (test/helpers/scheduler-reference.ts)
 * on random clusters, and the machine keeps the totals equal to a from-scratch count through
 * place, unplace, terminal, assumed → bound, failed binds, delete and recreate.
 */
import t from 'tap';
import { createActor, fromCallback, SimulatedClock, waitFor, type Actor } from 'xstate';
import type { Node, Pod } from '../protocol/objects.js';
import { ApiError, Reason } from '../protocol/errors.js';
import {
  addPod,
  keyOf,
  newNodeInfo,
  nodeUsage,
  podInfo,
  scheduleOnNodes,
  schedulePod,
  schedulerMachine,
  setNode,
  siblingCount,
  siblingCounter,
  type BindEvent,
  type BindPodInput,
  type NodeInfo,
  type PodInfo,
  type SchedulerContext,
} from '../actors/scheduler/index.js';
import { referenceSchedulePod } from './helpers/scheduler-reference.js';

/** mulberry32: a seeded generator, so a failure names the case that reproduces it. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] };
}
type Rng = ReturnType<typeof rng>;

function randomNode(r: Rng, name: string): Node {
  const taints = r.next() < 0.1 ? [{ key: r.pick(['gpu', 'spot']), value: 'true', effect: r.pick(['NoSchedule', 'NoExecute', 'PreferNoSchedule']) }] : undefined;
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, zone: r.pick(['a', 'b', 'c']) } },
    spec: { unschedulable: r.next() < 0.05 ? true : undefined, taints },
    status: {
      allocatable: { cpu: r.pick(['1', '2', '4', '1500m']), memory: r.pick(['1Gi', '4Gi', '8Gi']), pods: r.pick(['3', '10', '110']) },
      conditions: [{ type: 'Ready', status: r.next() < 0.05 ? r.pick(['False', 'Unknown']) : 'True' }],
    },
  };
}

const OWNERS = ['rs-a', 'rs-b', 'rs-c'];
const LABELS: (Record<string, string> | undefined)[] = [undefined, { app: 'web' }, { app: 'web', tier: 'front' }, { app: 'db' }];

function randomPod(r: Rng, name: string, opts: { nodeName?: string; namespace?: string } = {}): Pod {
  const owners = r.next() < 0.2 ? [] : r.next() < 0.15 ? [r.pick(OWNERS), r.pick(OWNERS)] : [r.pick(OWNERS)];
  const requests: Record<string, string> = {};
  if (r.next() < 0.8) requests.cpu = r.pick(['100m', '250m', '500m', '1']);
  if (r.next() < 0.7) requests.memory = r.pick(['64Mi', '256Mi', '1Gi']);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: opts.namespace ?? r.pick(['default', 'default', 'other']),
      uid: `uid-${name}-${r.int(1000)}`,
      resourceVersion: '1',
      labels: r.pick(LABELS),
      ownerReferences: owners.map((o) => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: o, uid: `uid-${o}` })),
    },
    spec: {
      nodeName: opts.nodeName,
      nodeSelector: r.next() < 0.1 ? { zone: r.pick(['a', 'b']) } : undefined,
      tolerations: r.next() < 0.1 ? [{ key: 'gpu', operator: 'Exists' }] : undefined,
      containers: [{ name: 'c', image: 'busybox', resources: { requests } }],
    },
    status: { phase: opts.nodeName ? r.pick(['Running', 'Running', 'Running', 'Succeeded', 'Failed']) : 'Pending' },
  };
}

t.test('decisions from the index equal the pod-walking decisions on random clusters', async (t) => {
  let compared = 0;
  for (let seed = 1; seed <= 150; seed++) {
    const r = rng(seed);
    const nodes = Array.from({ length: 1 + r.int(seed % 3 === 0 ? 260 : 40) }, (_, i) => randomNode(r, `n${i}`));
    const placed = Array.from({ length: r.int(nodes.length * 4) }, (_, i) => randomPod(r, `p${i}`, { nodeName: r.pick(nodes).metadata!.name }));
    const byNode = new Map<string, PodInfo[]>();
    for (const p of placed) byNode.set(p.spec!.nodeName!, [...(byNode.get(p.spec!.nodeName!) ?? []), podInfo(p)]);
    // The machine's form: NodeInfos built once, the pending pod possibly placed already under its key.
    const totals = new Map<string, number>();
    const infos = nodes.map((n) => {
      const ni = newNodeInfo(n.metadata!.name!);
      setNode(ni, n);
      for (const p of byNode.get(ni.name) ?? []) addPod(ni, `${p.namespace}/${p.name}`, p, totals);
      return ni;
    });
    for (let i = 0; i < 6; i++) {
      // Half the time the pod decided for is one of the placed ones (recreated, or its stale pending version).
      const pod = i % 2 && placed.length ? { ...randomPod(r, r.pick(placed).metadata!.name!), metadata: { ...r.pick(placed).metadata } } : randomPod(r, `new${i}`);
      const start = r.int(nodes.length * 2);
      const want = { evaluated: 0 };
      const got = { evaluated: 0 };
      const expected = referenceSchedulePod(pod, nodes, byNode, undefined, { start, stats: want });
      t.same(schedulePod(pod, nodes, byNode, undefined, { start, stats: got }), expected, `seed ${seed} pod ${i}: schedulePod`);
      t.equal(got.evaluated, want.evaluated, `seed ${seed} pod ${i}: nodes filtered`);
      const key = keyOf(pod);
      const mineOn = infos.find((ni) => ni.pods.has(key));
      const self = mineOn ? { node: mineOn, info: mineOn.pods.get(key)! } : undefined;
      t.same(scheduleOnNodes(pod, infos, totals, self, undefined, { start }), expected, `seed ${seed} pod ${i}: scheduleOnNodes`);
      compared++;
    }
  }
  t.equal(compared, 900);
});

t.test('sibling counts from workload groups equal counting the pods (owner or same labels, once)', async (t) => {
  const r = rng(7);
  let nonZero = 0;
  for (let n = 0; n < 200; n++) {
    // Two nodes sharing one set of cache-wide totals, as in the machine.
    const nodes = [newNodeInfo('n1'), newNodeInfo('n2')];
    const totals = new Map<string, number>();
    const pods = Array.from({ length: r.int(16) }, (_, i) => podInfo(randomPod(r, `p${i}`, { nodeName: 'n', namespace: r.pick(['default', 'other']) })));
    for (const p of pods) addPod(r.pick(nodes), `${p.namespace}/${p.name}`, p, totals);
    const pod = podInfo(randomPod(r, r.next() < 0.3 && pods.length ? r.pick(pods).name : 'x', { namespace: 'default' }));
    const key = `${pod.namespace}/${pod.name}`;
    const counter = siblingCounter(pod, totals);
    for (const ni of nodes) {
      const want = siblingCount(pod, ni.pods.values());
      if (want > 0) nonZero++;
      t.equal(counter(ni, ni.pods.get(key)), want, `case ${n} ${ni.name}`);
    }
  }
  t.ok(nonZero > 100, `cases with siblings: ${nonZero}`);
});

// ---------------------------------------------------------------------------------------
// The machine keeps the index in step with `placed`.

/** Differences between the machine's index and one counted from scratch out of `placed` and `nodes`. */
function indexProblems(ctx: SchedulerContext): string[] {
  const problems: string[] = [];
  const expected = new Map<string, NodeInfo>();
  const totals = new Map<string, number>();
  for (const [key, info] of Object.entries(ctx.placed)) {
    if (!info.nodeName) continue;
    if (!expected.has(info.nodeName)) expected.set(info.nodeName, newNodeInfo(info.nodeName));
    addPod(expected.get(info.nodeName)!, key, info, totals);
  }
  for (const name of Object.keys(ctx.nodes)) if (!expected.has(name)) expected.set(name, newNodeInfo(name));
  for (const [name, want] of expected) {
    const got = ctx.byNode.get(name);
    if (!got) {
      problems.push(`${name}: no NodeInfo`);
      continue;
    }
    if (got.node !== ctx.nodes[name]) problems.push(`${name}: node object differs`);
    if ([...got.pods.keys()].sort().join() !== [...want.pods.keys()].sort().join()) problems.push(`${name}: pods ${[...got.pods.keys()]} ≠ ${[...want.pods.keys()]}`);
    const usage = nodeUsage(want.pods.values());
    const totals = { requested: { cpu: got.requestedCpu, memory: got.requestedMemory }, scoreRequested: { cpu: got.scoreCpu, memory: got.scoreMemory }, pods: got.pods.size };
    if (JSON.stringify(totals) !== JSON.stringify(usage)) problems.push(`${name}: totals ${JSON.stringify(totals)} ≠ ${JSON.stringify(usage)}`);
    const groups = (m: Map<string, number>) => JSON.stringify([...m].sort());
    if (groups(got.groups) !== groups(want.groups)) problems.push(`${name}: groups ${groups(got.groups)} ≠ ${groups(want.groups)}`);
  }
  const sorted = (m: Map<string, number>) => JSON.stringify([...m].sort());
  if (sorted(ctx.groupTotals) !== sorted(totals)) problems.push(`group totals ${sorted(ctx.groupTotals)} ≠ ${sorted(totals)}`);
  for (const name of ctx.byNode.keys()) if (!expected.has(name)) problems.push(`${name}: a NodeInfo with no node and no pods`);
  if (ctx.nodeList && ctx.nodeList.map((ni) => ni.name).join() !== Object.keys(ctx.nodes).join()) problems.push('nodeList is not in `nodes` order');
  return problems;
}

function pod(name: string, opts: { uid?: string; nodeName?: string; phase?: string; cpu?: string; owner?: string; rv?: string } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      uid: opts.uid ?? `uid-${name}`,
      resourceVersion: opts.rv ?? '1',
      labels: { app: opts.owner ?? 'solo' },
      ownerReferences: opts.owner ? [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: opts.owner, uid: `uid-${opts.owner}` }] : undefined,
    },
    spec: { nodeName: opts.nodeName, containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: opts.cpu ?? '100m', memory: '64Mi' } } }] },
    status: { phase: opts.phase ?? (opts.nodeName ? 'Running' : 'Pending') },
  };
}

function node(name: string, cpu = '2'): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    status: { allocatable: { cpu, memory: '4Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

function harness(bind: (input: BindPodInput) => Promise<unknown> = async () => undefined) {
  const binds: BindPodInput[] = [];
  const actor = createActor(
    schedulerMachine.provide({
      actors: {
        // Runs `bind` for each bind it is told and answers each with its own BIND_RESULTS.
        binder: fromCallback<BindEvent>(({ sendBack, receive }) =>
          receive((ev) => {
            for (const input of ev.binds) {
              binds.push(input);
              bind(input).then(
                () => sendBack({ type: 'BIND_RESULTS', results: [input] }),
                (error) => sendBack({ type: 'BIND_RESULTS', results: [{ ...input, error }] }),
              );
            }
          }),
        ),
      },
    }),
    { clock: new SimulatedClock(), input: {} },
  ).start();
  return {
    actor,
    binds,
    send: (...events: Parameters<Actor<typeof schedulerMachine>['send']>[0][]) => events.forEach((e) => actor.send(e)),
    settle: () => waitFor(actor, (s) => s.context.queue.size === 0 && s.context.binding.size === 0),
    ctx: () => actor.getSnapshot().context,
  };
}

const usageOn = (ctx: SchedulerContext, name: string) => {
  const ni = ctx.byNode.get(name);
  return ni ? { cpu: ni.requestedCpu, pods: ni.pods.size } : undefined;
};

t.test('the index through place, assumed → bound, terminal, delete and recreate', async (t) => {
  const h = harness();
  h.send({ type: 'NODE_UPSERT', node: node('n1') });
  h.send({ type: 'POD_UPSERT', pod: pod('bound', { nodeName: 'n1', cpu: '300m' }) });
  t.same(usageOn(h.ctx(), 'n1'), { cpu: 300, pods: 1 }, 'a bound pod counts');

  h.send({ type: 'POD_UPSERT', pod: pod('web', { cpu: '500m', owner: 'rs' }) });
  await h.settle();
  t.same(h.binds.map((b) => b.nodeName), ['n1']);
  t.equal(h.ctx().byNode.get('n1')!.pods.get('default/web')!.assumed, true);
  t.same(usageOn(h.ctx(), 'n1'), { cpu: 800, pods: 2 }, 'an assumed pod counts at once');
  h.send({ type: 'POD_UPSERT', pod: pod('web', { cpu: '500m', owner: 'rs', nodeName: 'n1', rv: '2' }) });
  t.equal(h.ctx().byNode.get('n1')!.pods.get('default/web')!.assumed, undefined, 'its bound version replaces the assumption');
  t.same(usageOn(h.ctx(), 'n1'), { cpu: 800, pods: 2 }, 'counted once');
  t.same(h.ctx().byNode.get('n1')!.groups.get('odefault\0uid-rs'), 1, 'in its owner group');

  h.send({ type: 'POD_UPSERT', pod: pod('bound', { nodeName: 'n1', cpu: '300m', phase: 'Succeeded', rv: '2' }) });
  t.same(usageOn(h.ctx(), 'n1'), { cpu: 500, pods: 1 }, 'a terminated pod holds nothing');

  h.send({ type: 'POD_DELETE', namespace: 'default', name: 'web' });
  t.same(usageOn(h.ctx(), 'n1'), { cpu: 0, pods: 0 }, 'a deleted pod holds nothing');
  t.same([...h.ctx().byNode.get('n1')!.groups], [], 'and leaves no group behind');

  // Recreated under the same name on another node: only the new one counts.
  h.send({ type: 'NODE_UPSERT', node: node('n2') });
  h.send({ type: 'POD_UPSERT', pod: pod('db', { nodeName: 'n1', cpu: '1' }) });
  h.send({ type: 'POD_UPSERT', pod: pod('db', { nodeName: 'n2', cpu: '200m', uid: 'uid-db-2' }) });
  t.same([usageOn(h.ctx(), 'n1'), usageOn(h.ctx(), 'n2')], [{ cpu: 0, pods: 0 }, { cpu: 200, pods: 1 }]);

  // A node deleted with a pod still on it keeps its NodeInfo (no node) until the pod goes.
  h.send({ type: 'NODE_DELETE', name: 'n2' });
  t.equal(h.ctx().byNode.get('n2')?.node, undefined);
  t.same(usageOn(h.ctx(), 'n2'), { cpu: 200, pods: 1 });
  h.send({ type: 'POD_DELETE', namespace: 'default', name: 'db' });
  t.notOk(h.ctx().byNode.has('n2'), 'forgotten with its last pod');
  t.same(indexProblems(h.ctx()), []);
  h.actor.stop();
});

t.test('a failed bind and a recreate during the bind drop the assumption from the index', async (t) => {
  let fail = true;
  const gates: (() => void)[] = [];
  const h = harness(
    (input) =>
      new Promise((resolve, reject) => {
        gates.push(() => (fail && input.name === 'a' ? reject(new ApiError(Reason.Conflict, 'conflict')) : resolve(undefined)));
      }),
  );
  h.send({ type: 'NODE_UPSERT', node: node('n1') }, { type: 'POD_UPSERT', pod: pod('a', { cpu: '1' }) }, { type: 'POD_UPSERT', pod: pod('b', { cpu: '700m' }) });
  t.same(usageOn(h.ctx(), 'n1'), { cpu: 1700, pods: 2 }, 'both assumed while their binds run');
  // b is recreated (new uid) while its bind is in flight.
  h.send({ type: 'POD_UPSERT', pod: pod('b', { cpu: '700m', uid: 'uid-b-2' }) });
  t.same(usageOn(h.ctx(), 'n1'), { cpu: 1000, pods: 1 }, 'the recreated pod is no longer assumed');
  gates.splice(0).forEach((g) => g());
  fail = false;
  await new Promise((r) => setImmediate(r));
  t.notOk(h.ctx().byNode.get('n1')!.pods.has('default/a'), 'the failed bind is forgotten');
  t.same(indexProblems(h.ctx()), []);
  h.actor.stop();
});

t.test('random event sequences keep the index equal to a from-scratch count', async (t) => {
  for (let seed = 1; seed <= 12; seed++) {
    const r = rng(seed * 101);
    const h = harness(async (input) => {
      if (r.next() < 0.15) throw new ApiError(r.next() < 0.5 ? Reason.NotFound : Reason.Conflict, `bind ${input.name}`);
      // Half the bound versions come back before the bind answers (a watch can be quicker).
      if (r.next() < 0.5) queueMicrotask(() => h.send({ type: 'POD_UPSERT', pod: pod(input.name, { uid: input.uid, nodeName: input.nodeName, owner: owners.get(input.name), rv: '2' }) }));
      return undefined;
    });
    const owners = new Map<string, string | undefined>();
    const problems: string[] = [];
    let nodes = 0;
    for (let step = 0; step < 150; step++) {
      const name = `p${r.int(25)}`;
      const owner = r.pick(['rs-a', 'rs-b', undefined]);
      const bound = Object.values(h.ctx().placed);
      switch (r.int(8)) {
        case 0:
          h.send({ type: 'NODE_UPSERT', node: node(`n${nodes++ % 6}`, r.pick(['1', '2', '4'])) });
          break;
        case 1:
          if (r.next() < 0.3) h.send({ type: 'NODE_DELETE', name: `n${r.int(6)}` });
          break;
        case 2:
        case 3:
          owners.set(name, owner);
          h.send({ type: 'POD_UPSERT', pod: pod(name, { owner, uid: `uid-${name}-${r.int(3)}`, cpu: r.pick(['100m', '500m']) }) });
          break;
        case 4: {
          const p = bound.length ? r.pick(bound) : undefined;
          if (p) h.send({ type: 'POD_UPSERT', pod: pod(p.name, { uid: p.uid, nodeName: p.nodeName, owner: owners.get(p.name), phase: r.pick(['Running', 'Succeeded', 'Failed']), rv: '3' }) });
          break;
        }
        case 5:
          h.send({ type: 'POD_DELETE', namespace: 'default', name });
          break;
        case 6:
          owners.set(name, owner);
          h.send({ type: 'POD_UPSERT', pod: pod(name, { owner, nodeName: `n${r.int(6)}` }) }); // bound by someone else
          break;
        default:
          await h.settle();
      }
      if (r.next() < 0.5) await h.settle();
      for (const p of indexProblems(h.ctx())) problems.push(`seed ${seed} step ${step}: ${p}`);
    }
    await h.settle();
    t.same(problems.slice(0, 5), [], `seed ${seed}: ${h.binds.length} binds, ${Object.keys(h.ctx().placed).length} placed`);
    h.actor.stop();
  }
});

t.test('a BATCH applies its watch events in order, then decides on the state after all of them', async (t) => {
  const unschedulable: string[] = [];
  const binds: BindPodInput[] = [];
  const actor = createActor(
    schedulerMachine.provide({
      actors: {
        binder: fromCallback<BindEvent>(({ sendBack, receive }) =>
          receive((ev) => {
            binds.push(...ev.binds);
            sendBack({ type: 'BIND_RESULTS', results: ev.binds });
          }),
        ),
      },
      actions: { reportUnschedulable: (_, p) => void unschedulable.push(p.message) },
    }),
    { clock: new SimulatedClock(), input: {} },
  ).start();
  actor.send({
    type: 'BATCH',
    events: [
      { type: 'NODE_UPSERT', node: node('small', '500m') },
      { type: 'POD_UPSERT', pod: pod('web', { cpu: '1' }) }, // fits nowhere yet
      { type: 'POD_UPSERT', pod: pod('old', { nodeName: 'big', cpu: '1500m' }) },
      { type: 'NODE_UPSERT', node: node('big', '2') }, // now it fits, once `old` is gone
      { type: 'POD_DELETE', namespace: 'default', name: 'old' },
    ],
  });
  await waitFor(actor, (s) => s.context.binding.size === 0 && s.context.queue.size === 0);
  t.same(unschedulable, [], 'never decided on a half-applied batch');
  t.same(binds.map((b) => `${b.name}->${b.nodeName}`), ['web->big']);
  t.same(indexProblems(actor.getSnapshot().context), []);
  actor.stop();
});
