/**
 * How long a client waits for the API server's answer, told to the server in a NATS header, as
 * kube-apiserver learns it from a request's `?timeout=`: the server drops a request still
 * waiting for a seat when its client has given up (serving it is wasted work, and its write
 * makes the client's retry hit Conflict). Relative, never a wall-clock time: the server counts
 * from when it received the request, so the two clocks need not agree.
 */
import { headers, type MsgHdrs } from 'nats';

/** The header carrying the client's timeout in whole milliseconds. */
export const REQUEST_TIMEOUT_HEADER = 'Kubeact-Timeout-Ms';
/** ApiClient's default per-request timeout; also what the server assumes when a request does not say. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5000;
/** The longest timeout the server believes (longer values count as this): nobody waits 10 min for one reply. */
export const MAX_REQUEST_TIMEOUT_MS = 600_000;

/** One header object per timeout value: nats.js only reads it when encoding, so requests share it. */
const cache = new Map<number, MsgHdrs>();

/** The headers telling the server that the client waits `timeoutMs`. */
export function timeoutHeaders(timeoutMs: number): MsgHdrs {
  const ms = Math.max(1, Math.round(timeoutMs));
  let h = cache.get(ms);
  if (!h) {
    h = headers();
    h.set(REQUEST_TIMEOUT_HEADER, String(ms));
    if (cache.size < 64) cache.set(ms, h);
  }
  return h;
}

/**
 * The client's timeout as the server should believe it: the header's value if it is a whole
 * number of ms in [1, MAX_REQUEST_TIMEOUT_MS] (larger ones are capped); otherwise — missing,
 * garbage, zero, negative — the default, so a client cannot make the server skip expiry nor
 * have its requests dropped at once by sending nonsense.
 */
export function requestTimeoutMs(hdrs: MsgHdrs | undefined): number {
  const raw = hdrs?.get(REQUEST_TIMEOUT_HEADER);
  if (!raw || !/^[0-9]{1,12}$/.test(raw)) return DEFAULT_REQUEST_TIMEOUT_MS;
  const ms = Number(raw);
  if (ms < 1) return DEFAULT_REQUEST_TIMEOUT_MS;
  return Math.min(ms, MAX_REQUEST_TIMEOUT_MS);
}
