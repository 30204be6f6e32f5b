import type { ControlPlane } from '../../test/cluster/control-plane.ts';
import { apiserverRequests } from './api-requests.ts';

// A deleted namespace is gone before the controllers are done with it: the garbage collector goes on
// looking up the owners of what it held (about 10 GETs a second for 20 s after 200 Neurons), and the
// endpoints controller deletes what is already gone. Started then, the next phase would pay for the
// previous one's cleanup, so each phase waits for the plane to be as quiet as an idle one.

/** Requests per second of an idle plane (leases, node heartbeats): 0–3 on the test plane. */
const idlePerSecond = 2;
const windowMs = 3000;

const totalRequests = async (plane: ControlPlane) => {
  let sum = 0;
  for (const n of (await apiserverRequests(plane)).values()) sum += n;
  return sum;
};

/**
 * Waits until a `windowMs` window sees no more requests than an idle plane makes (each read of the
 * counters is one of them), or until `maxMs`. Returns how long it waited, and whether the plane was
 * quiet then (false: the phase starts on a busy plane, which its caller must say).
 */
export async function settle(plane: ControlPlane, maxMs = 120_000): Promise<{ ms: number; quiet: boolean }> {
  const start = Date.now();
  let before = await totalRequests(plane);
  while (Date.now() - start < maxMs) {
    await new Promise((r) => setTimeout(r, windowMs));
    const after = await totalRequests(plane);
    if (after - before <= (idlePerSecond * windowMs) / 1000) return { ms: Date.now() - start, quiet: true };
    before = after;
  }
  return { ms: Date.now() - start, quiet: false };
}
