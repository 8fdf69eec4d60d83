/**
 * Docker tests run against the real engine on this machine. Without one they report themselves
 * skipped with the reason, except under CI=true, where a missing engine is a failure.
 * The test images are built locally by .ci/docker-images.sh (never pulled).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import type { Test } from 'tap';

export const BUSYBOX_IMAGE = 'kubeact-test/busybox:1';
export const NATS_IMAGE = 'kubeact-test/nats:1';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Undefined when an engine answers (and the test images are there); else why not. */
export async function dockerUnavailable(): Promise<string | undefined> {
  try {
    await Promise.race([
      new Docker().ping(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 5s')), 5000).unref()),
    ]);
  } catch (e) {
    return `no Docker engine answers at ${process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock'} (${(e as Error).message}); run .ci/docker-up.sh`;
  }
  // Idempotent: imports the images only when they are missing.
  const err = await new Promise<string | undefined>((resolve) =>
    execFile('bash', [path.join(REPO, '.ci/docker-images.sh')], (e, _out, stderr) => resolve(e ? `cannot build the test images: ${stderr || e.message}` : undefined)),
  );
  return err;
}

/**
 * Runs `body` when an engine answers; otherwise a skipped test that says why (a failure when
 * CI=true: CI must run the docker tests).
 */
export async function withDocker(t: Test, body: () => Promise<void> | void): Promise<void> {
  const reason = await dockerUnavailable();
  if (!reason) return body();
  if (process.env.CI === 'true') t.fail(`CI=true but the docker tests cannot run: ${reason}`);
  else t.test(`docker tests skipped: ${reason}`, { skip: reason }, () => {});
}

