/**
 * Imported first by the simulated-nodes host (before anything loads msgpackr): decoded strings
 * are plain strings of their own. msgpackr's native decoder returns a message's strings as
 * slices of one string of the whole message, so a pod keeping any one of them (its uid, a
 * container's image) kept every message it came in, its first (ADDED) one included. The
 * JavaScript decoder costs the same for pod-sized messages (measured ~10 µs either way, 1.3 KB).
 * An explicit MSGPACKR_NATIVE_ACCELERATION_DISABLED wins.
 */
process.env.MSGPACKR_NATIVE_ACCELERATION_DISABLED ??= 'true';
export {};
