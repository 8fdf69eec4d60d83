/**
 * `kubeact rollout status|history|undo|pause|resume|restart deployment/NAME`, as kubectl
 * does them: history and undo read the ReplicaSets the deployment owns (their
 * `deployment.kubernetes.io/revision` annotation); undo copies an old pod template back
 * into the deployment, and the controller makes it the newest revision.
 */
import { parseArgs } from 'node:util';
import type { ApiClient } from '../../../protocol/client.js';
import { ApiError } from '../../../protocol/errors.js';
import type { KubeObject } from '../../../protocol/objects.js';
import { toYaml } from '../printers.js';
import { objectRef, parseOneTarget } from '../resources.js';
import { CliError, openSession, type Output } from '../session.js';

export const REVISION = 'deployment.kubernetes.io/revision';
const HASH_LABEL = 'pod-template-hash';
const CHANGE_CAUSE = 'kubernetes.io/change-cause';

const flags = {
  namespace: { type: 'string', short: 'n' },
  revision: { type: 'string' },
  'to-revision': { type: 'string' },
  timeout: { type: 'string' },
  watch: { type: 'string', short: 'w' },
  server: { type: 'string', short: 's' },
} as const;

export async function rolloutCommand(args: string[], io: Output): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({ args: rest, options: flags, allowPositionals: true });
  const { kind, name } = parseOneTarget(positionals);
  if (kind !== 'Deployment') throw new CliError(`no rollout for ${kind.toLowerCase()}s: only deployments roll out`);
  const namespace = values.namespace ?? 'default';
  const session = await openSession(values.server);
  const ref = objectRef(kind, name);
  try {
    const client = session.client;
    switch (sub) {
      case 'status':
        return await rolloutStatus(client, name, namespace, io, parseTimeout(values.timeout), values.watch !== 'false');
      case 'history':
        return await rolloutHistory(client, name, namespace, io, values.revision);
      case 'undo':
        return await rolloutUndo(client, name, namespace, io, values['to-revision']);
      case 'pause':
      case 'resume': {
        const paused = sub === 'pause';
        let already = false;
        const updated = await client.modify<KubeObject>('Deployment', name, namespace, (d) => {
          if (Boolean(d.spec?.paused) === paused) {
            already = true;
            return false;
          }
          d.spec.paused = paused || undefined;
          if (!paused) delete d.spec.paused;
        });
        if (!updated) throw ApiError.notFound('Deployment', name);
        if (already) throw new CliError(`deployments.apps "${name}" is ${paused ? 'already paused' : 'not paused'}`);
        io.out(`${ref} ${paused ? 'paused' : 'resumed'}`);
        return 0;
      }
      case 'restart': {
        const updated = await client.modify<KubeObject>('Deployment', name, namespace, (d) => {
          if (d.spec?.paused) throw new CliError(`can't restart paused deployment (run rollout resume first)`);
          const tpl = (d.spec.template ??= {});
          tpl.metadata ??= {};
          tpl.metadata.annotations = { ...(tpl.metadata.annotations ?? {}), 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() };
        });
        if (!updated) throw ApiError.notFound('Deployment', name);
        io.out(`${ref} restarted`);
        return 0;
      }
      default:
        throw new CliError(`unknown command "${sub ?? ''}" for "kubeact rollout": use status, history, undo, pause, resume or restart`);
    }
  } finally {
    await session.close();
  }
}

function parseTimeout(text: string | undefined): number {
  if (!text || text === '0') return 0;
  const m = text.match(/^(\d+(?:\.\d+)?)(ms|s|m|h)?$/);
  if (!m) throw new CliError(`invalid argument "${text}" for "--timeout" flag: use e.g. 30s or 5m`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's']!;
  return Number(m[1]) * unit;
}

async function ownedReplicaSets(client: ApiClient, deployment: KubeObject): Promise<KubeObject[]> {
  const list = await client.list('ReplicaSet', { namespace: deployment.metadata?.namespace });
  return list.items.filter((rs) => (rs.metadata?.ownerReferences ?? []).some((r) => r.controller && r.uid === deployment.metadata?.uid));
}

function revisionOf(obj: KubeObject): number {
  return Number(obj.metadata?.annotations?.[REVISION] ?? 0);
}

