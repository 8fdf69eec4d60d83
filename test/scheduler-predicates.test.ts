import t from 'tap';
import type { Node, Pod } from '../protocol/objects.js';
import {
  filterNode,
  nodeUsage,
  numFeasibleNodesToFind,
  podInfo,
  podRequests,
  schedulePod,
  unschedulableMessage,
  type PodInfo,
} from '../actors/scheduler/index.js';

function node(name: string, opts: { cpu?: string; memory?: string; pods?: string; labels?: Record<string, string>; ready?: 'True' | 'False' | 'Unknown'; unschedulable?: boolean } = {}): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...opts.labels } },
    spec: opts.unschedulable ? { unschedulable: true } : {},
    status: {
      allocatable: { cpu: opts.cpu ?? '2', memory: opts.memory ?? '4Gi', pods: opts.pods ?? '110' },
      conditions: [{ type: 'Ready', status: opts.ready ?? 'True' }],
    },
  };
}

function pod(name: string, opts: { cpu?: string; memory?: string; limitsOnly?: boolean; nodeName?: string; phase?: string; nodeSelector?: Record<string, string>; labels?: Record<string, string>; owner?: string } = {}): Pod {
  const res: Record<string, string> = {};
  if (opts.cpu) res.cpu = opts.cpu;
  if (opts.memory) res.memory = opts.memory;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      labels: opts.labels,
      ownerReferences: opts.owner ? [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: opts.owner, uid: `uid-${opts.owner}`, controller: true }] : undefined,
    },
    spec: {
      nodeName: opts.nodeName,
      nodeSelector: opts.nodeSelector,
      containers: [{ name: 'c', image: 'busybox', resources: opts.limitsOnly ? { limits: res } : { requests: res } }],
    },
    status: { phase: opts.phase ?? 'Pending' },
  };
}

/** Groups pods by spec.nodeName. */
function byNode(pods: Pod[]): Map<string, PodInfo[]> {
  const m = new Map<string, PodInfo[]>();
  for (const p of pods) {
    const info = podInfo(p);
    if (!info.nodeName) continue;
    m.set(info.nodeName, [...(m.get(info.nodeName) ?? []), info]);
  }
  return m;
}

t.test('mixed failures: counted and worded like kube-scheduler', async (t) => {
  // Two nodes too small, one with the wrong labels. kube-scheduler sorts the histogram
  // entries as whole strings ("<count> <reason>", Go sort.Strings), so the count leads.
  const p2 = pod('big2', { cpu: '2', nodeSelector: { zone: 'a' } });
  const nodes2 = [node('n1', { cpu: '1', labels: { zone: 'a' } }), node('n2', { cpu: '1', labels: { zone: 'a' } }), node('n3', { cpu: '8', labels: { zone: 'b' } })];
  t.same(schedulePod(p2, nodes2, new Map()), {
    unschedulable: "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 Insufficient cpu.",
  });

  // Same counts: ordered by the reason text (byte order: upper case first).
  t.equal(
    unschedulableMessage(3, [['Insufficient cpu'], ["node(s) didn't match Pod's node affinity/selector"], ['Too many pods']]),
    "0/3 nodes are available: 1 Insufficient cpu, 1 Too many pods, 1 node(s) didn't match Pod's node affinity/selector.",
  );
  // One node may give several resource reasons, each counted.
  t.equal(
    unschedulableMessage(2, [['Insufficient cpu', 'Insufficient memory'], ['Insufficient memory']]),
    '0/2 nodes are available: 1 Insufficient cpu, 2 Insufficient memory.',
  );
});

t.test('no nodes', async (t) => {
  t.same(schedulePod(pod('web'), [], new Map()), { unschedulable: '0/0 nodes are available: no nodes available to schedule pods.' });
});

t.test('requests: sum over containers, limits as default, init containers max rule', async (t) => {
  t.same(podRequests(pod('a', { cpu: '500m', memory: '128Mi' })), { cpu: 500, memory: 128 * 2 ** 20 });
  t.same(podRequests(pod('b', { cpu: '1', memory: '1Gi', limitsOnly: true })), { cpu: 1000, memory: 2 ** 30 });
  const p: Pod = {
    metadata: { name: 'init', namespace: 'default' },
    spec: {
      initContainers: [{ name: 'i', resources: { requests: { cpu: '2' } } }],
      containers: [
        { name: 'a', resources: { requests: { cpu: '300m', memory: '100Mi' } } },
        { name: 'b', resources: { requests: { cpu: '300m' }, limits: { memory: '50Mi' } } },
      ],
    },
  };
  t.same(podRequests(p), { cpu: 2000, memory: 150 * 2 ** 20 });
  t.same(podRequests(pod('none')), { cpu: 0, memory: 0 });
  t.same(podRequests(pod('none'), { nonZero: true }), { cpu: 100, memory: 200 * 2 ** 20 });
});

