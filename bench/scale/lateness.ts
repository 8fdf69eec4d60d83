/**
 * Lease renewal lateness of the simulated-nodes host over a window of the run: the host logs
 * every renewal's delay against its due time, one `heartbeat lateness` line per 5 s
 * (nodes/worker/heartbeat-lateness.ts); the lines logged within the window are merged here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { HEARTBEAT_LATENESS_MSG } from '../../nodes/worker/heartbeat-lateness.js';
import { summarize, type Summary } from '../stats.js';

/** Every renewal of the log's lateness lines stamped within [fromMs, toMs] (wall clock). */
export function renewalLateness(logText: string, fromMs: number, toMs: number): Summary {
  const samples: number[] = [];
  for (const line of logText.split('\n')) {
    if (!line.includes(HEARTBEAT_LATENESS_MSG)) continue;
    let rec: { msg?: string; time?: number; lateMs?: unknown };
    try {
      rec = JSON.parse(line);
    } catch {
      continue;
    }
    if (rec.msg !== HEARTBEAT_LATENESS_MSG || typeof rec.time !== 'number' || rec.time < fromMs || rec.time > toMs || !Array.isArray(rec.lateMs)) continue;
    for (const v of rec.lateMs) if (typeof v === 'number') samples.push(v);
  }
  return summarize(samples);
}

export function renewalLatenessOfFile(file: string, fromMs: number, toMs: number): Summary {
  return renewalLateness(existsSync(file) ? readFileSync(file, 'utf8') : '', fromMs, toMs);
}
