/**
 * From a pod's spec to what the runtime starts: the environment (with `$(VAR)` expansion,
 * fieldRef / resourceFieldRef, the Service variables and the ones kubeact adds), and argv.
 */
import type { Container, Pod } from '../../protocol/objects.js';
import { cpuMillis, quantityValue } from '../../protocol/quantity.js';
import { emptySources, envFromSources, type ConfigSources } from './config-sources.js';
import { expandVars } from './expand.js';
import { RuntimeError, type ContainerConfig } from './runtime/types.js';

export interface PodPlacement {
  nodeName: string;
  podIP: string;
  hostIP: string;
}

export function containerId(podUid: string, container: string, restartCount: number): string {
  return `${podUid}/${container}/${restartCount}`;
}

/** Values of `fieldRef.fieldPath`, as the downward API defines them. */
function fieldRef(pod: Pod, placement: PodPlacement, path: string): string {
  const m = path.match(/^metadata\.(labels|annotations)\['(.+)'\]$/);
  if (m) return (pod.metadata?.[m[1] as 'labels' | 'annotations'] ?? {})[m[2]] ?? '';
  switch (path) {
    case 'metadata.name':
      return pod.metadata?.name ?? '';
    case 'metadata.namespace':
      return pod.metadata?.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata?.uid ?? '';
    case 'spec.nodeName':
      return placement.nodeName;
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? 'default';
    case 'status.podIP':
    case 'status.podIPs':
      return placement.podIP;
    case 'status.hostIP':
    case 'status.hostIPs':
      return placement.hostIP;
    default:
      return '';
  }
}

function resourceFieldRef(container: Container, resource: string, divisor?: string): string {
  const [kind, name] = resource.split('.') as ['limits' | 'requests', string];
  const value = container.resources?.[kind]?.[name];
  if (value === undefined) return '0';
  if (name === 'cpu') {
    const millis = cpuMillis(value);
    const div = divisor ? cpuMillis(divisor) : 1000;
    return String(Math.ceil(millis / div));
  }
  const div = divisor ? quantityValue(divisor) : 1;
  return String(Math.ceil(quantityValue(value) / div));
}

/**
 * `serviceEnv`: the Service discovery variables (service-env.ts) the kubelet computed for the
 * pod; the container's own `env` overrides them and may refer to them with `$(VAR)`.
 */
export function buildContainerConfig(
  pod: Pod,
  containerName: string,
  restartCount: number,
  placement: PodPlacement,
  serviceEnv: Record<string, string> = {},
  sources: ConfigSources = emptySources(),
): ContainerConfig {
  const container = pod.spec?.containers.find((c) => c.name === containerName);
  if (!container) throw new RuntimeError('ContainerCannotRun', `container "${containerName}" is not in pod "${pod.metadata?.name}"`);
  const env: Record<string, string> = {
    ...serviceEnv,
    POD_NAME: pod.metadata?.name ?? '',
    POD_NAMESPACE: pod.metadata?.namespace ?? 'default',
    POD_IP: placement.podIP,
    NODE_NAME: placement.nodeName,
    HOSTNAME: pod.metadata?.name ?? '',
  };
  // envFrom first, then env (which overrides it); a missing source throws CreateContainerConfigError.
  const { envFrom, keyRefs } = envFromSources(container, sources, pod.metadata?.namespace ?? 'default');
  Object.assign(env, envFrom);
  for (const e of container.env ?? []) {
    if (keyRefs.has(e.name) && (e.valueFrom?.configMapKeyRef || e.valueFrom?.secretKeyRef)) {
      const value = keyRefs.get(e.name);
      if (value !== undefined) env[e.name] = value;
    } else if (e.valueFrom?.fieldRef) env[e.name] = fieldRef(pod, placement, e.valueFrom.fieldRef.fieldPath);
    else if (e.valueFrom?.resourceFieldRef) env[e.name] = resourceFieldRef(container, e.valueFrom.resourceFieldRef.resource, e.valueFrom.resourceFieldRef.divisor as string | undefined);
    else env[e.name] = expandVars(e.value ?? '', env);
  }
  const command = (container.command ?? []).map((a) => expandVars(a, env));
  const args = (container.args ?? []).map((a) => expandVars(a, env));
  // Empty argv: the image's entrypoint (the process runtime refuses it, having no images).
  const argv = command.length ? [...command, ...args] : args;
  const limits = container.resources?.limits;
  const requests = container.resources?.requests;
  return {
    id: containerId(pod.metadata!.uid!, containerName, restartCount),
    podUid: pod.metadata!.uid!,
    podName: pod.metadata!.name!,
    namespace: pod.metadata!.namespace ?? 'default',
    name: containerName,
    image: container.image ?? '',
    argv,
    ...(container.command ? { command } : {}),
    ...(container.args ? { args } : {}),
    env,
    workingDir: container.workingDir,
    podIP: placement.podIP,
    restartCount,
    limits: limits ? { cpuMillis: limits.cpu ? cpuMillis(limits.cpu) : undefined, memoryBytes: limits.memory ? quantityValue(limits.memory) : undefined } : undefined,
    requests: requests ? { cpuMillis: requests.cpu ? cpuMillis(requests.cpu) : undefined, memoryBytes: requests.memory ? quantityValue(requests.memory) : undefined } : undefined,
    imagePullPolicy: container.imagePullPolicy as ContainerConfig['imagePullPolicy'],
  };
}
