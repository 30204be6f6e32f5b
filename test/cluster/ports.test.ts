import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePorts, pickedPortRange } from './ports.ts';

const held: Server[] = [];
afterEach(async () => {
  for (const s of held.splice(0)) await new Promise((r) => s.close(r));
});

/** Random numbers that land on `ports` in turn (then anywhere), so the test picks which ports are tried. */
const landingOn = (ports: number[]) => {
  const size = pickedPortRange.to - pickedPortRange.from + 1;
  let i = 0;
  return () => {
    const p = ports[i++];
    return p === undefined ? Math.random() : (p - pickedPortRange.from + 0.5) / size;
  };
};

async function hold(): Promise<number> {
  for (;;) {
    const port = pickedPortRange.from + Math.floor(Math.random() * 1_000);
    const server = createServer();
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen({ host: '127.0.0.1', port, exclusive: true }, () => resolve(true));
    });
    if (ok) {
      held.push(server);
      return port;
    }
  }
}

describe('freePorts', () => {
  it('gives distinct ports below the ephemeral range that can be bound', async () => {
    const ports = await freePorts(4);
    expect(new Set(ports).size).toBe(4);
    for (const p of ports) {
      expect(p).toBeGreaterThanOrEqual(pickedPortRange.from);
      expect(p).toBeLessThanOrEqual(pickedPortRange.to);
    }
  });

  it('passes over a port something listens on, and a port drawn twice', async () => {
    const taken = await hold();
    const [free] = await freePorts(1, landingOn([taken, taken + 1]));
    // taken + 1 may itself be in use on a busy machine; then a random one follows.
    expect(free).not.toBe(taken);
    const twice = await freePorts(2, landingOn([taken + 2, taken + 2]));
    expect(twice[0]).not.toBe(twice[1]);
  });
});
