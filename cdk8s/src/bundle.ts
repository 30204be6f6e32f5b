import { ApiObject, App, Chart } from 'cdk8s';
import { Hal9Cdk8sError, Hal9Cdk8sErrorCode } from './errors.ts';
import { type CrdDocument, Hal9Crds } from './hal9-crds.ts';
import { Hal9Platform, type Hal9PlatformProps } from './hal9-platform.ts';
import { manifestYaml } from './manifest-yaml.ts';

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
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
}

/** One synthesized object: its chart (the folder), its construct path (for messages) and its YAML. */
interface Rendered {
  readonly chart: string;
  readonly path: string;
  readonly manifest: Manifest;
  readonly yaml: string;
}

/**
 * Renders the app to files, one object each, keys sorted: `<chart id>/<kind>-<name>.yaml`, or
 * `<chart id>/<kind>-<namespace>-<name>.yaml` for the objects of a kind and name that one chart holds
 * in several namespaces. No clock, randomness or paths, so the same definition always gives
 * byte-identical files. Runs validation.
 *
 * Objects are one per API group, kind, namespace and name across the whole app, as on the apiserver:
 * identical copies (the same Namespace from two platforms) are written once, in the first chart;
 * differing ones would overwrite each other on apply, so they are refused.
 */
export function renderBundle(app: App): Map<string, string> {
  // Synthesizing runs every construct's validations (Hal9Platform's cross-object rules among them).
  app.synthYaml();
  const kept = new Map<string, Rendered>();
  const problems: string[] = [];
  for (const chart of app.charts) {
    for (const obj of chart.node.findAll()) {
      if (!(obj instanceof ApiObject) || Chart.of(obj) !== chart) continue;
      const manifest = obj.toJson() as Manifest;
      const rendered = {
        chart: chart.node.id,
        path: obj.node.path,
        manifest,
        yaml: manifestYaml(manifest),
      };
      const key = identity(manifest);
      const first = kept.get(key);
      if (!first) kept.set(key, rendered);
      else if (first.yaml !== rendered.yaml) problems.push(conflict(first, rendered));
    }
  }
  if (problems.length > 0) {
    throw new Hal9Cdk8sError(
      Hal9Cdk8sErrorCode.InvalidPlatform,
      'The bundle has differing objects of one name',
      problems,
    );
  }
  const files = new Map<string, string>();
  const objects = [...kept.values()];
  for (const r of objects) {
    const file = fileName(r, objects);
    const other = files.get(file);
    if (other !== undefined) {
      // Only objects of one kind and name in different API groups (or a namespace that reads as part
      // of another object's name) get here.
      throw new Hal9Cdk8sError(
        Hal9Cdk8sErrorCode.InvalidPlatform,
        'The bundle has two objects for one file',
        [
          `${describe(r.manifest)} (${r.path}) would be written to ${file}, as another object is: rename one of them`,
        ],
      );
    }
    files.set(file, r.yaml);
  }
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** What the apiserver keeps one object of: API group, kind, namespace and name. */
function identity(m: Manifest): string {
  const slash = m.apiVersion.indexOf('/');
  const group = slash < 0 ? '' : m.apiVersion.slice(0, slash);
  return JSON.stringify([group, m.kind, m.metadata.namespace ?? '', m.metadata.name]);
}

// The namespace goes into the file name only where one chart needs it, so the files of a
// single-namespace bundle keep the names Argo CD and the docs know.
function fileName(r: Rendered, all: readonly Rendered[]): string {
  const kind = r.manifest.kind.toLowerCase();
  const { name, namespace } = r.manifest.metadata;
  const spread = all.some(
    (o) =>
      o !== r &&
      o.chart === r.chart &&
      o.manifest.kind.toLowerCase() === kind &&
      o.manifest.metadata.name === name &&
      o.manifest.metadata.namespace !== namespace,
  );
  return spread && namespace !== undefined
    ? `${r.chart}/${kind}-${namespace}-${name}.yaml`
    : `${r.chart}/${kind}-${name}.yaml`;
}

function describe(m: Manifest): string {
  const ns = m.metadata.namespace === undefined ? 'no namespace' : `namespace ${m.metadata.namespace}`;
  return `${m.kind} ${JSON.stringify(m.metadata.name)} (${m.apiVersion}, ${ns})`;
}

function conflict(a: Rendered, b: Rendered): string {
  const where = difference(a.manifest, b.manifest);
  const fix =
    a.manifest.kind === 'Namespace'
      ? "Let one platform create the namespace (createNamespace on one of them only), or give both the same labels (a created Namespace carries its platform's labels): renaming cannot help, the Namespace is named for the namespace they share"
      : "Rename one of them (a platform's name, its neuron ids) or put its platform in another namespace";
  return `${describe(a.manifest)} is synthesized twice, differently, by ${a.path} and ${b.path}${where ? ` (${where})` : ''}: the apiserver keeps one object per API group, kind, namespace and name, so one would overwrite the other (a Neuron's spec.cluster cannot even change). ${fix}`;
}

/** The first field where two objects differ, with both values, for the message. */
function difference(a: unknown, b: unknown, path = ''): string | undefined {
  if (JSON.stringify(a) === JSON.stringify(b)) return undefined;
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObject(a) && isObject(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])]) {
      const d = difference(a[k], b[k], path ? `${path}.${k}` : k);
      if (d) return d;
    }
  }
  const show = (v: unknown) => (v === undefined ? 'unset' : JSON.stringify(v).slice(0, 80));
  return `${path}: ${show(a)} and ${show(b)}`;
}
