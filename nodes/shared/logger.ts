/** Structured logs (pino). Each process names itself; KUBEACT_LOG_LEVEL sets the level. */
import pino, { type Logger } from 'pino';

export type { Logger };

export function createLogger(name: string, fields: Record<string, unknown> = {}): Logger {
  return pino({ name, level: process.env.KUBEACT_LOG_LEVEL ?? 'info', base: { pid: process.pid, ...fields } });
}

/** A logger that drops everything, for embedding components in tests and benchmarks. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
