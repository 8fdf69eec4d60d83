/**
 * The PersistentVolume controller in the controller-manager: binder, pvc/pv-protection,
 * reclaim and the local-path provisioner. Decisions are `planVolumes` (actors/volume-binding,
 * pure); this host feeds it the shared informers' caches and carries out what it decides.
 * Level-based: any change of a claim, volume, class, pod or node schedules one sync of
 * everything (bursts collapse), and a periodic sync repairs whatever an event missed.
 */
import { rm } from 'node:fs/promises';
import {
  ANN_BIND_COMPLETED,
  ANN_BOUND_BY_CONTROLLER,
  ANN_PROVISIONED_BY,
  ANN_SELECTED_NODE,
  LOCAL_PATH_PROVISIONER,
  isPreBoundTo,
  planVolumes,
  type Claim,
  type StorageClass,
  type Volume,
  type VolumeAction,
} from '../../actors/volume-binding/index.js';
import type { ApiClient } from '../../protocol/client.js';
import { ApiError, Reason } from '../../protocol/errors.js';
import type { KubeObject, Node, Pod } from '../../protocol/objects.js';
import type { EventRecorder } from '../shared/events.js';
import type { Logger } from '../shared/logger.js';
import type { Informer } from './informer.js';

/** The node a provisioned volume's directory lives on. */
export const ANN_PROVISIONED_NODE = 'kubeact.io/provisioned-node';
/** Kubernetes' hostPath deleter only removes directories under /tmp (a safety net for test clusters). */
const HOSTPATH_DELETABLE = /^\/tmp\/.+/;

export interface VolumeBinderOptions {
  client: ApiClient;
  claims: Informer<KubeObject>;
  volumes: Informer<KubeObject>;
  classes: Informer<KubeObject>;
  pods: Informer<KubeObject>;
  nodes: Informer<KubeObject>;
  events: EventRecorder;
  logger: Logger;
  /** Full sync at least this often (ms). */
  resyncMs?: number;
  /** The same Event about the same object is recorded again after this long (ms). */
  eventRepeatMs?: number;
}

export class VolumeBinder {
  private timer?: NodeJS.Timeout;
  private scheduled = false;
  private running = false;
  private dirty = false;
  private stopped = false;
  /** Operations that take longer than one sync (provision, delete) run once at a time per object. */
  private readonly inFlight = new Set<string>();
  private readonly lastEvent = new Map<string, number>();

  constructor(private readonly opts: VolumeBinderOptions) {}

  start(): void {
    const poke = { upsert: () => this.schedule(), delete: () => this.schedule() };
    for (const inf of [this.opts.claims, this.opts.volumes, this.opts.classes, this.opts.nodes]) inf.on(poke);
    // Pods matter only to claims (which pods use them); the periodic tick is their resync.
    this.opts.pods.on({ upsert: (p) => usesClaim(p) && this.schedule(), delete: (p) => usesClaim(p) && this.schedule() }, { resync: false });
    const tick = () => {
      if (this.stopped) return;
      this.schedule();
      this.timer = setTimeout(tick, this.opts.resyncMs ?? 5000);
    };
    tick();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.running) {
      this.dirty = true;
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    setTimeout(() => {
      this.scheduled = false;
      void this.sync();
    }, 10);
  }

  private async sync(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    this.dirty = false;
    try {
      const actions = planVolumes({
        claims: this.opts.claims.list(),
        volumes: this.opts.volumes.list(),
        classes: this.opts.classes.list() as StorageClass[],
        // No claims, no pod to look at: holding 100,000 pods, no copy of them every tick.
        pods: this.opts.claims.list().length ? (this.opts.pods.list(usesClaim) as Pod[]) : [],
        nodes: this.opts.nodes.list() as Node[],
      });
      for (const action of actions) {
        try {
          await this.run(action);
        } catch (e) {
          if (!(e instanceof ApiError && (e.reason === Reason.NotFound || e.reason === Reason.Conflict))) {
            this.opts.logger.warn({ action: action.type, err: (e as Error).message }, 'volume action failed');
          }
        }
      }
    } finally {
      this.running = false;
      if (this.dirty) this.schedule();
    }
  }

