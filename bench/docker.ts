/**
 * Pod startup on the docker runtime versus `docker run -d` of the same image, same run.
 *
 * A one-node cluster whose worker runs `--runtime docker`. Each pair times, in alternating
 * order (so drift in the machine's load hits both sides alike):
 * - kubeact: `client.create` of a busybox pod → a watch sees `status.phase === 'Running'`
 *   (API server, scheduler, kubelet, engine create + start, status write);
 * - baseline: `docker run -d --network host --init` of the same image and command, until the
 *   command returns (the container is started).
 * Ratio = median of the per-pair ratios. Target ≤ 1.3×. The `docker run` time includes the
 * docker CLI's own start, so the same pairs also time the engine API alone (create + start over
 * the socket, as the runtime does): the stricter ratio, reported beside it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { connect } from 'nats';
import { down } from '../nodes/launcher/down.js';
import { up } from '../nodes/launcher/up.js';
import { ApiClient } from '../protocol/client.js';
import type { Pod } from '../protocol/objects.js';
import { now } from './pace.js';
import { summarize, type Summary } from './stats.js';

export const DOCKER_BENCH_IMAGE = 'kubeact-test/busybox:1';
export const DOCKER_TARGET_RATIO = 1.3;
const LABEL = 'kubeact-bench-docker';

export interface DockerBenchResult {
  pairs: number;
  kubeact: Summary;
  dockerRun: Summary;
  /** Engine API create + start (no CLI). */
  engineApi: Summary;
  /** Median of kubeact / docker-run per pair. */
  ratio: number;
  /** Median of kubeact / engine-API per pair. */
  apiRatio: number;
  engine: string;
}

/** Undefined when no engine answers or the image is missing (the bench is then skipped). */
export async function dockerBenchUnavailable(): Promise<string | undefined> {
  const docker = new Docker();
  try {
    await docker.ping();
  } catch (e) {
    return `no Docker engine answers (${(e as Error).message})`;
  }
  try {
    await docker.getImage(DOCKER_BENCH_IMAGE).inspect();
  } catch {
    return `image ${DOCKER_BENCH_IMAGE} missing: run .ci/docker-images.sh`;
  }
  return undefined;
}

function dockerRun(name: string): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile('docker', ['run', '-d', '--name', name, '--label', `${LABEL}=1`, '--network', 'host', '--init', DOCKER_BENCH_IMAGE, 'sleep', '3600'], (err, _out, stderr) =>
      err ? reject(new Error(`docker run failed: ${stderr || err.message}`)) : resolve(),
    ),
  );
}

function benchPod(name: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { [LABEL]: '1' } },
    spec: {
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'main', image: DOCKER_BENCH_IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }],
    },
  } as Pod;
}

