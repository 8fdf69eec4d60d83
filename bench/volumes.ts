/**
 * Mount benchmark: what volumes add to a container start. Each round starts, in turn, a raw
 * spawn of the container's command (the baseline, setpriv-wrapped like the runtime) and a
 * container through the kubelet's volume code and the process runtime with 0, 1 (emptyDir) and
 * 3 (emptyDir, configMap, emptyDir with subPath) mounts. Timed from before the volumes are set
 * up until the command has written a line to its log (so the mounts are in place: the preamble
 * runs before `exec`). In the benchmark process, without the API server: the figure is the
 * volumes' and the mount namespace's cost, not the pod's path through the cluster.
 * `node dist/bench/volumes.js` runs it alone.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Container, Pod } from '../protocol/objects.js';
import { PodVolumes, containerMounts } from '../nodes/worker/pod-volumes.js';
import { ProcessRuntime } from '../nodes/worker/runtime/process.js';
import type { ConfigSources } from '../nodes/worker/config-sources.js';
import { setprivHasPdeathsig } from './baseline.js';
import { now, throwIfAborted } from './pace.js';
import { fmtMs, fmtRatio, summarize, type Summary } from './stats.js';

export interface VolumesBenchResult {
  rounds: number;
  baseline: Summary;
  /** By number of mounts (0, 1, 3). */
  mounts: { count: number; start: Summary }[];
}

const SCRIPT = 'echo ready; exec sleep 3600';
const MOUNT_COUNTS = [0, 1, 3] as const;

/** Resolves once `file` holds the command's first line (polled; both sides are timed alike). */
async function untilWritten(file: string, deadlineMs = 20_000): Promise<void> {
  const deadline = now() + deadlineMs;
  while (now() < deadline) {
    const st = fs.statSync(file, { throwIfNoEntry: false });
    if (st && st.size > 0) return;
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new Error(`no output in ${file} within ${deadlineMs} ms`);
}

function volumesFor(count: number, mountRoot: string): { volumes: NonNullable<Pod['spec']>['volumes']; mounts: Container['volumeMounts'] } {
  const all = [
    { volume: { name: 'scratch', emptyDir: {} }, mount: { name: 'scratch', mountPath: path.join(mountRoot, 'scratch') } },
    { volume: { name: 'config', configMap: { name: 'cfg' } }, mount: { name: 'config', mountPath: path.join(mountRoot, 'config'), readOnly: true } },
    { volume: { name: 'cache', emptyDir: { medium: 'Memory' } }, mount: { name: 'cache', mountPath: path.join(mountRoot, 'cache'), subPath: 'sub' } },
  ].slice(0, count);
  return { volumes: all.map((a) => a.volume), mounts: all.map((a) => a.mount) };
}

export async function volumesBench(opts: { rounds: number; say: (l: string) => void; signal?: AbortSignal }): Promise<VolumesBenchResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeact-bench-volumes-'));
  const rt = new ProcessRuntime({ dataDir: path.join(dir, 'runtime') });
  const sources: ConfigSources = { configMaps: new Map([['cfg', { data: { 'app.conf': 'level=info\n', 'limits.conf': 'max=10\n' } }]]), secrets: new Map() };
  const wrapped = setprivHasPdeathsig();
  const baseline: number[] = [];
  const byCount = new Map<number, number[]>(MOUNT_COUNTS.map((c) => [c, []]));
  const baselinePids: number[] = [];
  try {
    for (let round = 0; round < opts.rounds; round++) {
      throwIfAborted(opts.signal);
      // Baseline: the command spawned straight from node.
      const log = path.join(dir, `baseline-${round}.log`);
      const t0 = now();
      const fd = fs.openSync(log, 'a');
      const child = spawn(wrapped ? '/usr/bin/setpriv' : 'sh', wrapped ? ['--pdeathsig', 'KILL', '--', 'sh', '-c', SCRIPT] : ['-c', SCRIPT], { detached: true, stdio: ['ignore', fd, fd] });
      fs.closeSync(fd);
      await untilWritten(log);
      baseline.push(now() - t0);
      if (child.pid) baselinePids.push(child.pid);
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone already */
      }

      for (const count of MOUNT_COUNTS) {
        const uid = `bench-${round}-${count}`;
        const { volumes, mounts } = volumesFor(count, path.join(dir, 'mnt', uid));
        const container: Container = { name: 'main', image: 'process', command: ['sh', '-c', SCRIPT], volumeMounts: mounts };
        const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: uid, namespace: 'default', uid }, spec: { containers: [container], volumes } };
        const t1 = now();
        const podVolumes = new PodVolumes(path.join(dir, 'pods'), pod);
        const paths = count ? await podVolumes.setUp(sources, () => Promise.reject(new Error('no claims here'))) : new Map();
        const handle = await rt.start({
          id: `${uid}/main/0`,
          podUid: uid,
          podName: uid,
          namespace: 'default',
          name: 'main',
          image: 'process',
          argv: ['sh', '-c', SCRIPT],
          env: {},
          podIP: '127.0.0.1',
          restartCount: 0,
          mounts: containerMounts(container, paths),
        });
        await untilWritten(path.join(dir, 'runtime', 'pods', uid, 'main', '0.log'));
        byCount.get(count)!.push(now() - t1);
        await rt.stop(handle.id, 0);
        await rt.removePod(uid);
        await podVolumes.tearDown();
      }
      if ((round + 1) % 10 === 0) opts.say(`  ${round + 1}/${opts.rounds} rounds`);
    }
  } finally {
    await rt.close().catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return { rounds: opts.rounds, baseline: summarize(baseline), mounts: MOUNT_COUNTS.map((count) => ({ count, start: summarize(byCount.get(count)!) })) };
}

export function volumesRows(r: VolumesBenchResult | undefined): string[] {
  if (!r) return [];
  return r.mounts.flatMap(({ count, start }) =>
    (['p50', 'p99'] as const).map(
      (p) => `| Container start ${p} with ${count} volume mount${count === 1 ? '' : 's'} (kubelet volume setup + process runtime, until the command writes; ${r.rounds} rounds) | ${fmtMs(start[p])} | spawn ${p}: ${fmtMs(r.baseline[p])} | ${fmtRatio(start[p], r.baseline[p])} |`,
    ),
  );
}

export const VOLUMES_BENCH_DESCRIPTION = `- **Volume mounts**: rounds of a raw spawn of \`sh -c 'echo ready; exec sleep 3600'\` (the
  baseline) and the same command started through the kubelet's volume code (pod-volumes.ts) and
  the process runtime with 0, 1 (emptyDir) and 3 mounts (emptyDir, read-only configMap, Memory
  emptyDir with subPath), interleaved so all see the same machine noise; timed until the command's
  line is in its log, so the mount namespace and bind mounts are in place. In-process, no API
  server: the ConfigMap is given, not fetched.
`;

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  volumesBench({ rounds: Number(process.env.KUBEACT_BENCH_VOLUME_ROUNDS ?? 40), say: (l) => console.log(l) })
    .then((r) => console.log(['', '| Figure | Value | Baseline (same run) | Ratio |', '| --- | --- | --- | --- |', ...volumesRows(r)].join('\n')))
    .catch((e) => {
      console.error(`volumes benchmark failed: ${(e as Error).message}`);
      process.exitCode = 1;
    });
}
