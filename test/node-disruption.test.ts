/** kube-controller-manager's zone disruption rules: when evictions of an unreachable node's pods may start. */
import t from 'tap';
import { disruptionMode, mayStartEviction } from '../actors/node-lifecycle/index.js';

t.test('zone state from ready / not-ready counts (ComputeZoneState)', async (t) => {
  t.equal(disruptionMode(3, 0), 'Normal');
  t.equal(disruptionMode(2, 1), 'Normal', 'one of three down: normal failover');
  t.equal(disruptionMode(0, 1), 'FullDisruption', 'the only node down');
  t.equal(disruptionMode(0, 1000), 'FullDisruption', 'every node down at once');
  t.equal(disruptionMode(1, 2), 'Normal', 'two not-ready nodes are never a partial disruption');
  t.equal(disruptionMode(2, 3), 'PartialDisruption', '3 of 5 = 60 % ≥ 55 %');
  t.equal(disruptionMode(45, 55), 'PartialDisruption', 'exactly 55 %');
  t.equal(disruptionMode(46, 54), 'Normal', '54 % is below the threshold');
  t.equal(disruptionMode(0, 0), 'Normal', 'no nodes at all');
});

t.test('eviction start: normal always, full never, partial stopped in small clusters and slowed in large ones', async (t) => {
  t.ok(mayStartEviction('Normal', 3, 0, undefined));
  t.ok(mayStartEviction('Normal', 3, 1, 0), 'normal evictions are not rate-limited');
  t.notOk(mayStartEviction('FullDisruption', 1000, 1e9, undefined));
  t.notOk(mayStartEviction('PartialDisruption', 50, 1e9, undefined), '50 nodes or fewer: none');
  t.ok(mayStartEviction('PartialDisruption', 51, 1e9, undefined), 'large cluster: the first one goes');
  t.notOk(mayStartEviction('PartialDisruption', 1000, 1_000 + 99_999, 1_000), 'then not before 100 s (0.01 nodes/s)');
  t.ok(mayStartEviction('PartialDisruption', 1000, 1_000 + 100_000, 1_000), 'one more after 100 s');
});
