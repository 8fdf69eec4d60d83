/**
 * The playground's NetworkPolicy part, on the `web` Service of the Deployment steps: a policy
 * lets only frontend pods in, so this host's request through the ClusterIP is reset by
 * kube-proxy (and counted as denied); a second policy allows this host's address, and the same
 * request is answered.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { ApiClient } from '../protocol/client.js';
import { check, type Narrator } from './narrator.js';

export interface NetpolStepsOptions {
  n: Narrator;
  client: ApiClient;
  kubeact(args: string[], opts?: { expectFail?: boolean }): Promise<string>;
  /** playground/manifests/web-netpol.yaml: the deny policy, then the allow one. */
  manifest: string;
  /** Where the one-policy manifest is written. */
  workDir: string;
}

/** What a GET through the ClusterIP gives: the answer, or the error (a reset shows as a failed fetch). */
async function get(url: string): Promise<{ ok: boolean; text: string }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return { ok: true, text: (await res.text()).trim() };
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code;
    return { ok: false, text: cause ?? (e as Error).message };
  }
}

async function until(url: string, ok: boolean, timeoutMs: number): Promise<{ ok: boolean; text: string }> {
  const deadline = Date.now() + timeoutMs;
  let last = await get(url);
  // kube-proxy applies a policy once its watch delivers it: retry until it shows.
  while (last.ok !== ok && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    last = await get(url);
  }
  return last;
}

export async function netpolSteps({ n, client, kubeact, manifest, workDir }: NetpolStepsOptions): Promise<void> {
  const service = await client.get('Service', 'web', 'default');
  const url = `http://${service.spec.clusterIP as string}/`;
  const [deny] = parseAllDocuments(readFileSync(manifest, 'utf8'));
  const denyFile = path.join(workDir, 'web-allow-frontend.yaml');
  writeFileSync(denyFile, deny.toString());

  await n.step('A NetworkPolicy lets only role=frontend pods reach web: this host\'s request through the ClusterIP is reset', async () => {
    await kubeact(['apply', '-f', denyFile]);
    await kubeact(['get', 'netpol']);
    const res = await until(url, false, 20_000);
    n.say(`GET ${url} → ${res.ok ? res.text : `refused (${res.text})`}`);
    check(!res.ok, 'the request still got through');
    await kubeact(['describe', 'netpol', 'web-allow-frontend']);
  });

  await n.step('A second policy allows 127.0.0.1/32 (policies add up): the same request is answered', async () => {
    await kubeact(['apply', '-f', manifest]);
    const res = await until(url, true, 20_000);
    n.say(`GET ${url} → ${res.ok ? res.text : `refused (${res.text})`}`);
    check(res.ok && res.text.includes(' on node-'), `no answer through the ClusterIP: ${res.text}`);
  });
}
