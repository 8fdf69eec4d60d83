/**
 * A memory hog on a real cluster (process runtime, `--memory-check-ms 100`): over its
 * `resources.limits.memory` it is killed, and the pod shows what kubectl users know — last state
 * terminated `OOMKilled` with exit code 137, a growing restartCount, and CrashLoopBackOff between
 * restarts with the back-off doubling (in the waiting message and in the gaps between the
 * timestamps of one instance's end and the next one's start).
 */
import t from 'tap';
import { startCluster } from './helpers/cluster.js';

// Back-off 2 s doubling (Kubernetes: 10 s up to 300 s) keeps three restarts within the test.
const cluster = await startCluster({ nodes: 1, workerArgs: ['--memory-check-ms', '100', '--backoff-initial-ms', '2000', '--backoff-max-ms', '16000'] });
t.teardown(cluster.stop);
const { client, kubeact } = cluster;

interface Seen {
  restartCount: number;
  waiting?: { reason?: string; message?: string };
  running?: { startedAt: string };
  lastTerminated?: { reason?: string; exitCode?: number; startedAt?: string; finishedAt?: string };
}

t.test('a container over its memory limit is OOMKilled and restarted with a growing back-off', async (t) => {
  const seen: Seen[] = [];
  let done!: () => void;
  const enough = new Promise<void>((r) => (done = r));
  const watch = await client.watch('Pod', { namespace: 'default', fieldSelector: 'metadata.name=hog' }, (ev) => {
    const cs = (ev.object as any).status?.containerStatuses?.[0];
    if (!cs) return;
    seen.push({ restartCount: cs.restartCount ?? 0, waiting: cs.state?.waiting, running: cs.state?.running, lastTerminated: cs.lastState?.terminated });
    if ((cs.restartCount ?? 0) >= 3 && cs.state?.running) done();
  });
  t.teardown(() => watch.stop());
  await client.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'hog' },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [{
        name: 'hog',
        image: 'kubeact/host:1.0',
        // 16 MiB more every 50 ms until the limit stops it.
        command: [process.execPath, '-e', 'const a=[];setInterval(()=>a.push(Buffer.alloc(16*1024*1024,1)),50)'],
        resources: { limits: { memory: '100Mi' }, requests: { memory: '50Mi' } },
      }],
    },
  });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    enough,
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no third restart within 50 s; saw ${JSON.stringify(seen.slice(-5))}`)), 50_000))),
  ]).finally(() => clearTimeout(timer));

  const last = seen[seen.length - 1];
  t.equal(last.lastTerminated?.reason, 'OOMKilled', 'last state: terminated, OOMKilled');
  t.equal(last.lastTerminated?.exitCode, 137, 'exit code 137 (SIGKILL)');
  const counts = seen.map((s) => s.restartCount);
  t.same(counts, [...counts].sort((a, b) => a - b), 'restartCount never goes down');
  t.ok(counts.includes(1) && counts.includes(2) && counts.includes(3), `restartCount grew 1, 2, 3 (${[...new Set(counts)].join(', ')})`);

  // Between restarts: CrashLoopBackOff, with the kubelet's message naming a back-off that doubles.
  const backoffs = [...new Set(seen.filter((s) => s.waiting?.reason === 'CrashLoopBackOff').map((s) => /^back-off (\S+) restarting failed container=hog pod=hog_default/.exec(s.waiting!.message ?? '')?.[1]))];
  t.same(backoffs, ['2s', '4s', '8s'], 'CrashLoopBackOff back-off 2s, then 4s, then 8s');

  // The gaps a user reads from the timestamps: previous instance finished → next one started.
  const gaps: number[] = [];
  for (let n = 1; n <= 3; n++) {
    const s = seen.find((x) => x.restartCount === n && x.running && x.lastTerminated?.finishedAt);
    t.ok(s, `instance ${n} seen running with the previous one's termination`);
    if (!s) continue;
    t.equal(s.lastTerminated!.reason, 'OOMKilled', `instance ${n - 1} was OOMKilled`);
    gaps.push((Date.parse(s.running!.startedAt) - Date.parse(s.lastTerminated!.finishedAt!)) / 1000);
  }
  t.ok(gaps[0] >= 1 && gaps[1] > gaps[0] && gaps[2] > gaps[1], `gaps between restarts grow (${gaps.join(' s, ')} s; back-off 2, 4, 8 s, timestamps to the second)`);

  const described = await kubeact(['describe', 'pod', 'hog']);
  t.equal(described.code, 0, described.stderr);
  t.match(described.stdout, /Last State:\s+Terminated\n\s+Reason:\s+OOMKilled\n(?:.*\n)*?\s+Exit Code:\s+137/, 'describe shows the OOMKill');
  t.match(described.stdout, /Restart Count:\s+[3-9]/);
  t.match(described.stdout, /Limits:\n\s+memory:\s+100Mi/);
});
