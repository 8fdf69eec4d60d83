/** `kubeact api-resources` and `kubeact version`. */
import { KINDS, KIND_NAMES } from '../../../protocol/kinds.js';
import { API_SERVICE_NAME } from '../../../protocol/subjects.js';
import { openSession, type Output } from '../session.js';

export const VERSION = '0.1.0';

export async function apiResourcesCommand(_args: string[], io: Output): Promise<number> {
  const rows = [['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND']];
  for (const kind of KIND_NAMES) {
    const k = KINDS[kind];
    rows.push([k.plural, k.shortNames.join(','), k.apiVersion, String(k.namespaced), kind]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  io.out(rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] + 3))).join('')).join('\n'));
  return 0;
}

export async function versionCommand(_args: string[], io: Output): Promise<number> {
  io.out(`Client Version: v${VERSION}`);
  try {
    const session = await openSession();
    try {
      const info = await session.nc.services.client().info(API_SERVICE_NAME);
      for await (const i of info) {
        io.out(`Server Version: v${i.version} (${i.name}, id ${i.id})`);
        break;
      }
    } finally {
      await session.close();
    }
  } catch {
    io.out('Server Version: (no cluster reachable)');
  }
  return 0;
}
