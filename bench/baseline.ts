/**
 * Baseline for pod start-up: spawning the pod's command straight from node, the way the process
 * runtime does it (setpriv --pdeathsig wrapper, own process group, stdout/stderr on an append-mode
 * log fd), timed from just before the log file is opened until the child's 'spawn' event.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { now, paced } from './pace.js';

const SETPRIV = '/usr/bin/setpriv';

export function setprivHasPdeathsig(): boolean {
  if (!fs.existsSync(SETPRIV)) return false;
  try {
    return execFileSync(SETPRIV, ['--help'], { encoding: 'utf8' }).includes('--pdeathsig');
  } catch {
    return false;
  }
}

export interface SpawnBaselineOptions {
  argv: string[];
  count: number;
  intervalMs: number;
  /** Where the log files go. */
  dir: string;
  signal?: AbortSignal;
  say?: (line: string) => void;
}

export class SpawnBaseline {
  private readonly children = new Set<ChildProcess>();
  readonly wrapped = setprivHasPdeathsig();

  /** Spawns `count` processes at the given pace; resolves with each one's spawn latency (ms). */
  async run(opts: SpawnBaselineOptions): Promise<number[]> {
    fs.mkdirSync(opts.dir, { recursive: true });
    const file = this.wrapped ? SETPRIV : opts.argv[0];
    const args = this.wrapped ? ['--pdeathsig', 'KILL', '--', ...opts.argv] : opts.argv.slice(1);
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
    let done = 0;
    const results = await paced(
      opts.count,
      opts.intervalMs,
      (i) =>
        new Promise<number>((resolve, reject) => {
          const t0 = now();
          const fd = fs.openSync(path.join(opts.dir, `${i}.log`), 'a');
          let child: ChildProcess;
          try {
            child = spawn(file, args, { cwd: opts.dir, env, detached: true, stdio: ['ignore', fd, fd], windowsHide: true });
          } catch (e) {
            fs.closeSync(fd);
            return reject(e);
          }
          this.children.add(child);
          child.once('exit', () => this.children.delete(child));
          child.once('spawn', () => {
            const t1 = now();
            fs.closeSync(fd);
            if (++done % 20 === 0) opts.say?.(`  spawned ${done}/${opts.count}`);
            resolve(t1 - t0);
          });
          child.once('error', (e) => {
            fs.closeSync(fd);
            reject(e);
          });
        }),
      opts.signal,
    );
    const failed = results.filter((r) => r.status === 'rejected');
    if (failed.length) throw new Error(`${failed.length} baseline spawns failed: ${String((failed[0] as PromiseRejectedResult).reason)}`);
    return results.map((r) => (r as PromiseFulfilledResult<number>).value);
  }

  get running(): number {
    return this.children.size;
  }

  /** SIGKILLs every process group still running and waits until they are gone. */
  async killAll(): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const child of this.children) {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) continue;
      waits.push(new Promise((resolve) => child.once('exit', () => resolve())));
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }
    await Promise.race([Promise.all(waits), new Promise((r) => setTimeout(r, 5000))]);
  }
}
