import { App, Chart, Yaml } from 'cdk8s';
import { Hal9Cdk8sError, Hal9Cdk8sErrorCode } from './errors.ts';
import { type CrdDocument, Hal9Crds } from './hal9-crds.ts';
import { Hal9Platform, type Hal9PlatformProps } from './hal9-platform.ts';

/** Chart ids, which are also the bundle's folder names: Argo CD reads them in this order too. */
export const BundleFolder = Object.freeze({ crds: '00-crds', platform: '10-platform' });

export interface BundleProps {
  /** The Hal9 CRDs (crds/), synthesized into 00-crds/. */
  readonly crds: readonly CrdDocument[];
  /** The platform, synthesized into 10-platform/. */
  readonly platform: Hal9PlatformProps;
}

/** The cdk8s app of the GitOps bundle: one chart per folder. Builds constructs only; writes nothing. */
export function buildBundleApp(props: BundleProps): App {
  const app = new App({ outdir: 'dist' });
  new Hal9Crds(new Chart(app, BundleFolder.crds), 'crds', { crds: props.crds });
  new Hal9Platform(new Chart(app, BundleFolder.platform), 'platform', props.platform);
  return app;
}

interface Manifest {
  readonly kind: string;
  readonly metadata: { readonly name: string };
}

/**
 * Renders the app to files: `<chart id>/<kind>-<name>.yaml`, one object each, keys sorted. No clock,
 * randomness or paths, so the same definition always gives byte-identical files. Runs validation.
 */
export function renderBundle(app: App): Map<string, string> {
  const files = new Map<string, string>();
  for (const chart of app.charts) {
    for (const obj of chart.toJson() as Manifest[]) {
      const path = `${chart.node.id}/${obj.kind.toLowerCase()}-${obj.metadata.name}.yaml`;
      if (files.has(path)) {
        throw new Hal9Cdk8sError(Hal9Cdk8sErrorCode.InvalidPlatform, 'The bundle has duplicate objects', [
          `${obj.kind} ${obj.metadata.name} appears twice in ${chart.node.id}`,
        ]);
      }
      files.set(path, Yaml.stringify(obj));
    }
  }
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
