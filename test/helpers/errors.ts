/** Resolves with the ApiError a call fails with; fails the test when the call succeeds. */
import { ApiError } from '../../protocol/errors.js';

export async function rejects(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected the call to fail');
}
