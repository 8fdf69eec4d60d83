/**
 * Which PersistentVolume a claim may use (pv_controller's findBestMatchForClaim, pure): the same
 * storage class, every requested access mode, at least the requested capacity, the claim's label
 * selector, the claim's volume mode, a volume free or pre-bound to this claim, and — when a node
 * is given (WaitForFirstConsumer) — a volume whose node affinity admits that node. Of those, the
 * smallest; a volume pre-bound to the claim wins outright.
 */
import type { Node } from '../../protocol/objects.js';
import { quantityValue } from '../../protocol/quantity.js';
import { fromLabelSelectorObject, matchesLabels } from '../../protocol/selectors.js';
import { matchesTerm } from '../scheduler/predicates.js';
import type { Claim, Volume } from './types.js';

export const className = (o: Claim | Volume): string => String(o.spec?.storageClassName ?? '');
export const requestedBytes = (claim: Claim): number => quantityValue(claim.spec?.resources?.requests?.storage);
export const capacityBytes = (pv: Volume): number => quantityValue(pv.spec?.capacity?.storage);

/** The volume's claimRef names this claim (by uid when the ref carries one). */
export function isPreBoundTo(pv: Volume, claim: Claim): boolean {
  const ref = pv.spec?.claimRef;
  if (!ref?.name) return false;
  if (ref.name !== claim.metadata?.name || (ref.namespace ?? 'default') !== (claim.metadata?.namespace ?? 'default')) return false;
  return !ref.uid || ref.uid === claim.metadata?.uid;
}

/** The volume's required node affinity admits `node` (no affinity: every node). */
export function volumeAdmitsNode(pv: Volume, node: Node): boolean {
  const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms;
  if (!Array.isArray(terms) || terms.length === 0) return true;
  return terms.some((t) => matchesTerm(t, node));
}

/** Why `pv` cannot serve `claim` (undefined when it can), leaving out who else holds it. */
export function mismatch(claim: Claim, pv: Volume, node?: Node): string | undefined {
  if (className(pv) !== className(claim)) return 'storage class';
  if ((pv.spec?.volumeMode ?? 'Filesystem') !== (claim.spec?.volumeMode ?? 'Filesystem')) return 'volume mode';
  const has: string[] = pv.spec?.accessModes ?? [];
  if (!((claim.spec?.accessModes ?? []) as string[]).every((m) => has.includes(m))) return 'access modes';
  if (capacityBytes(pv) < requestedBytes(claim)) return 'capacity';
  const sel = claim.spec?.selector;
  if (sel && typeof sel === 'object' && !matchesLabels(fromLabelSelectorObject(sel), pv.metadata?.labels ?? {})) return 'selector';
  if (node && !volumeAdmitsNode(pv, node)) return 'node affinity';
  return undefined;
}

/** A volume that may be bound now: not being deleted, not Released/Failed, and unclaimed or pre-bound to this claim. */
function available(pv: Volume, claim: Claim): boolean {
  if (pv.metadata?.deletionTimestamp) return false;
  const phase = pv.status?.phase;
  if (phase === 'Released' || phase === 'Failed') return isPreBoundTo(pv, claim) && !pv.spec?.claimRef?.uid;
  const ref = pv.spec?.claimRef;
  return !ref?.name || isPreBoundTo(pv, claim);
}

export function findBestMatch(claim: Claim, volumes: Iterable<Volume>, node?: Node): Volume | undefined {
  let best: Volume | undefined;
  for (const pv of volumes) {
    if (!available(pv, claim) || mismatch(claim, pv, node)) continue;
    if (isPreBoundTo(pv, claim)) return pv;
    if (!best || capacityBytes(pv) < capacityBytes(best) || (capacityBytes(pv) === capacityBytes(best) && String(pv.metadata?.name) < String(best.metadata?.name))) best = pv;
  }
  return best;
}
