/**
 * Running one benchmark on its own (`node dist/bench/<name>.js`): a 1-node cluster in its own
 * home on loopback blocks of its own, the benchmark, its table printed, everything stopped.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { connect } from 'nats';
import { ApiClient } from '../protocol/client.js';
import type { ClusterContext } from '../nodes/launcher/context.js';
import { down } from '../nodes/launcher/down.js';
import { up, type UpOptions } from '../nodes/launcher/up.js';

/** Loopback blocks outside the default cluster's, the tests' and the other benchmarks'. */
export type StandaloneBlocks = Pick<UpOptions, 'nodeNetwork' | 'podNetwork' | 'serviceNetwork' | 'loadBalancerPool'>;

export interface StandaloneBench {
  /** Names the home directory and the NATS client, and the failure line. */
  name: string;
  blocks: StandaloneBlocks;
  /** Runs the benchmark; returns the lines to print (its table). */
  run(client: ApiClient, ctx: ClusterContext, say: (line: string) => void): Promise<string[]>;
}

/** Runs `bench` when `moduleUrl` (the caller's `import.meta.url`) is the program node started. */
export function runIfMain(moduleUrl: string, bench: StandaloneBench): void {
  if (!process.argv[1] || moduleUrl !== pathToFileURL(process.argv[1]).href) return;
  standalone(bench).catch((e) => {
    console.error(`${bench.name} benchmark failed: ${(e as Error).message}`);
    process.exitCode = 1;
  });
}

async function standalone(bench: StandaloneBench): Promise<void> {
  const home = mkdtempSync(path.join(os.tmpdir(), `kubeact-bench-${bench.name}-`));
  const say = (l: string) => console.log(l);
  try {
    const ctx = await up({ nodes: 1, home, ...bench.blocks, say: (l) => say(`  ${l.trim()}`) });
    const nc = await connect({ servers: ctx.natsUrl, name: `kubeact-bench-${bench.name}` });
    try {
      console.log(['', ...(await bench.run(new ApiClient(nc, { timeoutMs: 10_000 }), ctx, say))].join('\n'));
    } finally {
      await nc.close();
    }
  } finally {
    await down({ home }).catch(() => {});
    rmSync(home, { recursive: true, force: true });
  }
}
