import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { kubectl, waitFor } from '@hal9/test';
import type { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'vitest';
import { aCluster, aNeuron, toYaml } from './builders.ts';
import { reads } from './reads.ts';

/**
 * An operator process started out of the test's process (from a checkout or an image): a Neuron
 * applied to `ns` gets its Deployment, the log says it started, and SIGTERM stops it with exit 0.
 * An operator that exits first fails at once, with its last output. Resolves to what it printed.
 */
export async function expectReconcilesAndStops(
  child: ChildProcess,
  kc: KubeConfig,
  ns: string,
): Promise<string[]> {
  const lines: string[] = [];
  createInterface(child.stdout!).on('line', (l) => lines.push(l));
  createInterface(child.stderr!).on('line', (l) => lines.push(l));
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  const died = exited.then((code) => {
    throw new Error(`the operator exited with ${code}:\n${lines.slice(-20).join('\n')}`);
  });
  died.catch(() => {});

  await kubectl(['apply', '-n', ns, '-f', '-'], {
    stdin: toYaml([aCluster('local', {}), aNeuron('impl-1', 'local')]),
  });
  const r = reads(kc, ns);
  await Promise.race([
    waitFor('the Deployment the operator renders', () => r.deployment('impl-1'), {
      timeoutMs: 60_000,
      intervalMs: 250,
    }),
    died,
  ]);
  expect(lines.some((l) => l.includes('"Started operator"'))).toBe(true);
  child.kill('SIGTERM');
  expect(await exited, lines.slice(-5).join('\n')).toBe(0);
  return lines;
}
