/** A CLI call's connection to the cluster, and the error type commands exit with. */
import { connect, type NatsConnection } from 'nats';
import { ApiClient } from '../../protocol/client.js';
import { resolveNatsUrl } from '../launcher/context.js';

/** An error the CLI prints as one line (`error: ...`) and exits non-zero with. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export interface Session {
  client: ApiClient;
  nc: NatsConnection;
  close(): Promise<void>;
}

export async function openSession(server?: string): Promise<Session> {
  const url = resolveNatsUrl(server);
  if (!url) throw new CliError('no cluster found: start one with `kubeact up` (or pass --server / set KUBEACT_NATS_URL)');
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: url, name: 'kubeact-cli', timeout: 3000, maxReconnectAttempts: 0 });
  } catch (e) {
    throw new CliError(`Unable to connect to the server: ${url}: ${(e as Error).message}`);
  }
  const client = new ApiClient(nc, { timeoutMs: 10_000 });
  return {
    client,
    nc,
    close: () => nc.close().catch(() => {}),
  };
}

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

export const stdio: Output = {
  out: (t) => process.stdout.write(t.endsWith('\n') ? t : t + '\n'),
  err: (t) => process.stderr.write(t.endsWith('\n') ? t : t + '\n'),
};
