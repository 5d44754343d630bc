// A host holding many sockets, for the benchmark and the soak: loopback connections between
// PROCESS_PAIRS servers and as many clients (each connection counts twice, one socket an end).
import { Workload, type ChildInfo } from '../tests/helpers/workload';

const PROCESS_PAIRS = 10; // 10 servers + 10 clients ≈ 20 processes

/**
 * Holds `size` loopback sockets: connections count twice (both ends), plus the listeners.
 * @param start how a socket-child is started (default: on the host; the Windows bench: in a namespace)
 */
export async function holdSockets(
  size: number,
  helpers: string,
  start?: (workload: Workload, plan: Record<string, unknown>) => Promise<ChildInfo>,
): Promise<{ workload: Workload; servers: ChildInfo[] }> {
  const workload = new Workload(helpers);
  const run = (plan: Record<string, unknown>) => (start ? start(workload, plan) : workload.start(plan));
  const servers = await Promise.all(
    Array.from({ length: PROCESS_PAIRS }, () => run({ role: 'listen', host: '127.0.0.1' })),
  );
  const perPair = Math.max(1, Math.round((size - PROCESS_PAIRS) / 2 / PROCESS_PAIRS));
  await Promise.all(servers.map((s) => run({ role: 'connect', host: '127.0.0.1', port: s.port, count: perPair })));
  return { workload, servers };
}
