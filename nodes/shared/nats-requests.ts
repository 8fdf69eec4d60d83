/**
 * nats.js ends every answered request by calling its `cancel()`, which rejects the already
 * resolved promise with a freshly built NatsError (a stack capture each time): 1.2–2.8% of a
 * busy simulated-nodes host's CPU, for a rejection nobody can observe. Here an answered request
 * only stops its timer and leaves the mux, as cancel() does. A timed-out request is cancelled
 * too, after its caller got the timeout error: that second rejection is as unobservable, and
 * reuses one error built once (the timeouts of an overloaded host would otherwise pay two stack
 * captures each). Process-wide (the class is shared by every connection), applied once.
 */
import { createRequire } from 'node:module';

interface RequestOneInternals {
  timer?: { cancel(): void };
  ctx?: Error;
  deferred: { resolve(v: unknown): void; reject(e: unknown): void };
  mux: { cancel(r: unknown): void };
}

let patched: boolean | undefined;

/** True when answered requests no longer build an error; false (left as it was) when nats.js' internals are not as expected. */
export function cheapRequestEnd(): boolean {
  if (patched !== undefined) return patched;
  try {
    const { RequestOne } = createRequire(import.meta.url)('nats/lib/nats-base-client/request.js') as { RequestOne?: { prototype: Record<string, unknown> } };
    const proto = RequestOne?.prototype;
    if (!proto || typeof proto.resolver !== 'function' || typeof proto.cancel !== 'function') return (patched = false);
    const { NatsError, ErrorCode } = createRequire(import.meta.url)('nats/lib/nats-base-client/core.js') as {
      NatsError?: { errorForCode(code: string): Error };
      ErrorCode?: { Cancelled?: string };
    };
    if (typeof NatsError?.errorForCode !== 'function' || !ErrorCode?.Cancelled) return (patched = false);
    const cancelled = NatsError.errorForCode(ErrorCode.Cancelled);
    proto.cancel = function (this: RequestOneInternals, err?: Error): void {
      this.timer?.cancel();
      this.mux.cancel(this);
      this.deferred.reject(err ?? cancelled);
    };
    proto.resolver = function (this: RequestOneInternals, err: (Error & { stack?: string }) | null, msg: unknown): void {
      this.timer?.cancel();
      if (err) {
        if (this.ctx) err.stack += `\n\n${this.ctx.stack}`;
        this.deferred.reject(err);
      } else this.deferred.resolve(msg);
      this.mux.cancel(this);
    };
    return (patched = true);
  } catch {
    return (patched = false);
  }
}
