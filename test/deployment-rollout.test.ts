/**
 * The Deployment controller's pure parts (actors/deployment: hash.ts, rollout.ts, plan.ts),
 * checked against kube-controller-manager's behaviour (cases from its sync_test/rolling code).
 */
import t from 'tap';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { nowTimestamp } from '../protocol/objects.js';
import {
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  POD_TEMPLATE_HASH_LABEL,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  calculateStatus,
  fnv1a32,
  maxSurge,
  maxUnavailable,
  newRSReplicas,
  oldPodsRunning,
  planEffects,
  podTemplateHash,
  progressCheckDelay,
  reconcileDeployment,
  reconcileOldReplicaSets,
  replicaSetsToCleanUp,
  resolveFenceposts,
  rolloutStatus,
  safeEncodeString,
  scaleDecisions,
  setNewReplicaSetAnnotations,
  templatesEqual,
} from '../actors/deployment/index.js';

const T0 = Date.parse('2025-01-01T00:00:00Z');
const UID = 'dep-uid';

function template(image = 'nginx:1'): NonNullable<Deployment['spec']>['template'] {
  return { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image }], restartPolicy: 'Always' } };
}

function deployment(opts: { replicas?: number; image?: string; maxSurge?: number | string; maxUnavailable?: number | string; recreate?: boolean; paused?: boolean; revisionHistoryLimit?: number; generation?: number; annotations?: Record<string, string>; status?: Deployment['status'] } = {}): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', uid: UID, generation: opts.generation ?? 1, annotations: opts.annotations },
    spec: {
      replicas: opts.replicas ?? 3,
      selector: { matchLabels: { app: 'web' } },
      template: template(opts.image),
      strategy: opts.recreate ? { type: 'Recreate' } : { type: 'RollingUpdate', rollingUpdate: { maxSurge: opts.maxSurge ?? '25%', maxUnavailable: opts.maxUnavailable ?? '25%' } },
      revisionHistoryLimit: opts.revisionHistoryLimit ?? 10,
      progressDeadlineSeconds: 600,
      paused: opts.paused,
    },
    status: opts.status,
  };
}

let created = 0;
/** A ReplicaSet of `web` (controlled by it), with `replicas` all available unless told. */
function rs(name: string, replicas: number, opts: { image?: string; available?: number; statusReplicas?: number; revision?: number; annotations?: Record<string, string>; createdAt?: number; owner?: string; generation?: number; observedGeneration?: number } = {}): ReplicaSet {
  const tpl = template(opts.image);
  const hash = name.slice(name.lastIndexOf('-') + 1);
  tpl.metadata!.labels = { ...tpl.metadata!.labels, [POD_TEMPLATE_HASH_LABEL]: hash };
  const annotations: Record<string, string> = { ...(opts.annotations ?? {}) };
  if (opts.revision !== undefined) annotations[REVISION_ANNOTATION] = String(opts.revision);
  const available = opts.available ?? replicas;
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      creationTimestamp: nowTimestamp(opts.createdAt ?? T0 + 1000 * created++),
      generation: opts.generation ?? 1,
      annotations,
      labels: { app: 'web', [POD_TEMPLATE_HASH_LABEL]: hash },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: opts.owner ?? UID, controller: true }],
    },
    spec: { replicas, selector: { matchLabels: { app: 'web', [POD_TEMPLATE_HASH_LABEL]: hash } }, template: tpl },
    status: { replicas: opts.statusReplicas ?? replicas, readyReplicas: available, availableReplicas: available, observedGeneration: opts.observedGeneration ?? opts.generation ?? 1 },
  };
}

const byName = (decisions: { name: string; replicas: number }[]) => Object.fromEntries(decisions.map((d) => [d.name, d.replicas]));

// ---------------------------------------------------------------------------------------

