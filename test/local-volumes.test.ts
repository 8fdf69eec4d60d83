/**
 * The kubelet's local-path volume server (nodes/worker/local-volumes.ts) on a real nats-server:
 * create and delete are idempotent and stay under the node's local-path root; bad names and
 * garbage get an error reply and never crash it.
 */
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalVolumeServer } from '../nodes/worker/local-volumes.js';
import { silentLogger } from '../nodes/shared/logger.js';
import { ApiClient } from '../protocol/client.js';
import { ApiError } from '../protocol/errors.js';
import { subjects } from '../protocol/subjects.js';
import { startTestNats } from './helpers/nats.js';

t.test('create, delete, bad names and garbage', async (t) => {
  const nats = await startTestNats();
  const nc = await nats.connect();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeact-local-path-test-'));
  const server = new LocalVolumeServer(nc, 'node-a', root, silentLogger());
  server.start();
  t.teardown(async () => {
    server.stop();
    await nc.close();
    await nats.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });
  const client = new ApiClient(nc);

  const made = await client.localVolume('node-a', { op: 'create', name: 'pvc-1234' });
  t.equal(made.path, path.join(root, 'pvc-1234'));
  t.ok(fs.statSync(made.path).isDirectory());
  fs.writeFileSync(path.join(made.path, 'f'), 'x');
  t.equal((await client.localVolume('node-a', { op: 'create', name: 'pvc-1234' })).path, made.path, 'create again: the same directory');
  t.ok(fs.existsSync(path.join(made.path, 'f')), 'and its data is kept');

  t.same(await client.localVolume('node-a', { op: 'delete', name: 'pvc-1234' }), { path: made.path, removed: true });
  t.notOk(fs.existsSync(made.path));
  t.same(await client.localVolume('node-a', { op: 'delete', name: 'pvc-1234' }), { path: made.path, removed: false }, 'delete again: nothing to do');

  for (const name of ['..', '../etc', 'a/b', '', 'UPPER', '.hidden']) {
    const err = await client.localVolume('node-a', { op: 'delete', name }).then(() => undefined, (e) => e);
    t.ok(err instanceof ApiError && err.code === 400, `name ${JSON.stringify(name)} refused`);
  }
  const badOp = await client.localVolume('node-a', { op: 'format' as 'create', name: 'pvc-1' }).then(() => undefined, (e) => e);
  t.ok(badOp instanceof ApiError && badOp.code === 400, 'unknown op refused');

  const garbage = await nc.request(subjects.nodeVolumes('node-a'), new Uint8Array([0xc1, 0xff, 0x00]), { timeout: 5000 });
  t.ok(garbage.data.length > 0, 'garbage gets a reply');
  t.ok(fs.existsSync(root), 'the root is untouched');
  t.same(fs.readdirSync(root), [], 'nothing created');
  // Still serving after the garbage.
  t.equal((await client.localVolume('node-a', { op: 'create', name: 'pvc-after' })).path, path.join(root, 'pvc-after'));
});