t.test('resource accounting with pods already on the node', async (t) => {
  const nodes = [node('n1', { cpu: '2', memory: '1Gi' })];
  const existing = [pod('e1', { cpu: '1', memory: '256Mi', nodeName: 'n1', phase: 'Running' }), pod('e2', { cpu: '500m', memory: '256Mi', nodeName: 'n1' })];
  t.same(schedulePod(pod('fits', { cpu: '500m', memory: '512Mi' }), nodes, byNode(existing)), { nodeName: 'n1' });
  t.same(schedulePod(pod('cpu', { cpu: '501m' }), nodes, byNode(existing)), { unschedulable: '0/1 nodes are available: 1 Insufficient cpu.' });
  t.same(schedulePod(pod('mem', { memory: '513Mi' }), nodes, byNode(existing)), { unschedulable: '0/1 nodes are available: 1 Insufficient memory.' });
  t.same(schedulePod(pod('both', { cpu: '1', memory: '1Gi' }), nodes, byNode(existing)), {
    unschedulable: '0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory.',
  });
  // Full pods are accepted in the snapshot as well as summaries.
  t.same(schedulePod(pod('cpu', { cpu: '501m' }), nodes, { n1: existing }), { unschedulable: '0/1 nodes are available: 1 Insufficient cpu.' });
});

t.test('Succeeded and Failed pods are not counted', async (t) => {
  const nodes = [node('n1', { cpu: '1', pods: '1' })];
  const done = [pod('job', { cpu: '1', nodeName: 'n1', phase: 'Succeeded' }), pod('crash', { cpu: '1', nodeName: 'n1', phase: 'Failed' })];
  t.same(schedulePod(pod('web', { cpu: '1' }), nodes, byNode(done)), { nodeName: 'n1' });
  const usage = nodeUsage(byNode(done).get('n1'));
  t.same(usage.requested, { cpu: 0, memory: 0 });
  t.equal(usage.pods, 0);
});

t.test('Too many pods', async (t) => {
  const nodes = [node('n1', { pods: '2' })];
  const running = [pod('a', { nodeName: 'n1', phase: 'Running' }), pod('b', { nodeName: 'n1', phase: 'Running' })];
  t.same(schedulePod(pod('c'), nodes, byNode(running)), { unschedulable: '0/1 nodes are available: 1 Too many pods.' });
});

t.test('nodeSelector and required node affinity', async (t) => {
  const nodes = [node('ssd', { labels: { disk: 'ssd' } }), node('hdd', { labels: { disk: 'hdd' } })];
  t.same(schedulePod(pod('db', { nodeSelector: { disk: 'ssd' } }), nodes, new Map()), { nodeName: 'ssd' });
  t.same(schedulePod(pod('db', { nodeSelector: { disk: 'nvme' } }), nodes, new Map()), {
    unschedulable: "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector.",
  });
  const affine: Pod = {
    ...pod('aff'),
    spec: {
      containers: [{ name: 'c' }],
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'disk', operator: 'NotIn', values: ['ssd'] }] }] } } },
    },
  };
  t.same(schedulePod(affine, nodes, new Map()), { nodeName: 'hdd' });
});

t.test('cordoned nodes', async (t) => {
  const nodes = [node('n1', { unschedulable: true }), node('n2', { unschedulable: true, cpu: '100m' })];
  t.same(schedulePod(pod('web', { cpu: '1' }), nodes, new Map()), { unschedulable: '0/2 nodes are available: 2 node(s) were unschedulable.' });
  t.same(schedulePod(pod('web'), [...nodes, node('n3')], new Map()), { nodeName: 'n3' });
  // A pod tolerating the unschedulable taint (like DaemonSet pods) may go there.
  const tolerant: Pod = { ...pod('ds'), spec: { containers: [{ name: 'c' }], tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] } };
  t.same(schedulePod(tolerant, [nodes[0]], new Map()), { nodeName: 'n1' });
});

t.test('not-ready nodes: the untolerated not-ready (or unreachable) taint', async (t) => {
  const nodes = [node('n1', { ready: 'False' }), node('n2', { ready: 'Unknown' }), node('n3', { cpu: '100m' })];
  t.same(schedulePod(pod('web', { cpu: '1' }), nodes, new Map()), {
    unschedulable:
      '0/3 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }.',
  });
  const noConditions: Node = { metadata: { name: 'new' }, status: { allocatable: { cpu: '4', memory: '4Gi' } } };
  t.same(filterNode(pod('x'), { cpu: 0, memory: 0 }, noConditions, nodeUsage([])), ['node(s) had untolerated taint {node.kubernetes.io/not-ready: }']);
  // Explicit taints are honoured too, and tolerations lift them.
  const tainted: Node = { ...node('gpu'), spec: { taints: [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }] } };
  t.same(schedulePod(pod('web'), [tainted], new Map()), { unschedulable: '0/1 nodes are available: 1 node(s) had untolerated taint {gpu: true}.' });
  const tolerant: Pod = { ...pod('ml'), spec: { containers: [{ name: 'c' }], tolerations: [{ key: 'gpu', operator: 'Equal', value: 'true', effect: 'NoSchedule' }] } };
  t.same(schedulePod(tolerant, [tainted], new Map()), { nodeName: 'gpu' });
});

