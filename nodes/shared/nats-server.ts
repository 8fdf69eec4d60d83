/**
 * Starting a nats-server with JetStream: used by `kubeact up`, the playground, the
 * benchmarks and the tests (one server per test file, own port and store dir).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync, openSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export interface NatsServerOptions {
  /** Directory for the config, JetStream store and log. */
  dir: string;
  /** Port to listen on; 0 or omitted picks a free one. */
  port?: number;
  host?: string;
  /** Keep the server running after this process exits (`kubeact up`). */
  detached?: boolean;
}

export interface NatsServerHandle {
  url: string;
  port: number;
  pid: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Largest object message: objects are capped at 1 MiB (like ConfigMaps), requests carry a little more. */
export const MAX_PAYLOAD = 4 * 1024 * 1024;

export function findNatsServer(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/bin', '/usr/local/bin'])) {
    const p = path.join(dir, 'nats-server');
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}

/**
 * Finds nats-server, installing Debian's package when it is missing and we are root on
 * Debian/Ubuntu (saying so); otherwise throws with the command that installs it.
 */
export function ensureNatsServer(say: (line: string) => void = () => {}): string {
  const found = findNatsServer();
  if (found) return found;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = existsSync('/usr/bin/apt-get');
  if (isRoot && hasApt) {
    say('nats-server is not installed: installing the distribution package (apt-get install nats-server) ...');
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    execFileSync('apt-get', ['install', '-y', '-qq', 'nats-server'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    const installed = findNatsServer();
    if (installed) return installed;
  }
  throw new Error(
    'nats-server was not found on PATH. Install it first: `sudo apt-get install nats-server` (Debian/Ubuntu), ' +
      '`brew install nats-server` (macOS), or download it from the NATS releases page.',
  );
}

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function waitForPort(port: number, host: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    let exited = false;
    child.once('exit', (code) => {
      exited = true;
      reject(new Error(`nats-server exited with code ${code} before listening on ${host}:${port}`));
    });
    const attempt = () => {
      if (exited) return;
      const sock = net.connect(port, host);
      sock.once('connect', () => {
        sock.destroy();
        resolve();
      });
      sock.once('error', () => {
        sock.destroy();
        if (Date.now() > deadline) reject(new Error(`nats-server did not listen on ${host}:${port} within ${timeoutMs} ms`));
        else setTimeout(attempt, 20);
      });
    };
    attempt();
  });
}

export async function startNatsServer(opts: NatsServerOptions): Promise<NatsServerHandle> {
  const bin = ensureNatsServer();
  const host = opts.host ?? '127.0.0.1';
  mkdirSync(opts.dir, { recursive: true });
  for (let attempt = 0; ; attempt++) {
    const port = opts.port || (await freePort(host));
    const conf = path.join(opts.dir, 'nats.conf');
    const store = path.join(opts.dir, 'jetstream');
    writeFileSync(
      conf,
      [
        `listen: "${host}:${port}"`,
        `max_payload: ${MAX_PAYLOAD}`,
        `jetstream { store_dir: "${store}", max_memory_store: 256MB, max_file_store: 4GB }`,
        // A stricter write deadline than nats-server's 10 s (e.g. "1s"), to see at a few thousand
        // pods which clients would be dropped as slow consumers at a hundred thousand (benchmarks).
        ...(process.env.KUBEACT_NATS_WRITE_DEADLINE ? [`write_deadline: "${process.env.KUBEACT_NATS_WRITE_DEADLINE.replace(/[^0-9a-z.]/g, '')}"`] : []),
        '',
      ].join('\n'),
    );
    const log = openSync(path.join(opts.dir, 'nats-server.log'), 'a');
    const child = spawn(bin, ['-c', conf], { stdio: ['ignore', log, log], detached: opts.detached ?? false });
    try {
      await waitForPort(port, host, child, 10_000);
    } catch (e) {
      child.kill('SIGKILL');
      if (!opts.port && attempt < 3) continue; // the free port was taken in between: pick another
      throw e;
    }
    if (opts.detached) child.unref();
    const url = `nats://${host}:${port}`;
    return {
      url,
      port,
      pid: child.pid!,
      child,
      stop: () => stopChild(child),
    };
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
export function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