export async function dockerStartupBench(opts: { pairs: number; warmup?: number; say: (line: string) => void; signal?: AbortSignal }): Promise<DockerBenchResult> {
  const { say } = opts;
  const docker = new Docker();
  const home = mkdtempSync(path.join(os.tmpdir(), 'kubeact-bench-docker-'));
  const runId = Date.now().toString(36);
  const baselineNames: string[] = [];
  say('  starting a one-node cluster with --runtime docker ...');
  const ctx = await up({
    nodes: 1,
    home,
    runtimes: ['docker'],
    // Blocks of their own (see test/helpers/blocks.ts and bench/run.ts).
    nodeNetwork: '127.0.251.0/24',
    podNetwork: '127.95.0.0/16',
    serviceNetwork: '127.97.0.0/16',
    loadBalancerPool: '127.114.0.0/24',
    dnsListen: 'off',
  });
  const nc = await connect({ servers: ctx.natsUrl, name: 'bench-docker' });
  const client = new ApiClient(nc, { timeoutMs: 10_000 });
  const kube: number[] = [];
  const base: number[] = [];
  const ratios: number[] = [];
  const api: number[] = [];
  const apiRatios: number[] = [];
  try {
    const engine = `docker ${(await docker.version()).Version}`;
    const timePod = async (name: string) => {
      const running = client.waitFor<Pod>('Pod', name, 'default', (p) => p?.status?.phase === 'Running', 60_000);
      const t0 = now();
      await client.create(benchPod(name));
      await running;
      const ms = now() - t0;
      await client.delete('Pod', name, { namespace: 'default', gracePeriodSeconds: 0 });
      return ms;
    };
    const timeRun = async (name: string) => {
      baselineNames.push(name);
      const t0 = now();
      await dockerRun(name);
      return now() - t0;
    };
    const timeApi = async (name: string) => {
      baselineNames.push(name);
      const t0 = now();
      const c = await docker.createContainer({
        name,
        Image: DOCKER_BENCH_IMAGE,
        Cmd: ['sleep', '3600'],
        Labels: { [LABEL]: '1' },
        HostConfig: { NetworkMode: 'host', Init: true },
      });
      await c.start();
      return now() - t0;
    };
    const total = (opts.warmup ?? 2) + opts.pairs;
    for (let i = 0; i < total; i++) {
      if (opts.signal?.aborted) throw new Error('aborted');
      const podFirst = i % 2 === 0;
      let k: number;
      let b: number;
      if (podFirst) {
        k = await timePod(`bench-docker-${runId}-${i}`);
        b = await timeRun(`bench-docker-run-${runId}-${i}`);
      } else {
        b = await timeRun(`bench-docker-run-${runId}-${i}`);
        k = await timePod(`bench-docker-${runId}-${i}`);
      }
      const a = await timeApi(`bench-docker-api-${runId}-${i}`);
      if (i < (opts.warmup ?? 2)) continue;
      kube.push(k);
      base.push(b);
      api.push(a);
      ratios.push(k / b);
      apiRatios.push(k / a);
      say(`  pair ${i - (opts.warmup ?? 2) + 1}/${opts.pairs}: pod ${k.toFixed(0)} ms, docker run ${b.toFixed(0)} ms (${(k / b).toFixed(2)}x), engine API ${a.toFixed(0)} ms (${(k / a).toFixed(2)}x)`);
    }
    return { pairs: opts.pairs, kubeact: summarize(kube), dockerRun: summarize(base), engineApi: summarize(api), ratio: median(ratios), apiRatio: median(apiRatios), engine };
  } finally {
    await nc.close().catch(() => {});
    await down({ home });
    await Promise.all(baselineNames.map((n) => docker.getContainer(n).remove({ force: true }).catch(() => {})));
    rmSync(home, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Report lines (docs/BENCHMARKS.md and the console). */
export function dockerLines(r: DockerBenchResult | undefined): string[] {
  if (!r) return [];
  const verdict = r.ratio <= DOCKER_TARGET_RATIO ? 'met' : 'missed';
  return [
    '',
    `### Pod startup on the docker runtime (${r.engine}, ${r.pairs} pairs, alternating order)`,
    '',
    '| | p50 | mean | max |',
    '| --- | ---: | ---: | ---: |',
    `| kubeact pod create → Running | ${r.kubeact.p50.toFixed(0)} ms | ${r.kubeact.mean.toFixed(0)} ms | ${r.kubeact.max.toFixed(0)} ms |`,
    `| \`docker run -d\` (same image, host network, --init) | ${r.dockerRun.p50.toFixed(0)} ms | ${r.dockerRun.mean.toFixed(0)} ms | ${r.dockerRun.max.toFixed(0)} ms |`,
    `| engine API create + start (no CLI) | ${r.engineApi.p50.toFixed(0)} ms | ${r.engineApi.mean.toFixed(0)} ms | ${r.engineApi.max.toFixed(0)} ms |`,
    '',
    `Ratio vs \`docker run -d\` (median of per-pair ratios): **${r.ratio.toFixed(2)}×** — target ≤ ${DOCKER_TARGET_RATIO}× ${verdict}. ` +
      `Against the engine API alone (no CLI start-up): ${r.apiRatio.toFixed(2)}×.`,
  ];
}
