/**
 * A real test cluster: `kubeact up` (nats-server, control plane, workers as separate OS
 * processes) in its own KUBEACT_HOME, with its own loopback blocks; `stop()` runs `down`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { ApiClient } from '../../protocol/client.js';
import type { Kind } from '../../protocol/kinds.js';
import type { KubeObject } from '../../protocol/objects.js';
import type { ClusterContext } from '../../nodes/launcher/context.js';
import { down } from '../../nodes/launcher/down.js';
import { up, type UpOptions } from '../../nodes/launcher/up.js';
import { entryPoint } from '../../nodes/shared/paths.js';
import { allocateBlock, type Block } from './blocks.js';

export const CLI = entryPoint('nodes/cli/kubeact.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TestCluster {
  ctx: ClusterContext;
  home: string;
  block: Block;
  nc: NatsConnection;
  client: ApiClient;
  kubeact(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<CliResult>;
  stop(): Promise<void>;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv, opts: { input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kubeact ${args.join(' ')} did not finish within ${opts.timeoutMs ?? 60_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

export async function startCluster(opts: Partial<UpOptions> & { nodes: number }): Promise<TestCluster> {
  const block = allocateBlock();
  const home = mkdtempSync(path.join(os.tmpdir(), 'kubeact-test-home-'));
  let ctx: ClusterContext;
  try {
    ctx = await up({ nodeNetwork: block.nodeNetwork, podNetwork: block.podNetwork, ...opts, home });
  } catch (e) {
    block.release();
    rmSync(home, { recursive: true, force: true });
    throw e;
  }
  const nc = await connect({ servers: ctx.natsUrl, name: 'test-client' });
  const client = new ApiClient(nc);
  return {
    ctx,
    home,
    block,
    nc,
    client,
    kubeact: (args, o) => runCli(args, { KUBEACT_HOME: home }, o),
    async stop() {
      await nc.close().catch(() => {});
      await down({ home });
      rmSync(home, { recursive: true, force: true });
      block.release();
    },
  };
}

/**
 * Resolves with the first state of the object that satisfies `predicate` (checked on the
 * current state and on every watch event), or rejects after `timeoutMs` with what was seen.
 */
export async function waitForObject<T extends KubeObject = KubeObject>(
  client: ApiClient,
  kind: Kind,
  name: string,
  namespace: string | undefined,
  predicate: (obj: T | undefined) => boolean,
  timeoutMs = 20_000,
): Promise<T | undefined> {
  let last: T | undefined;
  let settle!: (v: T | undefined) => void;
  const done = new Promise<T | undefined>((r) => (settle = r));
  let matched = false;
  const check = (obj: T | undefined) => {
    last = obj;
    if (!matched && predicate(obj)) {
      matched = true;
      settle(obj);
    }
  };
  const watch = await client.watch<T>(kind, { namespace }, (ev) => {
    if (ev.object.metadata?.name !== name) return;
    check(ev.type === 'DELETED' ? undefined : ev.object);
  });
  try {
    check(await client.find<T>(kind, name, namespace));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${kind} ${name}; last seen: ${JSON.stringify(last?.status ?? last)}`)), timeoutMs);
    });
    return await Promise.race([done, timeout]).finally(() => clearTimeout(timer));
  } finally {
    watch.stop();
  }
}
