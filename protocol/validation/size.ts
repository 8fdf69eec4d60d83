/** The size limit on stored objects (etcd's is 1.5 MiB; kubeact keeps objects within 1 MiB encoded). */
import { encode } from '../codec.js';
import { ApiError, Reason } from '../errors.js';

/** The most bytes an object may take encoded for the wire (msgpack) and the store. */
export const MAX_OBJECT_BYTES = 1024 * 1024;

/** How many bytes `obj` takes encoded (msgpack, as the codec writes it). */
export function objectSize(obj: unknown): number {
  return encode(obj).length;
}

/** A 413 RequestEntityTooLarge error when `bytes` exceeds MAX_OBJECT_BYTES; undefined when it fits. */
export function checkObjectSize(bytes: number): ApiError | undefined {
  if (bytes <= MAX_OBJECT_BYTES) return undefined;
  return new ApiError(Reason.RequestEntityTooLarge, `Request entity too large: object is ${bytes} bytes, limit is ${MAX_OBJECT_BYTES}`);
}
