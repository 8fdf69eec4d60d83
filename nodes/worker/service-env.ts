/**
 * Service discovery through environment variables, as the kubelet does it
 * (pkg/kubelet/envvars `FromServices` and kubelet_pods.go `getServiceEnvVarMap`).
 *
 * Which Services: those of the pod's namespace when `enableServiceLinks` is not false, and the
 * `kubernetes` Service of the `default` namespace always (when there is one: kubeact does not
 * create it). Services without a ClusterIP (headless `None`, ExternalName) give no variables.
 * For each, with NAME = the Service name upper-cased, `-` → `_`:
 *
 *   NAME_SERVICE_HOST=<clusterIP>            NAME_SERVICE_PORT=<first port>
 *   NAME_SERVICE_PORT_<PORTNAME>=<port>      (every named port)
 *   NAME_PORT=tcp://<clusterIP>:<first port>  (Docker links)
 *   NAME_PORT_<port>_<PROTO>=<proto>://<clusterIP>:<port>  and its _PROTO, _PORT, _ADDR
 *
 * When is decided by the caller: the kubelet computes them once per pod, from its Service
 * informer, when the pod's first container starts (so a pod sees the Services that existed
 * then; restarts keep the same values).
 */
import type { Service } from 'kubernetes-types/core/v1.js';

export const MASTER_SERVICE_NAMESPACE = 'default';
export const MASTER_SERVICE_NAME = 'kubernetes';

/** kubelet's `makeEnvVariableName`: upper case, `-` → `_`. */
export function envVariableName(name: string): string {
  return name.replace(/-/g, '_').toUpperCase();
}

/** A Service has a usable ClusterIP: set and not `None` (kube's IsServiceIPSet). */
export function isServiceIPSet(svc: Service): boolean {
  const ip = svc.spec?.clusterIP;
  return typeof ip === 'string' && ip !== '' && ip !== 'None';
}

/** `FromServices`: the variables of these Services, in kube's order. */
export function envFromServices(services: readonly Service[]): Array<{ name: string; value: string }> {
  const out: Array<{ name: string; value: string }> = [];
  for (const svc of services) {
    if (!isServiceIPSet(svc) || !svc.spec?.ports?.length) continue;
    const ip = svc.spec.clusterIP!;
    const prefix = envVariableName(svc.metadata?.name ?? '');
    out.push({ name: `${prefix}_SERVICE_HOST`, value: ip });
    const portVar = `${prefix}_SERVICE_PORT`;
    out.push({ name: portVar, value: String(svc.spec.ports[0].port) });
    for (const p of svc.spec.ports) if (p.name) out.push({ name: `${portVar}_${envVariableName(p.name)}`, value: String(p.port) });
    // Docker-link variables.
    svc.spec.ports.forEach((p, i) => {
      const protocol = p.protocol || 'TCP';
      const lower = protocol.toLowerCase();
      const url = `${lower}://${ip}:${p.port}`;
      if (i === 0) out.push({ name: `${prefix}_PORT`, value: url });
      const pp = `${prefix}_PORT_${p.port}_${protocol.toUpperCase()}`;
      out.push({ name: pp, value: url }, { name: `${pp}_PROTO`, value: lower }, { name: `${pp}_PORT`, value: String(p.port) }, { name: `${pp}_ADDR`, value: ip });
    });
  }
  return out;
}

/**
 * `getServiceEnvVarMap`: the Services a pod of `namespace` gets variables for, out of `services`
 * (any namespaces), then their variables as a map. The namespace's own Services win over the
 * `kubernetes` master Service of the same name.
 */
export function serviceEnvVars(services: readonly Service[], namespace: string, enableServiceLinks: boolean | undefined): Record<string, string> {
  const chosen = new Map<string, Service>();
  for (const svc of services) {
    if (!isServiceIPSet(svc)) continue;
    const name = svc.metadata?.name ?? '';
    const ns = svc.metadata?.namespace ?? 'default';
    if (ns === MASTER_SERVICE_NAMESPACE && name === MASTER_SERVICE_NAME) {
      if (!chosen.has(name)) chosen.set(name, svc);
    } else if (ns === namespace && enableServiceLinks !== false) {
      chosen.set(name, svc);
    }
  }
  const ordered = [...chosen.values()].sort((a, b) => ((a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1));
  const env: Record<string, string> = {};
  for (const { name, value } of envFromServices(ordered)) env[name] = value;
  return env;
}