t.test('pod-template hash: FNV-1a 32 of stable JSON, SafeEncodeString alphabet', async (t) => {
  t.equal(fnv1a32(new Uint8Array()), 0x811c9dc5);
  t.equal(fnv1a32(new TextEncoder().encode('a')), 0xe40c292c);
  t.equal(safeEncodeString('1234567890'), '56789bcdf4', 'decimal digits map like Kubernetes (rand.SafeEncodeString)');

  const a = template('nginx:1');
  const h = podTemplateHash(a);
  t.match(h, /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
  t.equal(podTemplateHash(structuredClone(a)), h, 'stable');
  const reordered = { spec: { restartPolicy: 'Always', containers: [{ image: 'nginx:1', name: 'web' }] }, metadata: { labels: { app: 'web' } } };
  t.equal(podTemplateHash(reordered), h, 'key order does not matter');
  t.not(podTemplateHash(template('nginx:2')), h, 'another template, another hash');
  t.not(podTemplateHash(a, 0), h, 'a collision count (even 0) changes the hash');
  t.not(podTemplateHash(a, 1), podTemplateHash(a, 0));

  const hashed = structuredClone(a);
  hashed.metadata!.labels![POD_TEMPLATE_HASH_LABEL] = h;
  t.ok(templatesEqual(a, hashed), 'the pod-template-hash label is ignored');
  t.ok(templatesEqual({ ...a, metadata: { ...a.metadata, annotations: {} } }, a), 'empty and absent are the same');
  t.notOk(templatesEqual(a, template('nginx:2')));
});

t.test('resolveFenceposts: surge rounds up, unavailable down, both 0 → unavailable 1', async (t) => {
  t.same(resolveFenceposts('25%', '25%', 10), { maxSurge: 3, maxUnavailable: 2 }, '25% of 10');
  t.same(resolveFenceposts('25%', '25%', 3), { maxSurge: 1, maxUnavailable: 0 });
  t.same(resolveFenceposts('25%', '25%', 1), { maxSurge: 1, maxUnavailable: 0 });
  t.same(resolveFenceposts(0, 0, 5), { maxSurge: 0, maxUnavailable: 1 });
  t.same(resolveFenceposts('0%', '1%', 2), { maxSurge: 0, maxUnavailable: 1 }, '1% of 2 rounds down to 0, then 1');
  t.same(resolveFenceposts('1%', '0%', 2), { maxSurge: 1, maxUnavailable: 0 });
  t.same(resolveFenceposts(2, 1, 10), { maxSurge: 2, maxUnavailable: 1 });
  t.equal(maxSurge(deployment({ replicas: 10 })), 3);
  t.equal(maxUnavailable(deployment({ replicas: 10 })), 2);
  t.equal(maxUnavailable(deployment({ replicas: 2, maxUnavailable: 5 })), 2, 'never more than the replicas');
  t.equal(maxUnavailable(deployment({ replicas: 0 })), 0);
  t.equal(maxSurge(deployment({ recreate: true })), 0);
  t.equal(maxUnavailable(deployment({ recreate: true })), 0);
});

t.test('newRSReplicas: up to replicas + maxSurge in all, never more than replicas', async (t) => {
  const d = deployment({ replicas: 10, maxSurge: 3, maxUnavailable: 2 });
  const old = rs('web-old', 10);
  const fresh = rs('web-new', 0);
  t.equal(newRSReplicas(d, [old, fresh], fresh), 3);
  t.equal(newRSReplicas(d, [rs('web-old', 8), rs('web-new', 3)], rs('web-new', 3)), 5);
  t.equal(newRSReplicas(d, [rs('web-old', 10), rs('web-new', 3)], rs('web-new', 3)), 3, 'at the surge limit');
  t.equal(newRSReplicas(d, [rs('web-old', 0), rs('web-new', 9)], rs('web-new', 9)), 10, 'not beyond replicas');
  t.equal(newRSReplicas(deployment({ replicas: 4, recreate: true }), [old, fresh], fresh), 4, 'Recreate: all at once');
});

t.test('reconcileOldReplicaSets: unhealthy first, never below minAvailable', async (t) => {
  const d = deployment({ replicas: 10, maxSurge: 3, maxUnavailable: 2 });
  // Kubernetes' example: new RS created with 3, old scaled to 8.
  let old = rs('web-old', 10);
  let fresh = rs('web-new', 3, { available: 0 });
  t.same(byName(reconcileOldReplicaSets(d, [old, fresh], [old], fresh)), { 'web-old': 8 });
  // New pods not available yet: nothing more can go.
  old = rs('web-old', 8);
  fresh = rs('web-new', 5, { available: 0 });
  t.same(reconcileOldReplicaSets(d, [old, fresh], [old], fresh), []);
  // Unhealthy old replicas are removed first; they do not count as available.
  old = rs('web-old', 10, { available: 7 });
  fresh = rs('web-new', 3, { available: 0 });
  t.same(byName(reconcileOldReplicaSets(d, [old, fresh], [old], fresh)), { 'web-old': 8 }, 'only the 2 allowed of 3 unhealthy');
  // New pods available: old scale down by what is available beyond minAvailable (8).
  old = rs('web-old', 8);
  fresh = rs('web-new', 5, { available: 5 });
  t.same(byName(reconcileOldReplicaSets(d, [old, fresh], [old], fresh)), { 'web-old': 3 });
  // Oldest first across several old ReplicaSets.
  const older = rs('web-a', 2, { createdAt: T0 });
  const newer = rs('web-b', 4, { createdAt: T0 + 5000 });
  fresh = rs('web-c', 7, { available: 7, createdAt: T0 + 9000 });
  t.same(byName(reconcileOldReplicaSets(d, [older, newer, fresh], [older, newer], fresh)), { 'web-a': 0, 'web-b': 1 });
  // maxUnavailable 0: available never goes below replicas.
  const strict = deployment({ replicas: 4, maxSurge: 1, maxUnavailable: 0 });
  old = rs('web-old', 4);
  fresh = rs('web-new', 1, { available: 0 });
  t.same(reconcileOldReplicaSets(strict, [old, fresh], [old], fresh), []);
  fresh = rs('web-new', 1, { available: 1 });
  t.same(byName(reconcileOldReplicaSets(strict, [old, fresh], [old], fresh)), { 'web-old': 3 });
});

t.test('scaleDecisions: proportional scaling (kube sync_test TestScale cases)', async (t) => {
  // Both fenceposts 0 as in the Go tests; RSes annotated for the old size.
  const cases: Array<{ name: string; replicas: number; oldReplicas: number; surge?: number; oldSurge?: number; newRS?: [string, number]; oldRSs: Array<[string, number]>; expected: Record<string, number> }> = [
    { name: 'normal scaling event: 10 -> 12', replicas: 12, oldReplicas: 10, newRS: ['foo-v1', 10], oldRSs: [], expected: { 'foo-v1': 12 } },
    { name: 'normal scaling event: 10 -> 5', replicas: 5, oldReplicas: 10, newRS: ['foo-v1', 10], oldRSs: [], expected: { 'foo-v1': 5 } },
    { name: 'proportional scaling: 5 -> 10', replicas: 10, oldReplicas: 5, newRS: ['foo-v2', 2], oldRSs: [['foo-v1', 3]], expected: { 'foo-v2': 4, 'foo-v1': 6 } },
    { name: 'proportional scaling: 5 -> 3', replicas: 3, oldReplicas: 5, newRS: ['foo-v2', 2], oldRSs: [['foo-v1', 3]], expected: { 'foo-v2': 1, 'foo-v1': 2 } },
    { name: 'proportional scaling: 9 -> 4', replicas: 4, oldReplicas: 9, newRS: ['foo-v2', 8], oldRSs: [['foo-v1', 1]], expected: { 'foo-v2': 4, 'foo-v1': 0 } },
    { name: 'proportional scaling: 13 -> 8', replicas: 8, oldReplicas: 13, newRS: ['foo-v3', 2], oldRSs: [['foo-v2', 8], ['foo-v1', 3]], expected: { 'foo-v3': 1, 'foo-v2': 5, 'foo-v1': 2 } },
    { name: 'leftover distribution: 3 -> 4', replicas: 4, oldReplicas: 3, newRS: ['foo-v3', 1], oldRSs: [['foo-v2', 1], ['foo-v1', 1]], expected: { 'foo-v3': 2, 'foo-v2': 1, 'foo-v1': 1 } },
    { name: 'leftover distribution: 3 -> 2', replicas: 2, oldReplicas: 3, newRS: ['foo-v3', 1], oldRSs: [['foo-v2', 1], ['foo-v1', 1]], expected: { 'foo-v3': 1, 'foo-v2': 1, 'foo-v1': 0 } },
    { name: 'proportional scaling (no new rs): 4 -> 5', replicas: 5, oldReplicas: 4, oldRSs: [['foo-v2', 2], ['foo-v1', 2]], expected: { 'foo-v2': 3, 'foo-v1': 2 } },
    { name: 'proportional scaling: 6 -> 0', replicas: 0, oldReplicas: 6, newRS: ['foo-v3', 3], oldRSs: [['foo-v2', 2], ['foo-v1', 1]], expected: { 'foo-v3': 0, 'foo-v2': 0, 'foo-v1': 0 } },
    { name: 'deployment with surge pods', replicas: 20, oldReplicas: 10, surge: 2, oldSurge: 2, newRS: ['foo-v2', 6], oldRSs: [['foo-v1', 6]], expected: { 'foo-v2': 11, 'foo-v1': 11 } },
    { name: 'change both surge and size', replicas: 50, oldReplicas: 10, surge: 6, oldSurge: 3, newRS: ['foo-v2', 5], oldRSs: [['foo-v1', 8]], expected: { 'foo-v2': 22, 'foo-v1': 34 } },
  ];
  for (const c of cases) {
    const d = deployment({ replicas: c.replicas, maxSurge: c.surge ?? 0, maxUnavailable: 0 });
    const annotations = { [DESIRED_REPLICAS_ANNOTATION]: String(c.oldReplicas), [MAX_REPLICAS_ANNOTATION]: String(c.oldReplicas + (c.oldSurge ?? 0)) };
    const olds = c.oldRSs.map(([name, n], i) => rs(name, n, { image: 'nginx:0', annotations, createdAt: T0 + i * -1000 - 1000 }));
    const fresh = c.newRS ? rs(c.newRS[0], c.newRS[1], { annotations, createdAt: T0 }) : undefined;
    const decided = byName(scaleDecisions(d, fresh, olds));
    const result = Object.fromEntries([...olds, ...(fresh ? [fresh] : [])].map((r) => [r.metadata!.name!, decided[r.metadata!.name!] ?? r.spec!.replicas!]));
    t.same(result, c.expected, c.name);
  }
});

t.test('revision annotations: max(old)+1, history kept on rollback', async (t) => {
  const d = deployment({ annotations: { 'kubernetes.io/change-cause': 'v2', [REVISION_ANNOTATION]: '7' } });
  const fresh = rs('web-x', 0);
  delete fresh.metadata!.annotations;
  t.ok(setNewReplicaSetAnnotations(d, fresh, 3, false));
  t.same(fresh.metadata!.annotations, {
    'kubernetes.io/change-cause': 'v2',
    [REVISION_ANNOTATION]: '3',
    [DESIRED_REPLICAS_ANNOTATION]: '3',
    [MAX_REPLICAS_ANNOTATION]: '4',
  }, "the deployment's revision is not copied; replica annotations for a new RS");
  const back = rs('web-y', 3, { revision: 1, annotations: { 'kubernetes.io/change-cause': 'v2' } });
  t.ok(setNewReplicaSetAnnotations(d, back, 3, true));
  t.equal(back.metadata!.annotations![REVISION_ANNOTATION], '3');
  t.equal(back.metadata!.annotations![REVISION_HISTORY_ANNOTATION], '1');
  t.notOk(setNewReplicaSetAnnotations(d, back, 3, true), 'nothing to change the second time');
  t.notOk(setNewReplicaSetAnnotations(d, back, 2, true), 'a revision is never lowered');
});

t.test('history cleanup: oldest revisions with no replicas beyond revisionHistoryLimit', async (t) => {
  const d = deployment({ revisionHistoryLimit: 2 });
  const olds = [rs('web-1', 0, { revision: 1 }), rs('web-2', 0, { revision: 2 }), rs('web-3', 1, { revision: 3 }), rs('web-4', 0, { revision: 4 }), rs('web-5', 0, { revision: 5 })];
  t.same(replicaSetsToCleanUp(d, olds).map((r) => r.metadata!.name), ['web-1', 'web-2'], 'three too many; web-3 still has a replica');
  const busy = [rs('web-1', 0, { revision: 1, statusReplicas: 1 }), rs('web-2', 0, { revision: 2, generation: 3, observedGeneration: 2 }), rs('web-4', 0, { revision: 4 })];
  t.same(replicaSetsToCleanUp(d, busy), [], 'pods still there, or the scale-down not observed yet');
  t.same(replicaSetsToCleanUp(deployment({ revisionHistoryLimit: 2147483647 }), olds), [], 'MaxInt32 keeps everything');
});

t.test('Recreate: old pods running while any old ReplicaSet reports pods', async (t) => {
  t.ok(oldPodsRunning([rs('web-1', 0, { statusReplicas: 2 })]));
  t.notOk(oldPodsRunning([rs('web-1', 0, { statusReplicas: 0 })]));
  const terminating = rs('web-1', 0, { statusReplicas: 0 });
  (terminating.status as unknown as Record<string, unknown>).terminatingReplicas = 1;
  t.ok(oldPodsRunning([terminating]), 'terminating pods count when the ReplicaSet reports them');
});

t.test('status: counts and conditions worded like Kubernetes', async (t) => {
  const d = deployment({ replicas: 3, generation: 4 });
  const oldRS = rs('web-old', 1, { available: 1 });
  const fresh = rs('web-5d9f7c', 3, { available: 1 });
  const st = calculateStatus(d, {}, [oldRS, fresh], fresh, T0);
  t.match(st, { observedGeneration: 4, replicas: 4, updatedReplicas: 3, readyReplicas: 2, availableReplicas: 2, unavailableReplicas: 2 });
  t.same(st.conditions, [
    { type: 'Available', status: 'False', lastUpdateTime: nowTimestamp(T0), lastTransitionTime: nowTimestamp(T0), reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' },
  ]);
  const zero = calculateStatus(deployment({ replicas: 0 }), {}, [], undefined, T0);
  t.notOk('replicas' in zero || 'availableReplicas' in zero, 'zero counts are omitted (omitempty)');

  // Progress: from NewReplicaSetCreated to ReplicaSetUpdated to NewReplicaSetAvailable.
  const created = { type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated', message: 'Created new replica set "web-5d9f7c"', lastUpdateTime: nowTimestamp(T0), lastTransitionTime: nowTimestamp(T0) };
  const before = { replicas: 3, updatedReplicas: 0, conditions: [created] };
  const moving = rolloutStatus(d, before, [oldRS, fresh], fresh, T0 + 10_000);
  t.match(moving.conditions!.find((c) => c.type === 'Progressing'), { status: 'True', reason: 'ReplicaSetUpdated', message: 'ReplicaSet "web-5d9f7c" is progressing.', lastUpdateTime: nowTimestamp(T0 + 10_000), lastTransitionTime: nowTimestamp(T0) });
  t.equal(progressCheckDelay(d, moving, T0 + 10_000), 600_000 + 1000, 'look again one second after the deadline');

  const stuck = rolloutStatus(d, moving, [oldRS, fresh], fresh, T0 + 10_000 + 600_000);
  t.equal(stuck.conditions!.find((c) => c.type === 'Progressing')!.reason, 'ReplicaSetUpdated', 'exactly at the deadline: not yet');
  const late = rolloutStatus(d, moving, [oldRS, fresh], fresh, T0 + 10_000 + 601_000);
  t.match(late.conditions!.find((c) => c.type === 'Progressing'), { status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "web-5d9f7c" has timed out progressing.', lastTransitionTime: nowTimestamp(T0 + 611_000) });
  t.equal(progressCheckDelay(d, late, T0 + 611_000), undefined, 'timed out: nothing more to check');

  const done = rs('web-5d9f7c', 3);
  const complete = rolloutStatus(d, moving, [rs('web-old', 0, { statusReplicas: 0 }), done], done, T0 + 20_000);
  t.match(complete, { replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 });
  t.notOk('unavailableReplicas' in complete);
  t.same(
    complete.conditions!.map((c) => [c.type, c.status, c.reason, c.message]),
    [
      ['Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.'],
      ['Progressing', 'True', 'NewReplicaSetAvailable', 'ReplicaSet "web-5d9f7c" has successfully progressed.'],
    ],
  );
  t.equal(progressCheckDelay(d, complete, T0 + 20_000), undefined);
});

t.test('reconcileDeployment: a new deployment gets its ReplicaSet, revision 1, all replicas', async (t) => {
  const d = deployment({ replicas: 3, annotations: { 'kubernetes.io/change-cause': 'first' } });
  const plan = reconcileDeployment(d, [], T0);
  const hash = podTemplateHash(d.spec!.template);
  t.equal(plan.path, 'rolling');
  t.equal(plan.newReplicaSet, `web-${hash}`);
  t.same(plan.create, {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `web-${hash}`,
      namespace: 'default',
      labels: { app: 'web', [POD_TEMPLATE_HASH_LABEL]: hash },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: UID, controller: true, blockOwnerDeletion: true }],
      annotations: { 'kubernetes.io/change-cause': 'first', [REVISION_ANNOTATION]: '1', [DESIRED_REPLICAS_ANNOTATION]: '3', [MAX_REPLICAS_ANNOTATION]: '4' },
    },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'web', [POD_TEMPLATE_HASH_LABEL]: hash } },
      template: { metadata: { labels: { app: 'web', [POD_TEMPLATE_HASH_LABEL]: hash } }, spec: d.spec!.template.spec },
    },
  });
  t.equal(plan.revision, '1');
  t.same(plan.updates, []);
  t.same(planEffects(plan).map((e) => e.type), ['createReplicaSet', 'annotateDeployment']);
  t.match(plan.status.conditions, [
    { type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated', message: `Created new replica set "web-${hash}"` },
    { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable' },
  ]);
  t.equal(plan.nextCheckMs, 601_000);

  // ReplicaSets of others (or orphans) are ignored, but their names are not reused.
  const foreign = rs(`web-${hash}`, 2, { owner: 'someone-else' });
  const again = reconcileDeployment(d, [foreign], T0);
  t.not(again.create!.metadata!.name, `web-${hash}`);
  t.equal(again.create!.metadata!.name, `web-${podTemplateHash(d.spec!.template, 1)}`);
  t.equal(again.status.collisionCount, 1, 'collisionCount nil → 1, as Kubernetes bumps it after AlreadyExists');
  t.equal(again.create!.spec!.replicas, 3);
});

t.test('reconcileDeployment: template change → revision 2, surge first; undo → revision 3', async (t) => {
  const v1 = rs('web-aaa', 4, { revision: 1, annotations: { [DESIRED_REPLICAS_ANNOTATION]: '4', [MAX_REPLICAS_ANNOTATION]: '5' } });
  const d = deployment({ replicas: 4, image: 'nginx:2', maxSurge: 1, maxUnavailable: 0, annotations: { [REVISION_ANNOTATION]: '1' } });
  const plan = reconcileDeployment(d, [v1], T0);
  t.equal(plan.create!.metadata!.annotations![REVISION_ANNOTATION], '2');
  t.equal(plan.create!.spec!.replicas, 1, 'one surge pod');
  t.equal(plan.revision, '2');
  t.same(plan.updates, [], 'nothing old goes while the new pod is unavailable (maxUnavailable 0)');

  // The surge pod is available: one old one goes.
  const v2 = { ...plan.create!, metadata: { ...plan.create!.metadata, uid: 'uid-v2', creationTimestamp: nowTimestamp(T0 + 60_000) }, status: { replicas: 1, readyReplicas: 1, availableReplicas: 1 } } as ReplicaSet;
  const withRevision = { ...d, metadata: { ...d.metadata, annotations: { [REVISION_ANNOTATION]: '2' } } };
  const step = reconcileDeployment(withRevision, [v1, v2], T0 + 61_000);
  t.same(step.updates, [{ namespace: 'default', name: 'web-aaa', uid: 'uid-web-aaa', replicas: 3, annotations: { [DESIRED_REPLICAS_ANNOTATION]: '4', [MAX_REPLICAS_ANNOTATION]: '5' } }]);
  t.equal(step.revision, undefined);

  // Undo: the deployment's template is revision 1's again → that RS is the new one, revision 3.
  const undo = deployment({ replicas: 4, image: 'nginx:1', maxSurge: 1, maxUnavailable: 0, annotations: { [REVISION_ANNOTATION]: '2' } });
  const rolledBack = reconcileDeployment(undo, [rs('web-aaa', 0, { revision: 1, createdAt: T0 }), { ...v2, spec: { ...v2.spec, replicas: 4 }, status: { replicas: 4, readyReplicas: 4, availableReplicas: 4 } } as ReplicaSet], T0 + 120_000);
  t.equal(rolledBack.create, undefined, 'no new ReplicaSet');
  t.equal(rolledBack.newReplicaSet, 'web-aaa');
  t.equal(rolledBack.revision, '3');
  t.match(rolledBack.updates[0], { name: 'web-aaa', annotations: { [REVISION_ANNOTATION]: '3', [REVISION_HISTORY_ANNOTATION]: '1' } });
  t.equal(rolledBack.updates[0].replicas, 1, 'and it surges first');
});

t.test('reconcileDeployment: Recreate scales old to 0, waits, then creates the new one', async (t) => {
  const d = deployment({ replicas: 3, image: 'nginx:2', recreate: true });
  const v1 = rs('web-aaa', 3, { revision: 1 });
  const first = reconcileDeployment(d, [v1], T0);
  t.equal(first.path, 'recreate');
  t.equal(first.create, undefined);
  t.match(first.updates, [{ name: 'web-aaa', replicas: 0 }]);
  const draining = reconcileDeployment(d, [rs('web-aaa', 0, { revision: 1, statusReplicas: 2, available: 2 })], T0 + 1000);
  t.same(planEffects(draining), [], 'old pods still running: wait');
  const drained = reconcileDeployment(d, [rs('web-aaa', 0, { revision: 1, statusReplicas: 0, available: 0 })], T0 + 2000);
  t.equal(drained.create!.spec!.replicas, 3);
  t.equal(drained.create!.metadata!.annotations![REVISION_ANNOTATION], '2');
});

t.test('reconcileDeployment: paused scales but does not roll; deleting does nothing', async (t) => {
  const v1 = rs('web-aaa', 3, { revision: 1, annotations: { [DESIRED_REPLICAS_ANNOTATION]: '3', [MAX_REPLICAS_ANNOTATION]: '4' } });
  const paused = deployment({ replicas: 5, image: 'nginx:2', paused: true, annotations: { [REVISION_ANNOTATION]: '1' } });
  const plan = reconcileDeployment(paused, [v1], T0);
  t.equal(plan.path, 'paused');
  t.equal(plan.create, undefined);
  t.match(plan.updates, [{ name: 'web-aaa', replicas: 5, annotations: { [DESIRED_REPLICAS_ANNOTATION]: '5', [MAX_REPLICAS_ANNOTATION]: '7' } }]);
  t.match(plan.status.conditions!.find((c) => c.type === 'Progressing'), { status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' });
  t.equal(plan.nextCheckMs, undefined, 'no deadline while paused');

  const resumed = deployment({ replicas: 5, image: 'nginx:2', annotations: { [REVISION_ANNOTATION]: '1' }, status: plan.status });
  const next = reconcileDeployment(resumed, [rs('web-aaa', 5, { revision: 1, statusReplicas: 3, available: 3, annotations: { [DESIRED_REPLICAS_ANNOTATION]: '5', [MAX_REPLICAS_ANNOTATION]: '7' } })], T0 + 5000);
  t.ok(next.create, 'resumed: the rollout starts');
  t.match(next.status.conditions!.find((c) => c.type === 'Progressing'), { status: 'True', reason: 'NewReplicaSetCreated', lastUpdateTime: nowTimestamp(T0 + 5000) });
  // With pods that became ready meanwhile, that counts as progress already.
  const moved = reconcileDeployment(resumed, [rs('web-aaa', 5, { revision: 1, annotations: { [DESIRED_REPLICAS_ANNOTATION]: '5', [MAX_REPLICAS_ANNOTATION]: '7' } })], T0 + 5000);
  t.match(moved.status.conditions!.find((c) => c.type === 'Progressing'), { status: 'True', reason: 'ReplicaSetUpdated' });

  // Resumed mid-rollout with no progress to report: Progressing=Unknown DeploymentResumed, and
  // the deadline counts from now.
  const pausedStatus = { replicas: 4, updatedReplicas: 1, readyReplicas: 3, availableReplicas: 3, conditions: [{ type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused', lastUpdateTime: nowTimestamp(T0), lastTransitionTime: nowTimestamp(T0) }] };
  const midway = deployment({ replicas: 3, image: 'nginx:2', annotations: { [REVISION_ANNOTATION]: '2' }, status: pausedStatus });
  const rsAnnotations = { [DESIRED_REPLICAS_ANNOTATION]: '3', [MAX_REPLICAS_ANNOTATION]: '4' };
  const resumedMidway = reconcileDeployment(midway, [rs('web-aaa', 3, { revision: 1, annotations: rsAnnotations }), rs('web-bbb', 1, { image: 'nginx:2', revision: 2, available: 0, annotations: rsAnnotations })], T0 + 9_000_000);
  t.same(planEffects(resumedMidway), [], 'waiting for the surge pod');
  t.match(resumedMidway.status.conditions!.find((c) => c.type === 'Progressing'), { status: 'Unknown', reason: 'DeploymentResumed', message: 'Deployment is resumed', lastUpdateTime: nowTimestamp(T0 + 9_000_000) });
  t.equal(resumedMidway.nextCheckMs, 601_000);

  const deleting = { ...deployment(), metadata: { ...deployment().metadata, deletionTimestamp: nowTimestamp(T0) } };
  const none = reconcileDeployment(deleting, [v1], T0);
  t.equal(none.path, 'deleting');
  t.same(planEffects(none), []);
});

t.test('reconcileDeployment: resizing mid-rollout scales proportionally and refreshes the annotations', async (t) => {
  const annotations = { [DESIRED_REPLICAS_ANNOTATION]: '4', [MAX_REPLICAS_ANNOTATION]: '5' };
  const d = deployment({ replicas: 8, image: 'nginx:2', maxSurge: 1, maxUnavailable: 0, annotations: { [REVISION_ANNOTATION]: '2' } });
  const plan = reconcileDeployment(d, [rs('web-aaa', 3, { revision: 1, annotations, createdAt: T0 }), rs('web-bbb', 2, { image: 'nginx:2', revision: 2, available: 0, annotations, createdAt: T0 + 1000 })], T0 + 5000);
  t.equal(plan.path, 'scaling');
  const refreshed = { [DESIRED_REPLICAS_ANNOTATION]: '8', [MAX_REPLICAS_ANNOTATION]: '9' };
  t.same(plan.updates, [
    { namespace: 'default', name: 'web-aaa', uid: 'uid-web-aaa', replicas: 5, annotations: refreshed },
    { namespace: 'default', name: 'web-bbb', uid: 'uid-web-bbb', replicas: 4, annotations: refreshed },
  ]);
  t.equal(plan.create, undefined);
});
