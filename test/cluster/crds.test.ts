import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApiextensionsV1Api,
  dumpYaml,
  type KubeConfig,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from './binaries.ts';
import { crdFieldManager, deleteCrds, installCrdsFromDir } from './crds.ts';
import { kubeConfigFromInject, kubectl } from './inject.ts';
import { uniqueNamespaceName } from './namespace.ts';

// The CRDs as the harness installs them (the shared plane's, and `npm run cluster`'s) must take the
// documented next step, an edit of crds/ followed by `kubectl apply --server-side -f crds/`, with no
// conflict and no --force-conflicts.

/** Copies the CRD files of `from` into `to`, each schema description edited as a user would. */
async function copyWithEditedDescriptions(from: string, to: string): Promise<void> {
  for (const file of (await readdir(from)).filter((f) => /\.ya?ml$/.test(f))) {
    const docs = parseAllDocuments(await readFile(join(from, file), 'utf8'));
    for (const doc of docs) {
      if (doc.get('kind') !== 'CustomResourceDefinition') continue;
      const path = ['spec', 'versions', 0, 'schema', 'openAPIV3Schema', 'description'];
      doc.setIn(path, `${String(doc.getIn(path) ?? '')} (edited)`);
    }
    await writeFile(join(to, file), docs.map((d) => d.toString()).join(''));
  }
}

const scratch = () => mkdtemp(join(tmpdir(), 'hal9-crds-'));

describe("the repository's CRDs as the harness installed them", () => {
  it('take an edited description from kubectl apply --server-side without conflicts', async () => {
    const dir = await scratch();
    try {
      await copyWithEditedDescriptions(join(repoRoot, 'crds'), dir);
      // A server dry run: the conflict check is the real one, and the shared CRDs stay as they are.
      const r = await kubectl(['apply', '--server-side', '--dry-run=server', '-f', dir], {
        allowFailure: true,
      });
      expect(r.stderr).not.toContain('conflict');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('neurons.hal9.ai serverside-applied');
      expect(r.stdout).toContain('hal9clusters.hal9.ai serverside-applied');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a CRD installed from a folder, then edited and applied with kubectl', () => {
  const group = `${uniqueNamespaceName('crd-edit')}.test.hal9.ai`;
  const name = `widgets.${group}`;
  let kc: KubeConfig;
  let installed: string;
  let edited: string;

  const widgetCrd = (description: string, printerColumns: boolean): V1CustomResourceDefinition => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name },
    spec: {
      group,
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          ...(printerColumns
            ? { additionalPrinterColumns: [{ name: 'Size', type: 'integer', jsonPath: '.spec.size' }] }
            : {}),
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description,
              properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } },
            },
          },
        },
      ],
    },
  });

  beforeAll(async () => {
    kc = kubeConfigFromInject();
    installed = await scratch();
    edited = await scratch();
    await writeFile(join(installed, 'widget.yaml'), dumpYaml(widgetCrd('A widget.', true)));
    // The user's edit: a new description, and a printer column taken out.
    await writeFile(join(edited, 'widget.yaml'), dumpYaml(widgetCrd('A widget, edited.', false)));
  });
  afterAll(async () => {
    await deleteCrds(kc, [name]);
    await rm(installed, { recursive: true, force: true });
    await rm(edited, { recursive: true, force: true });
  });

  it('is owned by the manager kubectl applies with, so the edit lands whole', async () => {
    expect(await installCrdsFromDir(kc, installed)).toEqual([name]);
    const r = await kubectl(['apply', '--server-side', '-f', edited], { allowFailure: true });
    expect(r.code, r.stderr).toBe(0);

    const api = kc.makeApiClient(ApiextensionsV1Api);
    const after = await api.readCustomResourceDefinition({ name });
    const version = after.spec.versions[0];
    expect(version?.schema?.openAPIV3Schema?.description).toBe('A widget, edited.');
    // Removed from the file, so removed from the CRD: kubectl's apply owned it.
    expect(version?.additionalPrinterColumns).toBeUndefined();
    const appliers = (after.metadata?.managedFields ?? []).filter((m) => m.operation === 'Apply');
    expect(appliers.map((m) => m.manager)).toEqual([crdFieldManager]);
    // Installing the folder again takes it back: the harness's copy wins over an edit.
    await installCrdsFromDir(kc, installed);
    const again = await api.readCustomResourceDefinition({ name });
    expect(again.spec.versions[0]?.schema?.openAPIV3Schema?.description).toBe('A widget.');
  });
});
