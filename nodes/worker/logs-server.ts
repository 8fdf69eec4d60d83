/**
 * Serves `kubeact logs` for the pods of one node on `kubeact.node.<node>.logs`. Stateless:
 * the pod comes from the API server, the text from the runtime's log files, so logs stay
 * readable after the pod's actor has finished (or the kubelet restarted).
 */
import type { NatsConnection, Subscription } from 'nats';
import type { ApiClient } from '../../protocol/client.js';
import { decode, encode } from '../../protocol/codec.js';
import { ApiError, Reason, toApiError } from '../../protocol/errors.js';
import type { LogChunk, LogsReply, LogsRequest, Reply } from '../../protocol/messages.js';
import type { Pod } from '../../protocol/objects.js';
import { subjects } from '../../protocol/subjects.js';
import type { Logger } from '../shared/logger.js';
import { RuntimeError, type ContainerRuntime } from './runtime/types.js';

export class LogsServer {
  private sub?: Subscription;
  private readonly streams = new Set<AbortController>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly client: ApiClient,
    private readonly runtime: ContainerRuntime,
    private readonly nodeName: string,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.sub = this.nc.subscribe(subjects.nodeLogs(this.nodeName), {
      callback: (err, msg) => {
        if (err) return;
        void (async () => {
          let reply: Reply<LogsReply>;
          let req: LogsRequest | undefined;
          try {
            try {
              req = decode<LogsRequest>(msg.data);
            } catch (e) {
              throw ApiError.badRequest(`cannot decode logs request: ${(e as Error).message}`);
            }
            if (!req || typeof req !== 'object' || typeof req.pod !== 'string') throw ApiError.badRequest('logs request needs a pod name');
            reply = { ok: true, value: await this.read(req) };
          } catch (e) {
            reply = { ok: false, error: toApiError(e).toWire() };
            req = undefined;
          }
          if (msg.reply) msg.respond(encode(reply));
          if (reply.ok && req?.follow && typeof req.inbox === 'string') void this.follow(req, reply.value.container);
        })().catch((e) => this.log.warn({ err: e }, 'logs request failed'));
      },
    });
  }

  stop(): void {
    this.sub?.unsubscribe();
    for (const s of this.streams) s.abort();
  }

  private async resolve(req: LogsRequest): Promise<{ pod: Pod; container: string }> {
    const pod = await this.client.get<Pod>('Pod', req.pod, typeof req.namespace === 'string' ? req.namespace : 'default');
    const names = (pod.spec?.containers ?? []).map((c) => c.name);
    let container = typeof req.container === 'string' ? req.container : undefined;
    if (!container) {
      if (names.length !== 1) throw ApiError.badRequest(`a container name must be specified for pod ${req.pod}, choose one of: [${names.join(' ')}]`);
      container = names[0];
    }
    if (!names.includes(container)) throw ApiError.badRequest(`container ${container} is not valid for pod ${req.pod}`);
    return { pod, container };
  }

  /** With follow, the reply carries nothing: the text is streamed from the start of the file. */
  private async read(req: LogsRequest): Promise<LogsReply> {
    const { pod, container } = await this.resolve(req);
    if (req.follow) return { container, text: '' };
    try {
      const text = await this.runtime.logs(pod.metadata!.uid!, container, { previous: Boolean(req.previous), tailLines: req.tailLines });
      return { container, text };
    } catch (e) {
      if (e instanceof RuntimeError && e.code === 'NotFound') {
        if (req.previous) throw ApiError.badRequest(`previous terminated container "${container}" in pod "${req.pod}" not found`);
        const waiting = pod.status?.containerStatuses?.find((s) => s.name === container)?.state?.waiting?.reason ?? 'ContainerCreating';
        throw ApiError.badRequest(`container "${container}" in pod "${req.pod}" is waiting to start: ${waiting}`);
      }
      throw e;
    }
  }

  /** Sends chunks as requests to the client's inbox; a chunk nobody acknowledges ends the stream. */
  private async follow(req: LogsRequest, container: string): Promise<void> {
    const abort = new AbortController();
    this.streams.add(abort);
    const inbox = req.inbox!;
    let queue = Promise.resolve();
    const send = (chunk: LogChunk) => {
      queue = queue.then(async () => {
        if (abort.signal.aborted && !chunk.end) return;
        try {
          await this.nc.request(inbox, encode(chunk), { timeout: 5000 });
        } catch {
          abort.abort(); // the reader went away
        }
      });
      return queue;
    };
    try {
      const pod = await this.client.get<Pod>('Pod', req.pod, req.namespace ?? 'default');
      const uid = pod.metadata!.uid!;
      await this.runtime.followLogs(uid, container, (text) => void send({ text }), abort.signal, { fromStart: true });
    } catch (e) {
      const err = toApiError(e);
      if (err.reason !== Reason.InternalError) void send({ text: `error: ${err.message}\n` });
    } finally {
      await send({ end: true });
      this.streams.delete(abort);
    }
  }
}