t.test('6 identical pods over 3 equal nodes: 2 each', async (t) => {
  for (const requests of [{ cpu: '100m', memory: '64Mi' }, {}]) {
    const nodes = [node('n1'), node('n2'), node('n3')];
    const placed: Pod[] = [];
    for (let i = 0; i < 6; i++) {
      const p = pod(`web-${i}`, { ...requests, labels: { app: 'web' }, owner: 'web-rs' });
      const r = schedulePod(p, nodes, byNode(placed));
      if (!('nodeName' in r)) throw new Error(r.unschedulable);
      placed.push({ ...p, spec: { ...p.spec!, nodeName: r.nodeName } });
    }
    const counts: Record<string, number> = {};
    for (const p of placed) counts[p.spec!.nodeName!] = (counts[p.spec!.nodeName!] ?? 0) + 1;
    t.same(counts, { n1: 2, n2: 2, n3: 2 }, JSON.stringify(requests));
  }
});

t.test('spread prefers the node with fewer pods of the same owner/labels', async (t) => {
  // n1 holds a sibling, n2 holds an unrelated pod of the same size: the spread term prefers n2.
  const nodes = [node('n1'), node('n2')];
  const placed = [pod('web-0', { cpu: '100m', labels: { app: 'web' }, owner: 'rs', nodeName: 'n1' }), pod('other', { cpu: '100m', labels: { app: 'db' }, nodeName: 'n2' })];
  t.same(schedulePod(pod('web-1', { cpu: '100m', labels: { app: 'web' }, owner: 'rs' }), nodes, byNode(placed)), { nodeName: 'n2' });
});

t.test('least-allocated preference', async (t) => {
  const nodes = [node('busy', { cpu: '2', memory: '4Gi' }), node('free', { cpu: '2', memory: '4Gi' }), node('small', { cpu: '1', memory: '1Gi' })];
  const placed = [pod('x', { cpu: '1', memory: '2Gi', nodeName: 'busy' })];
  for (let i = 0; i < 5; i++) t.same(schedulePod(pod(`p${i}`, { cpu: '200m', memory: '256Mi' }), nodes, byNode(placed)), { nodeName: 'free' });
  // A bigger empty node beats a smaller empty one.
  t.same(schedulePod(pod('q', { cpu: '200m', memory: '256Mi' }), [nodes[2], node('big', { cpu: '8', memory: '16Gi' })], new Map()), { nodeName: 'big' });
});

t.test('ties between equal nodes are broken per pod, not always the same node', async (t) => {
  const nodes = [node('n1'), node('n2'), node('n3')];
  const picks = new Set<string>();
  for (let i = 0; i < 30; i++) {
    const r = schedulePod(pod(`solo-${i}`), nodes, new Map());
    t.ok('nodeName' in r);
    if ('nodeName' in r) picks.add(r.nodeName);
    t.same(schedulePod(pod(`solo-${i}`), nodes, new Map()), r, 'deterministic');
  }
  t.same([...picks].sort(), ['n1', 'n2', 'n3']);
});

t.test('large clusters: a sample of the feasible nodes is scored (percentageOfNodesToScore)', async (t) => {
  t.same([50, 99, 100, 300, 1000, 5000, 20_000].map(numFeasibleNodesToFind), [50, 99, 100, 144, 420, 500, 1000], 'all below 100, else 50% − 1% per 125 nodes, at least 5% and 100');
  const nodes = Array.from({ length: 300 }, (_, i) => node(`n${i}`));
  const stats = { evaluated: 0 };
  const r = schedulePod(pod('web'), nodes, new Map(), undefined, { start: 250, stats });
  t.equal(stats.evaluated, 144, 'filtering stops once 144 nodes fit');
  // From n250 on, wrapping around: n250..n299 then n0..n93.
  const index = 'nodeName' in r ? Number(r.nodeName.slice(1)) : -1;
  t.ok(index >= 250 || index < 94, `the pick ${JSON.stringify(r)} is among the filtered nodes`);
  // Only 10 nodes fit: every node is filtered, and the message of a pod that fits nowhere counts all 300.
  const full = nodes.map((n, i) => (i % 30 === 0 ? n : node(n.metadata!.name!, { cpu: '100m' })));
  const fits = schedulePod(pod('mid', { cpu: '500m' }), full, new Map(), undefined, { start: 7, stats });
  t.equal(stats.evaluated, 300);
  t.ok('nodeName' in fits && Number(fits.nodeName.slice(1)) % 30 === 0, 'the pod goes to one of the 10 nodes it fits');
  t.same(schedulePod(pod('huge', { cpu: '3' }), full, new Map(), undefined, { start: 7 }), { unschedulable: '0/300 nodes are available: 300 Insufficient cpu.' });
});
