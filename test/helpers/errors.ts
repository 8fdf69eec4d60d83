/** Resolves with the error (an ApiError unless `type` says otherwise) a call fails with; fails the test when the call succeeds. */
import { ApiError } from '../../protocol/errors.js';

export async function rejects<E extends Error = ApiError>(p: Promise<unknown>, type: abstract new (...args: never[]) => E = ApiError as never): Promise<E> {
  try {
    await p;
  } catch (e) {
    if (e instanceof type) return e;
    throw e;
  }
  throw new Error('expected the call to fail');
}
