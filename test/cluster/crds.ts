import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ApiextensionsV1Api,
  CustomObjectsApi,
  type KubeConfig,
  KubernetesObjectApi,
  loadAllYaml,
  PatchStrategy,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { HarnessError, HarnessErrorCode } from './errors.ts';
import { waitFor } from './wait.ts';

const manifestPattern = /\.(ya?ml|json)$/;

/**
 * Reads every CustomResourceDefinition from the YAML/JSON files directly in `dir` (sorted by file name).
 *
 * Parsed with client-node's loadAllYaml on purpose: its typed clients serialise model property
 * names (`x_kubernetes_validations`, `_default`, `_enum`) back to wire names and silently drop the
 * wire names (`x-kubernetes-validations`, `default`, `enum`) of a plain parsed YAML object.
 */
export async function readCrdsFromDir(dir: string): Promise<V1CustomResourceDefinition[]> {
  const files = (await readdir(dir)).filter((f) => manifestPattern.test(f)).sort();
  const crds: V1CustomResourceDefinition[] = [];
  for (const file of files) {
    const path = join(dir, file);
    let docs: unknown[];
    try {
      docs = loadAllYaml(await readFile(path, 'utf8'));
    } catch (err) {
      throw new HarnessError(HarnessErrorCode.InvalidManifest, `${path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    for (const doc of docs) {
      const obj = doc as { kind?: string } | null;
      if (obj?.kind === 'CustomResourceDefinition') crds.push(obj as V1CustomResourceDefinition);
    }
  }
  return crds;
}

/** True when `dir` exists and holds at least one YAML/JSON file. */
export async function hasManifests(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).some((f) => manifestPattern.test(f));
  } catch {
    return false;
  }
}

/** Installs the CRDs found in `dir` (server-side apply as kubectl) and waits until discovery serves them. */
export async function installCrdsFromDir(kc: KubeConfig, dir: string, timeoutMs?: number): Promise<string[]> {
  return installCrds(kc, await readCrdsFromDir(dir), timeoutMs);
}

/**
 * The field manager `kubectl apply --server-side` uses unless told otherwise. The CRDs are applied
 * under it, so the documented `kubectl apply --server-side -f crds/` after an edit of crds/ updates
 * them as their owner: under any other manager (a create or replace is recorded under the client's
 * user agent) the apiserver refuses every changed field with a conflict unless `--force-conflicts`.
 */
export const crdFieldManager = 'kubectl';

/** Server-side applies each CRD, then waits until every served version lists its plural. Returns CRD names. */
export async function installCrds(
  kc: KubeConfig,
  crds: readonly V1CustomResourceDefinition[],
  timeoutMs = 30_000,
): Promise<string[]> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  for (const crd of crds) {
    // force: the harness's copy wins over whatever an earlier run or a test left under other managers.
    await api.patch(crd, undefined, undefined, crdFieldManager, true, PatchStrategy.ServerSideApply);
  }
  await Promise.all(crds.map((crd) => waitForCrdDiscovery(kc, crd, timeoutMs)));
  return crds.map((crd) => crd.metadata?.name ?? '');
}

/**
 * Waits on discovery rather than on the Established condition (as envtest does): the plural must
 * be listed under /apis/<group>/<version> for every served version.
 */
export async function waitForCrdDiscovery(
  kc: KubeConfig,
  crd: V1CustomResourceDefinition,
  timeoutMs = 30_000,
): Promise<void> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const { group, names } = crd.spec;
  for (const version of crd.spec.versions.filter((v) => v.served)) {
    await waitFor(
      `discovery of ${names.plural}.${group}/${version.name}`,
      async () => {
        const list = await custom.getAPIResources({ group, version: version.name });
        return list.resources.some((r) => r.name === names.plural) ? true : undefined;
      },
      { timeoutMs, intervalMs: 100 },
    );
  }
}

/** Deletes CRDs by name, ignoring ones already gone. */
export async function deleteCrds(kc: KubeConfig, names: readonly string[]): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  await Promise.all(
    names.map(async (name) => {
      try {
        await api.deleteCustomResourceDefinition({ name });
      } catch (err) {
        if ((err as { code?: number }).code !== 404) throw err;
      }
    }),
  );
}
