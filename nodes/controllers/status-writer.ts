/**
 * Writes controllers' status updates: one writer per object, bursts collapse into the
 * latest status (which replaces the whole status), compare-and-set with re-read on Conflict; a gone object ends it quietly.
 */
import type { ApiClient } from '../../protocol/client.js';
import { ApiError, Reason } from '../../protocol/errors.js';
import type { Kind } from '../../protocol/kinds.js';
import type { KubeObject } from '../../protocol/objects.js';
import type { Logger } from '../shared/logger.js';

export class StatusWriter {
  private readonly latest = new Map<string, { obj: KubeObject; status: unknown }>();
  private readonly writing = new Set<string>();

  constructor(
    private readonly client: ApiClient,
    private readonly kind: Kind,
    private readonly log: Logger,
  ) {}

  write(obj: KubeObject, status: unknown): void {
    const key = `${obj.metadata?.namespace}/${obj.metadata?.name}`;
    this.latest.set(key, { obj, status });
    if (!this.writing.has(key)) void this.loop(key);
  }

  private async loop(key: string): Promise<void> {
    this.writing.add(key);
    try {
      for (let next = this.latest.get(key); next; next = this.latest.get(key)) {
        this.latest.delete(key);
        const { obj, status } = next;
        try {
          await this.client.modify<KubeObject>(
            this.kind,
            obj.metadata!.name!,
            obj.metadata?.namespace,
            (current) => {
              if (current.metadata?.uid !== obj.metadata?.uid) return false;
              if (JSON.stringify(status) === JSON.stringify(current.status ?? {})) return false;
              current.status = status;
            },
            { status: true },
          );
        } catch (e) {
          if (!(e instanceof ApiError && e.reason === Reason.NotFound)) this.log.warn({ key, err: (e as Error).message }, 'status write failed');
        }
      }
    } finally {
      this.writing.delete(key);
    }
  }
}
