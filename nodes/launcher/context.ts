/**
 * Where a running cluster is: `$KUBEACT_HOME/context.json` (default `~/.kubeact`), written
 * by `kubeact up`, read by every later CLI call and removed by `kubeact down`.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface ProcessRecord {
  role: 'nats-server' | 'control-plane' | 'worker' | 'simulated-nodes';
  name: string;
  pid: number;
  log: string;
  /** Worker data dir: container state files live there (used by `down` to sweep leftovers). */
  dataDir?: string;
  /** Worker container runtime (`process` when absent). */
  runtime?: string;
  /** The exact arguments, so a killed process can be started again (tests, `kubeact restart`). */
  argv?: string[];
}

export interface ClusterContext {
  natsUrl: string;
  home: string;
  clusterDir: string;
  startedAt: string;
  nodeNetwork: string;
  podNetwork: string;
  serviceNetwork?: string;
  /** Where the cluster DNS server listens (`ADDRESS:PORT`), when it runs. */
  dnsListen?: string;
  /** The kube-dns ClusterIP: the pods' nameserver. */
  clusterDNS?: string;
  clusterDomain?: string;
  /** Prometheus endpoints (`kubeact up --prometheus-port`), one per process. */
  prometheus?: { name: string; url: string }[];
  processes: ProcessRecord[];
}

export function kubeactHome(): string {
  return process.env.KUBEACT_HOME ?? path.join(os.homedir(), '.kubeact');
}

export function contextPath(home = kubeactHome()): string {
  return path.join(home, 'context.json');
}

export function loadContext(home = kubeactHome()): ClusterContext | undefined {
  const p = contextPath(home);
  if (!existsSync(p)) return undefined;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as ClusterContext;
  } catch {
    return undefined;
  }
}

export function saveContext(ctx: ClusterContext): void {
  mkdirSync(ctx.home, { recursive: true });
  writeFileSync(contextPath(ctx.home), JSON.stringify(ctx, null, 2) + '\n');
}

export function removeContext(home = kubeactHome()): void {
  rmSync(contextPath(home), { force: true });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** NATS URL for CLI calls: `--server` flag, then KUBEACT_NATS_URL, then the saved context. */
export function resolveNatsUrl(flag?: string): string | undefined {
  return flag ?? process.env.KUBEACT_NATS_URL ?? loadContext()?.natsUrl;
}
