/**
 * The kubelet's probers: run one probe of a running container, once, within its
 * `timeoutSeconds`. The pod actor decides when (actors/pod/probe.ts); the pod worker provides
 * `probeContainer` as its `runProbe` actor.
 *
 * - httpGet: GET `<scheme>://<host>:<port><path>` (host: the pod IP unless set; port: a number
 *   or a named container port), with `httpHeaders`, no keep-alive, no redirects followed;
 *   success is a status in 200..399.
 * - tcpSocket: a TCP connection to host:port opens.
 * - exec: `command` run like the container (its environment and working directory, no
 *   shell); success is exit 0. On timeout or abort the command's process group is killed.
 *
 * Only loopback: a host outside 127.0.0.0/8 is a probe failure, never a connection attempt.
 * Messages are the kubelet's (Go's) wording, e.g. `Get "http://127.64.0.5:8080/healthz": dial
 * tcp 127.64.0.5:8080: connect: connection refused`, `HTTP probe failed with statuscode: 500`.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { probeConfig, type RunProbeInput, type RunProbeOutput } from '../../actors/pod/index.js';
import type { Container } from '../../protocol/objects.js';
import { contains, parseCidr } from '../shared/cidr.js';
import { buildContainerConfig, type PodPlacement } from './container-config.js';

export interface ProbeOptions {
  /** Where the pod runs (exec probes build the container's environment from it). */
  placement: PodPlacement;
  /** The pod's Service variables (as its containers got them). */
  serviceEnv?: Record<string, string>;
  /** Aborted when the pod actor abandons the probe (container stopped, pod deleted). */
  signal?: AbortSignal;
}

/** What kubelet's HTTP prober sends as User-Agent. */
const USER_AGENT = 'kube-probe/1.30';
/** Output kept from an exec probe (kubelet keeps 10 KiB). */
const MAX_OUTPUT = 10 * 1024;

const LOOPBACK = parseCidr('127.0.0.0/8');

/** Runs one probe of a container. Never rejects for a probe that fails: resolves `{ ok: false, message }`. */
export async function probeContainer(input: RunProbeInput, opts: ProbeOptions): Promise<RunProbeOutput> {
  const { spec, pod } = input;
  const timeoutMs = probeConfig(spec, input.probe).timeoutMs;
  const container = pod.spec?.containers.find((c) => c.name === input.container);
  try {
    if (spec.exec) return await execProbe(input, spec.exec.command ?? [], timeoutMs, opts);
    if (spec.httpGet) {
      const action = spec.httpGet;
      const host = loopbackHost(action.host || input.podIP);
      const port = resolvePort(action.port, container);
      const scheme = (action.scheme ?? 'HTTP').toUpperCase() === 'HTTPS' ? 'https' : 'http';
      let target = action.path ?? '';
      if (!target.startsWith('/')) target = `/${target}`;
      const headers: Record<string, string> = { 'User-Agent': USER_AGENT, Accept: '*/*' };
      for (const h of action.httpHeaders ?? []) headers[h.name] = h.value ?? '';
      return await httpProbe(scheme, host, port, target, headers, timeoutMs, opts.signal);
    }
    if (spec.tcpSocket) {
      const host = loopbackHost(spec.tcpSocket.host || input.podIP);
      return await tcpProbe(host, resolvePort(spec.tcpSocket.port, container), timeoutMs, opts.signal);
    }
    if (spec.grpc) return { ok: false, message: 'grpc probes are not supported by kubeact' };
    return { ok: false, message: 'missing probe handler' };
  } catch (e) {
    if (e instanceof ProbeError) return { ok: false, message: e.message };
    throw e;
  }
}

/** A probe that cannot even be attempted (bad port, host outside loopback): a failure with this message. */
class ProbeError extends Error {}

function loopbackHost(host: string): string {
  const h = host === 'localhost' ? '127.0.0.1' : host;
  if (!net.isIPv4(h) || !contains(LOOPBACK, h)) {
    throw new ProbeError(`probe host ${JSON.stringify(host)} is outside 127.0.0.0/8: kubeact only probes loopback addresses`);
  }
  return h;
}

/** kubelet's ResolveContainerPort: a number, or the name of a container port (or a number written as a string). */
export function resolvePort(port: number | string | undefined, container: Container | undefined): number {
  let n: number;
  if (typeof port === 'number') n = port;
  else if (typeof port === 'string') {
    const named = container?.ports?.find((p) => p.name === port);
    if (named) n = named.containerPort;
    else if (/^\d+$/.test(port)) n = Number(port);
    else throw new ProbeError(`port ${port} not found`);
  } else throw new ProbeError('probe has no port');
  if (!Number.isInteger(n) || n <= 0 || n >= 65536) throw new ProbeError(`invalid port number: ${n}`);
  return n;
}

/** Go's wording of a failed dial. */
function dialError(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'connect: connection refused';
    case 'EHOSTUNREACH':
      return 'connect: no route to host';
    case 'ENETUNREACH':
      return 'connect: network is unreachable';
    case 'EADDRNOTAVAIL':
      return 'connect: cannot assign requested address';
    case 'ECONNRESET':
      return 'connection reset by peer';
    default:
      return err.message;
  }
}

