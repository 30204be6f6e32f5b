import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import type { ControlPlane } from '../../test/cluster/control-plane.ts';

// What a converge asks of the apiserver: its own apiserver_request_total, by verb and resource,
// read before and after a phase. Both phases also carry the controllers' and kwok's requests for the
// same Deployments and pods, so the difference between the operator's and the plain loop's counts
// is what the operator adds (status, owner references, Events, reads).

export type RequestCounts = ReadonlyMap<string, number>;

/** A GET of the apiserver's own `path` with the admin's client certificate. */
async function apiserverGet(plane: ControlPlane, path: string): Promise<Buffer> {
  const [ca, cert, key] = await Promise.all(
    [plane.certs.servingCa, plane.certs.adminCert, plane.certs.adminKey].map((p) => readFile(p)),
  );
  return new Promise<Buffer>((resolve, reject) => {
    const req = request(`${plane.server}${path}`, { ca, cert, key }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The apiserver's CPU profile over the next `seconds` (Go pprof, gzipped protobuf: `go tool pprof -top`). */
export function apiserverProfile(plane: ControlPlane, seconds: number): Promise<Buffer> {
  return apiserverGet(plane, `/debug/pprof/profile?seconds=${seconds}`);
}

export async function apiserverRequests(plane: ControlPlane): Promise<RequestCounts> {
  const text = (await apiserverGet(plane, '/metrics')).toString('utf8');
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const labels = Object.fromEntries(
      [...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!] as const),
    );
    // Watches are counted when they end, not when they start: not a per-object cost.
    if (labels.verb === 'WATCH') continue;
    // Refusals (a 409 on a stale write, a 404) apart: they are work the other side retries.
    const refused = labels.code && !labels.code.startsWith('2') ? ` ${labels.code}` : '';
    const what = `${labels.verb} ${labels.resource}${labels.subresource ? `/${labels.subresource}` : ''}${refused}`;
    counts.set(what, (counts.get(what) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return counts;
}

/** `after − before`, per verb and resource, leaving out what did not change. */
export function requestDelta(before: RequestCounts, after: RequestCounts): Map<string, number> {
  const delta = new Map<string, number>();
  for (const [k, v] of after) {
    const d = v - (before.get(k) ?? 0);
    if (d > 0) delta.set(k, d);
  }
  return delta;
}

/** One line per verb and resource, per Neuron: `VERB resource  plain → operator`, largest first. */
export function compareRequests(plain: RequestCounts, operator: RequestCounts, neurons: number): string[] {
  const keys = [...new Set([...plain.keys(), ...operator.keys()])];
  const per = (m: RequestCounts, k: string) => (m.get(k) ?? 0) / neurons;
  const total = (m: RequestCounts) => [...m.values()].reduce((a, b) => a + b, 0) / neurons;
  return [
    ...keys
      .map((k) => ({ k, p: per(plain, k), o: per(operator, k) }))
      .filter(({ p, o }) => p >= 0.05 || o >= 0.05)
      .sort((a, b) => b.o + b.p - (a.o + a.p))
      .map(({ k, p, o }) => `${k.padEnd(48)} ${p.toFixed(2).padStart(6)} → ${o.toFixed(2)}`),
    `${'all'.padEnd(48)} ${total(plain).toFixed(2).padStart(6)} → ${total(operator).toFixed(2)}`,
  ];
}
