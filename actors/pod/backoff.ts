/**
 * CrashLoopBackOff arithmetic and the kubelet's wording of it. Pure functions.
 */
import { ownString } from '../../protocol/codec.js';
import type { BackoffConfig, RestartPolicy } from './types.js';

/** The delay after `currentMs`: doubled, capped at the maximum. */
export function nextBackoff(currentMs: number, config: BackoffConfig): number {
  return Math.min(currentMs * 2, config.maxMs);
}

/** Whether the restart policy restarts a container that exited with `exitCode`. */
export function restartPolicyRestarts(policy: RestartPolicy, exitCode: number): boolean {
  switch (policy) {
    case 'Always':
      return true;
    case 'OnFailure':
      return exitCode !== 0;
    case 'Never':
      return false;
  }
}

/** A duration as Go's time.Duration prints it (kubelet messages use that): `10s`, `1m20s`, `5m0s`, `500ms`. */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = (ms % 60_000) / 1000;
  let out = '';
  if (hours) out += `${hours}h`;
  if (hours || minutes) out += `${minutes}m`;
  return `${out}${seconds}s`;
}

/** `<pod>_<namespace>(<uid>)`, the kubelet's way of naming a pod in messages. */
export function podLabel(name: string, namespace: string, uid: string): string {
  // Kept in the container actor's context for the pod's life: its own copy, not a rope over the
  // strings of the message the pod came in (which it would keep alive).
  return ownString(`${name}_${namespace}(${uid})`);
}

/** The CrashLoopBackOff waiting message, word for word as the kubelet writes it. */
export function crashLoopMessage(delayMs: number, container: string, pod: string): string {
  return `back-off ${formatDuration(delayMs)} restarting failed container=${container} pod=${pod}`;
}