const joinHostPort = (host: string, port: number) => `${host}:${port}`;

function abortError(): Error {
  return Object.assign(new Error('probe aborted'), { name: 'AbortError' });
}

/**
 * One network probe attempt: `open` starts it and calls `finish` with its result; whichever comes
 * first of that, the timeout (`timedOut`) or the abort signal settles it, and the connection
 * `open` returned is destroyed.
 */
function probeAttempt(
  timeoutMs: number,
  timedOut: RunProbeOutput,
  signal: AbortSignal | undefined,
  open: (finish: (result: RunProbeOutput) => void) => { destroy(): void },
): Promise<RunProbeOutput> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    let done = false;
    let conn: { destroy(): void } | undefined;
    const settle = (fn: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      conn?.destroy();
      fn();
    };
    const onAbort = () => settle(() => reject(abortError()));
    const timer = setTimeout(() => settle(() => resolve(timedOut)), timeoutMs);
    conn = open((result) => settle(() => resolve(result)));
    signal?.addEventListener('abort', onAbort);
  });
}

function httpProbe(
  scheme: 'http' | 'https',
  host: string,
  port: number,
  target: string,
  headers: Record<string, string>,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<RunProbeOutput> {
  const url = `${scheme}://${joinHostPort(host, port)}${target}`;
  const timedOut = { ok: false, message: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` };
  return probeAttempt(timeoutMs, timedOut, signal, (finish) => {
    const lib = scheme === 'https' ? https : http;
    const req = lib.request(
      // The kubelet does not verify probe certificates; no keep-alive (agent: false).
      { host, port, path: target, method: 'GET', headers, agent: false, ...(scheme === 'https' ? { rejectUnauthorized: false } : {}) },
      (res) => {
        const code = res.statusCode ?? 0;
        res.resume();
        finish(code >= 200 && code < 400 ? { ok: true, message: '' } : { ok: false, message: `HTTP probe failed with statuscode: ${code}` });
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      const connecting = ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL'].includes(err.code ?? '');
      const detail = connecting ? `dial tcp ${joinHostPort(host, port)}: ${dialError(err)}` : dialError(err);
      finish({ ok: false, message: `Get "${url}": ${detail}` });
    });
    req.end();
    return req;
  });
}

function tcpProbe(host: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<RunProbeOutput> {
  const address = joinHostPort(host, port);
  return probeAttempt(timeoutMs, { ok: false, message: `dial tcp ${address}: i/o timeout` }, signal, (finish) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => finish({ ok: true, message: '' }));
    socket.once('error', (err: NodeJS.ErrnoException) => finish({ ok: false, message: `dial tcp ${address}: ${dialError(err)}` }));
    return socket;
  });
}

/** Go's %q of the command line, as the kubelet prints it. */
const quoteCommand = (command: string[]) => JSON.stringify(command.join(' '));

function execProbe(input: RunProbeInput, command: string[], timeoutMs: number, opts: ProbeOptions): Promise<RunProbeOutput> {
  if (!command.length) throw new ProbeError('exec probe has no command');
  let config;
  try {
    config = buildContainerConfig(input.pod, input.container, 0, opts.placement, opts.serviceEnv);
  } catch (e) {
    throw new ProbeError((e as Error).message);
  }
  // As the process runtime starts the container: exactly its env (plus the kubelet's PATH when it sets none), its workingDir.
  const env: Record<string, string> = { ...config.env };
  if (env.PATH === undefined && process.env.PATH !== undefined) env.PATH = process.env.PATH;
  const cwd = path.resolve(config.workingDir ?? process.cwd());
  const signal = opts.signal;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    let output = '';
    let done = false;
    let timedOut = false;
    const child = spawn(command[0], command.slice(1), { env, cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = () => {
      killGroup();
      finish(() => reject(abortError()));
    };
    const collect = (chunk: Buffer) => {
      if (output.length < MAX_OUTPUT) output += chunk.toString('utf8').slice(0, MAX_OUTPUT - output.length);
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
      finish(() => resolve({ ok: false, message: `command ${quoteCommand(command)} timed out` }));
    }, timeoutMs);
    child.once('error', (err: NodeJS.ErrnoException) => {
      const message =
        err.code === 'ENOENT'
          ? command[0].includes('/')
            ? `exec: "${command[0]}": stat ${command[0]}: no such file or directory`
            : `exec: "${command[0]}": executable file not found in $PATH`
          : err.code === 'EACCES'
            ? `exec: "${command[0]}": permission denied`
            : err.message;
      finish(() => resolve({ ok: false, message }));
    });
    child.once('close', (code, sig) => {
      if (timedOut) return;
      const exitCode = code ?? 128 + (sig ? (os.constants.signals[sig] ?? 0) : 0);
      const text = output.trim();
      finish(() =>
        resolve(
          exitCode === 0
            ? { ok: true, message: text }
            : { ok: false, message: `command ${quoteCommand(command)} exited with ${exitCode}${text ? `: ${text}` : ''}` },
        ),
      );
    });
    signal?.addEventListener('abort', onAbort);
  });
}
