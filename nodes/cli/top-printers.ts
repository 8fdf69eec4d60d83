/** `kubectl top` tables, from metrics.k8s.io objects (pure, so the layout is tested without a cluster). */
import type { NodeMetrics, PodMetrics } from '../../protocol/metrics.js';
import type { Node } from '../../protocol/objects.js';
import { cpuMillis, parseQuantity, quantityValue } from '../../protocol/quantity.js';
import { formatRows } from './printers.js';

/** kubectl prints CPU as whole millicores and memory as whole MiB. */
export function topCpu(quantity: string): string {
  return `${Math.floor((parseQuantity(quantity) ?? 0) * 1000)}m`;
}
export function topMemory(quantity: string): string {
  return `${Math.floor((parseQuantity(quantity) ?? 0) / 2 ** 20)}Mi`;
}

function podTotals(p: PodMetrics): { cpu: number; memory: number } {
  let cpu = 0;
  let memory = 0;
  for (const c of p.containers) {
    cpu += parseQuantity(c.usage.cpu) ?? 0;
    memory += parseQuantity(c.usage.memory) ?? 0;
  }
  return { cpu, memory };
}

export interface TopPodsOptions {
  allNamespaces?: boolean;
  containers?: boolean;
  sortBy?: 'cpu' | 'memory';
}

export function printTopPods(items: PodMetrics[], opts: TopPodsOptions = {}): string {
  const list = [...items];
  if (opts.sortBy) list.sort((a, b) => podTotals(b)[opts.sortBy!] - podTotals(a)[opts.sortBy!]);
  const head = [...(opts.allNamespaces ? ['NAMESPACE'] : []), ...(opts.containers ? ['POD', 'NAME'] : ['NAME']), 'CPU(cores)', 'MEMORY(bytes)'];
  const rows = [head];
  for (const p of list) {
    const ns = opts.allNamespaces ? [p.metadata.namespace] : [];
    if (opts.containers) {
      for (const c of p.containers) rows.push([...ns, p.metadata.name, c.name, topCpu(c.usage.cpu), topMemory(c.usage.memory)]);
    } else {
      const t = podTotals(p);
      rows.push([...ns, p.metadata.name, topCpu(String(t.cpu)), topMemory(String(t.memory))]);
    }
  }
  return formatRows(rows);
}

/** CPU(%) and MEMORY(%) are of the node's allocatable, as kubectl computes them. */
export function printTopNodes(items: NodeMetrics[], nodes: Node[], sortBy?: 'cpu' | 'memory'): string {
  const byName = new Map(nodes.map((n) => [n.metadata?.name, n]));
  const list = [...items];
  if (sortBy) list.sort((a, b) => (parseQuantity(b.usage[sortBy]) ?? 0) - (parseQuantity(a.usage[sortBy]) ?? 0));
  const rows = [['NAME', 'CPU(cores)', 'CPU(%)', 'MEMORY(bytes)', 'MEMORY(%)']];
  for (const m of list) {
    const alloc = byName.get(m.metadata.name)?.status?.allocatable;
    const cpuUsed = (parseQuantity(m.usage.cpu) ?? 0) * 1000;
    const memUsed = parseQuantity(m.usage.memory) ?? 0;
    const cpuCap = alloc?.cpu ? cpuMillis(alloc.cpu) : 0;
    const memCap = alloc?.memory ? quantityValue(alloc.memory) : 0;
    rows.push([
      m.metadata.name,
      topCpu(m.usage.cpu),
      cpuCap ? `${Math.floor((cpuUsed / cpuCap) * 100)}%` : '<unknown>',
      topMemory(m.usage.memory),
      memCap ? `${Math.floor((memUsed / memCap) * 100)}%` : '<unknown>',
    ]);
  }
  return formatRows(rows);
}