/** The rollout status line kubectl prints, and whether the rollout is done. */
export function statusLine(d: KubeObject): { done: boolean; failed?: string; line: string } {
  const name = d.metadata?.name;
  const spec = d.spec ?? {};
  const st = d.status ?? {};
  const desired = spec.replicas ?? 1;
  if ((d.metadata?.generation ?? 0) > (st.observedGeneration ?? 0)) return { done: false, line: 'Waiting for deployment spec update to be observed...' };
  const progressing = (st.conditions ?? []).find((c: { type: string }) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') return { done: false, failed: `deployment "${name}" exceeded its progress deadline`, line: '' };
  const updated = st.updatedReplicas ?? 0;
  const replicas = st.replicas ?? 0;
  const available = st.availableReplicas ?? 0;
  if (updated < desired) return { done: false, line: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${desired} new replicas have been updated...` };
  if (replicas > updated) return { done: false, line: `Waiting for deployment "${name}" rollout to finish: ${replicas - updated} old replicas are pending termination...` };
  if (available < updated) return { done: false, line: `Waiting for deployment "${name}" rollout to finish: ${available} of ${updated} updated replicas are available...` };
  return { done: true, line: `deployment "${name}" successfully rolled out` };
}

async function rolloutStatus(client: ApiClient, name: string, namespace: string, io: Output, timeoutMs: number, watch: boolean): Promise<number> {
  let last = '';
  let outcome: { done: boolean; failed?: string; line: string } | undefined;
  const show = (d: KubeObject | undefined) => {
    if (!d) throw ApiError.notFound('Deployment', name);
    outcome = statusLine(d);
    if (outcome.line && outcome.line !== last) {
      io.out(outcome.line);
      last = outcome.line;
    }
    return outcome.done || Boolean(outcome.failed) || !watch;
  };
  if (!(await client.find('Deployment', name, namespace))) throw ApiError.notFound('Deployment', name);
  try {
    await client.waitFor<KubeObject>('Deployment', name, namespace, show, timeoutMs || 24 * 3600_000);
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`timed out waiting for the condition`);
  }
  if (outcome?.failed) throw new CliError(outcome.failed);
  return outcome?.done || !watch ? 0 : 1;
}

async function rolloutHistory(client: ApiClient, name: string, namespace: string, io: Output, revision?: string): Promise<number> {
  const d = await client.get('Deployment', name, namespace);
  const sets = (await ownedReplicaSets(client, d)).filter((rs) => revisionOf(rs) > 0).sort((a, b) => revisionOf(a) - revisionOf(b));
  if (revision !== undefined) {
    const rs = sets.find((r) => revisionOf(r) === Number(revision));
    if (!rs) throw new CliError(`unable to find the specified revision`);
    io.out(`${objectRef('Deployment', name)} with revision #${revision}`);
    io.out('Pod Template:');
    io.out(toYaml(rs.spec.template).replace(/^/gm, '  ').replace(/\s+$/, ''));
    return 0;
  }
  io.out(`${objectRef('Deployment', name)} `);
  const rows = [['REVISION', 'CHANGE-CAUSE'], ...sets.map((rs) => [String(revisionOf(rs)), rs.metadata?.annotations?.[CHANGE_CAUSE] ?? '<none>'])];
  const width = Math.max(...rows.map((r) => r[0].length)) + 2;
  io.out(rows.map((r) => r[0].padEnd(width) + r[1]).join('\n') + '\n');
  return 0;
}

function stripHash(template: any): any {
  const t = structuredClone(template ?? {});
  if (t.metadata?.labels) delete t.metadata.labels[HASH_LABEL];
  return t;
}

async function rolloutUndo(client: ApiClient, name: string, namespace: string, io: Output, toRevision?: string): Promise<number> {
  const d = await client.get('Deployment', name, namespace);
  if (d.spec?.paused) throw new CliError(`you cannot rollback a paused deployment; resume it first with 'kubeact rollout resume deployment/${name}' and try again`);
  const sets = (await ownedReplicaSets(client, d)).sort((a, b) => revisionOf(b) - revisionOf(a));
  let target: KubeObject | undefined;
  if (toRevision !== undefined && Number(toRevision) !== 0) {
    target = sets.find((rs) => revisionOf(rs) === Number(toRevision));
    if (!target) throw new CliError(`unable to find specified revision ${toRevision} in history`);
  } else {
    target = sets[1]; // the previous revision: the newest is the current one
    if (!target) throw new CliError('no rollout history found for deployment "' + name + '"');
  }
  const template = stripHash(target.spec.template);
  if (JSON.stringify(template) === JSON.stringify(stripHash(d.spec.template))) {
    io.out(`${objectRef('Deployment', name)} skipped rollback (current template already matches revision ${revisionOf(target)})`);
    return 0;
  }
  await client.modify<KubeObject>('Deployment', name, namespace, (obj) => {
    obj.spec.template = template;
    obj.metadata!.annotations = { ...(obj.metadata!.annotations ?? {}) };
    delete obj.metadata!.annotations[CHANGE_CAUSE];
  });
  io.out(`${objectRef('Deployment', name)} rolled back`);
  return 0;
}