  private async run(a: VolumeAction): Promise<void> {
    const { client } = this.opts;
    switch (a.type) {
      case 'event':
        return this.event(a.object, a.eventType, a.reason, a.message);
      case 'claimPhase':
        await client.modify<Claim>('PersistentVolumeClaim', name(a.claim), a.claim.metadata?.namespace, (c) => {
          if (c.metadata?.uid !== a.claim.metadata?.uid || c.status?.phase === a.phase) return false;
          c.status = { ...(c.status ?? {}), phase: a.phase };
        }, { status: true });
        return;
      case 'volumePhase':
        await client.modify<Volume>('PersistentVolume', name(a.volume), undefined, (v) => {
          if (v.metadata?.uid !== a.volume.metadata?.uid) return false;
          if (v.status?.phase === a.phase && (a.message === undefined || v.status?.message === a.message)) return false;
          v.status = { phase: a.phase, ...(a.message ? { message: a.message } : {}), lastPhaseTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
        }, { status: true });
        return;
      case 'bind':
        return this.bind(a.claim, a.volume);
      case 'unbindVolume':
        await client.modify<Volume>('PersistentVolume', name(a.volume), undefined, (v) => {
          if (v.metadata?.uid !== a.volume.metadata?.uid) return false;
          delete v.spec.claimRef;
          if (v.metadata?.annotations) delete v.metadata.annotations[ANN_BOUND_BY_CONTROLLER];
        });
        return;
      case 'selectNode':
        await client.modify<Claim>('PersistentVolumeClaim', name(a.claim), a.claim.metadata?.namespace, (c) => {
          if (c.metadata?.uid !== a.claim.metadata?.uid || c.metadata?.annotations?.[ANN_SELECTED_NODE]) return false;
          c.metadata!.annotations = { ...(c.metadata!.annotations ?? {}), [ANN_SELECTED_NODE]: a.node };
        });
        return;
      case 'removeFinalizer':
        await client.modify<KubeObject>(a.kind, name(a.object), a.object.metadata?.namespace, (o) => {
          if (o.metadata?.uid !== a.object.metadata?.uid || !(o.metadata?.finalizers ?? []).includes(a.finalizer)) return false;
          o.metadata!.finalizers = o.metadata!.finalizers!.filter((f) => f !== a.finalizer);
        });
        return;
      case 'provision':
        return this.once(`provision/${a.claim.metadata?.uid}`, () => this.provision(a.claim, a.storageClass, a.node));
      case 'deleteVolume':
        return this.once(`delete/${a.volume.metadata?.uid}`, () => this.deleteVolume(a.volume));
    }
  }

  private once(key: string, op: () => Promise<void>): void {
    if (this.inFlight.has(key)) return;
    this.inFlight.add(key);
    void op()
      .catch((e) => this.opts.logger.warn({ op: key, err: (e as Error).message }, 'volume operation failed'))
      .finally(() => {
        this.inFlight.delete(key);
        this.schedule();
      });
  }

  private event(object: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const key = `${object.metadata?.uid}|${reason}|${message}`;
    const now = Date.now();
    const last = this.lastEvent.get(key);
    if (last !== undefined && now - last < (this.opts.eventRepeatMs ?? 60_000)) return;
    this.lastEvent.set(key, now);
    if (this.lastEvent.size > 10_000) this.lastEvent.delete(this.lastEvent.keys().next().value!);
    this.opts.events.record(object, type, reason, message);
  }

  /** pv_controller's bind: the volume's claimRef and phase first, then the claim's volumeName and phase. */
  private async bind(claim: Claim, volume: Volume): Promise<void> {
    const { client, logger } = this.opts;
    const uid = claim.metadata!.uid!;
    const namespace = claim.metadata?.namespace ?? 'default';
    const byController = !isPreBoundTo(volume, claim);
    const pv = await client.modify<Volume>('PersistentVolume', name(volume), undefined, (v) => {
      if (v.metadata?.uid !== volume.metadata?.uid) throw new ApiError(Reason.Conflict, `volume ${name(volume)} was replaced`);
      const ref = v.spec?.claimRef;
      if (ref?.name && !isPreBoundTo(v, claim)) throw new ApiError(Reason.Conflict, `volume ${name(volume)} is bound to another claim`);
      if (ref?.uid === uid) return false;
      v.spec.claimRef = { kind: 'PersistentVolumeClaim', namespace, name: name(claim), uid, apiVersion: 'v1', resourceVersion: claim.metadata?.resourceVersion };
      if (byController) v.metadata!.annotations = { ...(v.metadata!.annotations ?? {}), [ANN_BOUND_BY_CONTROLLER]: 'yes' };
    });
    if (!pv) return;
    await client.modify<Volume>('PersistentVolume', name(volume), undefined, (v) => {
      if (v.status?.phase === 'Bound') return false;
      v.status = { phase: 'Bound', lastPhaseTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
    }, { status: true });
    const bound = await client.modify<Claim>('PersistentVolumeClaim', name(claim), namespace, (c) => {
      if (c.metadata?.uid !== uid) return false;
      if (c.spec.volumeName === name(volume) && c.metadata?.annotations?.[ANN_BIND_COMPLETED]) return false;
      const setByUs = !c.spec.volumeName;
      c.spec.volumeName = name(volume);
      c.metadata!.annotations = { ...(c.metadata!.annotations ?? {}), [ANN_BIND_COMPLETED]: 'yes', ...(setByUs ? { [ANN_BOUND_BY_CONTROLLER]: 'yes' } : {}) };
    });
    if (!bound) return;
    await client.modify<Claim>('PersistentVolumeClaim', name(claim), namespace, (c) => {
      if (c.metadata?.uid !== uid) return false;
      const status = { phase: 'Bound', accessModes: pv.spec?.accessModes, capacity: pv.spec?.capacity };
      if (JSON.stringify(c.status) === JSON.stringify(status)) return false;
      c.status = status;
    }, { status: true });
    logger.info({ claim: `${namespace}/${name(claim)}`, volume: name(volume) }, 'claim bound');
  }

  /** local-path: the chosen node's kubelet makes the directory, then a volume pre-bound to the claim is created. */
  private async provision(claim: Claim, sc: StorageClass, node: string): Promise<void> {
    const { client, logger } = this.opts;
    const pvName = `pvc-${claim.metadata!.uid}`;
    if (this.opts.volumes.get(undefined, pvName)) return;
    const namespace = claim.metadata?.namespace ?? 'default';
    let dir: string;
    try {
      dir = (await client.localVolume(node, { op: 'create', name: pvName })).path;
    } catch (e) {
      this.event(claim, 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass "${name(sc)}": node "${node}" did not create the directory: ${(e as Error).message}`);
      throw e;
    }
    const pv: Volume = {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: pvName, annotations: { [ANN_PROVISIONED_BY]: LOCAL_PATH_PROVISIONER, [ANN_PROVISIONED_NODE]: node } },
      spec: {
        capacity: { storage: claim.spec?.resources?.requests?.storage },
        accessModes: claim.spec?.accessModes,
        volumeMode: claim.spec?.volumeMode ?? 'Filesystem',
        persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
        storageClassName: name(sc),
        hostPath: { path: dir, type: 'DirectoryOrCreate' },
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } },
        claimRef: { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace, name: name(claim), uid: claim.metadata!.uid },
      },
    };
    try {
      await client.create(pv);
    } catch (e) {
      if (!(e instanceof ApiError && e.reason === Reason.AlreadyExists)) throw e;
      return;
    }
    logger.info({ claim: `${namespace}/${name(claim)}`, volume: pvName, node, dir }, 'volume provisioned');
    this.event(claim, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${pvName}`);
  }

  /** Reclaim policy Delete: the data (provisioned: by its node's kubelet; static hostPath: only under /tmp), then the object. */
  private async deleteVolume(pv: Volume): Promise<void> {
    const { client, logger } = this.opts;
    const node = pv.metadata?.annotations?.[ANN_PROVISIONED_NODE];
    const provisioned = pv.metadata?.annotations?.[ANN_PROVISIONED_BY] === LOCAL_PATH_PROVISIONER && node;
    const fail = async (message: string) => {
      this.event(pv, 'Warning', 'VolumeFailedDelete', message);
      await this.run({ type: 'volumePhase', volume: pv, phase: 'Failed', message });
    };
    if (provisioned) {
      try {
        await client.localVolume(node, { op: 'delete', name: name(pv) });
      } catch (e) {
        // The node may be restarting: the volume stays Released and is tried again next sync.
        this.event(pv, 'Warning', 'VolumeFailedDelete', `node "${node}" did not remove the volume's directory: ${(e as Error).message}`);
        throw e;
      }
    } else if (pv.spec?.hostPath?.path) {
      const dir: string = pv.spec.hostPath.path;
      if (!HOSTPATH_DELETABLE.test(dir)) return fail(`host_path deleter only supports /tmp/.+ but received provided ${dir}`);
      await rm(dir, { recursive: true, force: true });
    } else {
      return fail(`error getting deleter volume plugin for volume "${name(pv)}": no deletable volume plugin matched`);
    }
    await client.delete('PersistentVolume', name(pv), { preconditions: { uid: pv.metadata?.uid } });
    logger.info({ volume: name(pv) }, 'volume deleted (reclaim policy Delete)');
  }
}

function name(o: KubeObject): string {
  return o.metadata!.name!;
}

function usesClaim(pod: KubeObject): boolean {
  return ((pod as Pod).spec?.volumes ?? []).some((v) => v.persistentVolumeClaim);
}
