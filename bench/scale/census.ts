/**
 * The message census of the scale bench (KUBEACT_SCALE_CENSUS=1): every NATS message of the
 * throughput window (create → every pod Running), counted by what it is — API request by
 * verb and kind, KV write by bucket, watch event by kind, pod event to a node, JetStream
 * acks and pushes, replies — with its bytes, so each pod's writes and publishes can be
 * accounted for. A `>` subscription sees every message once more: nats-server sends twice
 * the bytes, so a census run's rates are not the bench's figures.
 */
import { connect, type NatsConnection, type Subscription } from 'nats';

export interface CensusRow {
  what: string;
  messages: number;
  bytes: number;
}

/** The class a subject belongs to (one row of the census). */
export function censusClass(subject: string): string {
  const t = subject.split('.');
  if (t[0] === 'kubeact') {
    if (t[1] === 'api') return `API request ${t[2]} ${t[3]}`;
    if (t[1] === 'watch') return `watch event ${t[2]}`;
    if (t[1] === 'node') return `node ${t.slice(3).join('.')}`;
    return `kubeact ${t[1]}`;
  }
  if (t[0] === '$KV') return `KV write ${t[1]}`;
  if (t[0] === '$JS') {
    if (t[1] === 'ACK') return `JetStream push ${t[2]}`;
    if (t[1] === 'FC') return 'JetStream flow control';
    return `JetStream API ${t.slice(2, 4).join('.')}`;
  }
  if (t[0] === '_INBOX') return 'reply (_INBOX)';
  return t[0];
}

export class Census {
  private readonly rows = new Map<string, CensusRow>();
  private sub?: Subscription;
  private nc?: NatsConnection;
  /** Set when nats-server dropped messages to the census (a slow consumer): the counts are short. */
  incomplete = false;

  /** On a connection of its own: a slow census must not cost the bench's watch its events. */
  async start(url: string): Promise<void> {
    this.nc = await connect({ servers: url, name: 'kubeact-scale-census' });
    void (async () => {
      for await (const s of this.nc!.status()) if (s.type === 'error' || String(s.data).includes('slow')) this.incomplete = true;
    })();
    this.sub = this.nc.subscribe('>', {
      callback: (_err, msg) => {
        // JetStream pushes go to the consumer's deliver subject (an inbox): their reply subject names the stream.
        const what = msg.subject.startsWith('_INBOX.') && msg.reply?.startsWith('$JS.ACK.') ? censusClass(msg.reply) : censusClass(msg.subject);
        const row = this.rows.get(what) ?? { what, messages: 0, bytes: 0 };
        row.messages++;
        row.bytes += msg.data.length;
        this.rows.set(what, row);
      },
    });
  }

  async stop(): Promise<CensusRow[]> {
    this.sub?.unsubscribe();
    await this.nc?.close();
    return [...this.rows.values()].sort((a, b) => b.messages - a.messages);
  }
}

/** The census as a markdown table, per pod. */
export function censusTable(rows: readonly CensusRow[], pods: number): string {
  const lines = ['| messages | per pod | bytes per pod | what |', '|---|---|---|---|'];
  for (const r of rows) lines.push(`| ${r.messages} | ${(r.messages / pods).toFixed(2)} | ${(r.bytes / pods).toFixed(0)} | ${r.what} |`);
  const total = rows.reduce((n, r) => n + r.messages, 0);
  const bytes = rows.reduce((n, r) => n + r.bytes, 0);
  lines.push(`| ${total} | ${(total / pods).toFixed(2)} | ${(bytes / pods).toFixed(0)} | all |`);
  return lines.join('\n');
}
