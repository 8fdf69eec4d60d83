/**
 * Loopback address blocks for test clusters, handed out with lock files so test files running
 * in parallel never share an address. Slot k owns node addresses 127.0.k.0/24 and pod IPs
 * 127.(64 + k/16).((k%16)*16).0/20. Slots 10..250 are for tests; the default cluster (`kubeact
 * up`, the playground) uses 127.0.1.0/24 and 127.64.0.0/16, which no test slot overlaps
 * (127.64.0.0/16 holds slots 0..15 only). Services: 127.(100 + k/64).((k%64)*4).0/22 (the default
 * 127.100.0.0/16 holds slots 0..63, so tests stay clear of it only by slot — the playground and
 * tests never run on one machine's defaults at once in CI); LoadBalancer pool 127.112.k.0/24.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { running } from './procs.js';

const DIR = path.join(os.tmpdir(), 'kubeact-test-blocks');

export interface Block {
  slot: number;
  nodeNetwork: string;
  podNetwork: string;
  serviceNetwork: string;
  loadBalancerPool: string;
  release(): void;
}

export function allocateBlock(): Block {
  mkdirSync(DIR, { recursive: true });
  const start = 16 + Math.floor(Math.random() * 200);
  for (let i = 0; i < 235; i++) {
    const slot = 16 + ((start - 16 + i) % 235);
    const lock = path.join(DIR, `${slot}.lock`);
    try {
      const fd = openSync(lock, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
    } catch {
      const owner = Number(readFileSafe(lock));
      if (owner && !running(owner)) rmSync(lock, { force: true }); // stale: its test process died
      continue;
    }
    return {
      slot,
      nodeNetwork: `127.0.${slot}.0/24`,
      podNetwork: `127.${64 + Math.floor(slot / 16)}.${(slot % 16) * 16}.0/20`,
      serviceNetwork: `127.${100 + Math.floor(slot / 64)}.${(slot % 64) * 4}.0/22`,
      loadBalancerPool: `127.112.${slot}.0/24`,
      release: () => rmSync(lock, { force: true }),
    };
  }
  throw new Error('no free loopback block for a test cluster');
}

function readFileSafe(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}
