/**
 * Which pod opened a local connection, for clients whose address says nothing (process-runtime
 * containers connect from 127.0.0.1 like every host process): the client's socket in
 * /proc/net/tcp (or udp) → its inode → the process holding that inode among its fds → that
 * process's POD_NAMESPACE / POD_NAME (the kubelet puts both in every container's environment).
 * Linux only; synchronous (a few hundred syscalls on a busy host, measured in bench/netpol.ts).
 * Processes that were owners before are searched first: a pod that connects once connects again.
 */
import fs from 'node:fs';

export interface SocketAddress {
  ip: string;
  port: number;
}

export interface PodRef {
  namespace: string;
  name: string;
}

/** `127.0.0.1:8080` as /proc/net/tcp writes it: `0100007F:1F90` (IPv4, host byte order on little-endian). */
export function procAddress(a: SocketAddress): string {
  const o = a.ip.split('.').map(Number);
  const hex = (n: number, w: number) => n.toString(16).toUpperCase().padStart(w, '0');
  return `${hex(o[3], 2)}${hex(o[2], 2)}${hex(o[1], 2)}${hex(o[0], 2)}:${hex(a.port, 4)}`;
}

/**
 * The inode of the socket whose local address is `local` (and, for TCP, whose peer is `remote`),
 * from the text of /proc/net/tcp or /proc/net/udp; undefined when there is none.
 */
export function findSocketInode(table: string, local: SocketAddress, remote?: SocketAddress): string | undefined {
  const l = procAddress(local);
  const r = remote ? procAddress(remote) : undefined;
  let at = table.indexOf(` ${l} `);
  while (at >= 0) {
    const end = table.indexOf('\n', at);
    const fields = table.slice(at, end < 0 ? undefined : end).trim().split(/\s+/);
    // local rem st tx:rx tr:when retrnsmt uid timeout inode
    if (fields[0] === l && (!r || fields[1] === r)) return fields[8];
    at = table.indexOf(` ${l} `, at + 1);
  }
  return undefined;
}

/** POD_NAMESPACE and POD_NAME from a NUL-separated environ; undefined unless both are there. */
export function podFromEnviron(environ: string): PodRef | undefined {
  let namespace: string | undefined;
  let name: string | undefined;
  for (const entry of environ.split('\0')) {
    if (entry.startsWith('POD_NAMESPACE=')) namespace = entry.slice('POD_NAMESPACE='.length);
    else if (entry.startsWith('POD_NAME=')) name = entry.slice('POD_NAME='.length);
  }
  return namespace && name ? { namespace, name } : undefined;
}

export class SocketOwners {
  /** Pids that owned a looked-up socket before, most recent first. */
  private hot: string[] = [];

  constructor(private readonly proc = '/proc') {}

  /**
   * The pod whose process holds the client end of a connection from `client` to `server`
   * (UDP: the socket bound to `client`); undefined when the socket is gone or its owner is not
   * a pod's process.
   */
  podOf(protocol: 'TCP' | 'UDP', client: SocketAddress, server: SocketAddress): PodRef | undefined {
    const pid = this.ownerPid(protocol, client, server);
    if (!pid) return undefined;
    try {
      return podFromEnviron(fs.readFileSync(`${this.proc}/${pid}/environ`, 'latin1'));
    } catch {
      return undefined; // exited meanwhile, or not ours to read
    }
  }

  /** The pid holding the client's socket, or undefined. */
  ownerPid(protocol: 'TCP' | 'UDP', client: SocketAddress, server: SocketAddress): string | undefined {
    let table: string;
    try {
      table = fs.readFileSync(`${this.proc}/net/${protocol === 'TCP' ? 'tcp' : 'udp'}`, 'latin1');
    } catch {
      return undefined;
    }
    // A UDP client bound to the wildcard address is listed as 0.0.0.0.
    const inode = findSocketInode(table, client, protocol === 'TCP' ? server : undefined) ?? (protocol === 'UDP' ? findSocketInode(table, { ip: '0.0.0.0', port: client.port }) : undefined);
    if (!inode || inode === '0') return undefined;
    const target = `socket:[${inode}]`;
    const hot = new Set(this.hot);
    for (const pid of this.hot) if (this.holds(pid, target)) return this.remember(pid);
    let pids: string[];
    try {
      pids = fs.readdirSync(this.proc).filter((d) => /^\d+$/.test(d) && !hot.has(d));
    } catch {
      return undefined;
    }
    // Newest processes first: the client is more likely a recent pod than an old system daemon.
    pids.sort((a, b) => Number(b) - Number(a));
    for (const pid of pids) if (this.holds(pid, target)) return this.remember(pid);
    return undefined;
  }

  private holds(pid: string, target: string): boolean {
    let fds: string[];
    try {
      fds = fs.readdirSync(`${this.proc}/${pid}/fd`);
    } catch {
      return false; // gone, or another user's
    }
    for (const fd of fds) {
      try {
        if (fs.readlinkSync(`${this.proc}/${pid}/fd/${fd}`) === target) return true;
      } catch {
        // closed meanwhile
      }
    }
    return false;
  }

  private remember(pid: string): string {
    this.hot = [pid, ...this.hot.filter((p) => p !== pid)].slice(0, 64);
    return pid;
  }
}
