/**
 * The node side of the local-path provisioner: on `kubeact.node.<node>.volumes` the kubelet
 * creates or removes the directory of a provisioned volume under `<data dir>/local-path/<pv name>`.
 * Only that directory, named by one safe path segment, is ever touched; garbage gets an error reply.
 */
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { NatsConnection, Subscription } from 'nats';
import { decode, encode } from '../../protocol/codec.js';
import { ApiError, toApiError } from '../../protocol/errors.js';
import type { LocalVolumeReply, LocalVolumeRequest, Reply } from '../../protocol/messages.js';
import { subjects } from '../../protocol/subjects.js';
import type { Logger } from '../shared/logger.js';

const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export class LocalVolumeServer {
  private sub?: Subscription;

  constructor(
    private readonly nc: NatsConnection,
    private readonly nodeName: string,
    /** `<data dir>/local-path`. */
    readonly root: string,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.sub = this.nc.subscribe(subjects.nodeVolumes(this.nodeName), {
      callback: (err, msg) => {
        if (err) return;
        void (async () => {
          let reply: Reply<LocalVolumeReply>;
          try {
            let req: LocalVolumeRequest;
            try {
              req = decode<LocalVolumeRequest>(msg.data);
            } catch (e) {
              throw ApiError.badRequest(`cannot decode volume request: ${(e as Error).message}`);
            }
            reply = { ok: true, value: await this.handle(req) };
          } catch (e) {
            reply = { ok: false, error: toApiError(e).toWire() };
          }
          if (msg.reply) msg.respond(encode(reply));
        })().catch((e) => this.log.warn({ err: e }, 'volume request failed'));
      },
    });
  }

  stop(): void {
    this.sub?.unsubscribe();
  }

  async handle(req: LocalVolumeRequest): Promise<LocalVolumeReply> {
    if (!req || typeof req !== 'object' || (req.op !== 'create' && req.op !== 'delete')) throw ApiError.badRequest('volume request needs op "create" or "delete"');
    if (typeof req.name !== 'string' || !NAME.test(req.name) || req.name.includes('..')) throw ApiError.badRequest(`volume name ${JSON.stringify(req.name)} is not a valid PersistentVolume name`);
    const dir = path.join(this.root, req.name);
    if (req.op === 'create') {
      await mkdir(dir, { recursive: true, mode: 0o777 });
      this.log.info({ dir }, 'local-path volume created');
      return { path: dir };
    }
    const existed = await stat(dir).then(() => true, () => false);
    await rm(dir, { recursive: true, force: true });
    if (existed) this.log.info({ dir }, 'local-path volume removed');
    return { path: dir, removed: existed };
  }
}
