/** A Pod object as the policy decision sees it. */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { NamedPort, PodIdentity } from './decide.js';
import type { Protocol } from './policies.js';

export function podIdentity(pod: Pod): PodIdentity {
  const ports: NamedPort[] = [];
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) if (p.name) ports.push({ name: p.name, port: p.containerPort, protocol: (p.protocol ?? 'TCP') as Protocol });
  }
  return { namespace: pod.metadata?.namespace ?? 'default', name: pod.metadata?.name ?? '', labels: { ...(pod.metadata?.labels ?? {}) }, ports };
}
