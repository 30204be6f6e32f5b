// What `npm run gen:dashboards` writes: dashboards rendered from code, and the copies the Helm chart
// needs because `.Files` cannot read outside the chart directory.
import { dashboards } from '../dashboards/index.ts';
import { renderDashboardJson } from '../dashboards/render.ts';

export interface OutputFile {
  /** Repository-relative path. */
  readonly path: string;
  readonly content: string;
}

export interface SourceFiles {
  /** Repository-relative path → content, for the rule file and every `crds/*.yaml`. */
  readonly [path: string]: string;
}

export const chartDir = 'charts/hal9-operator';
export const dashboardDir = 'monitoring/grafana/dashboards';
export const rulesFile = 'monitoring/prometheus/hal9-rules.yaml';
export const crdDir = 'crds';

/** Directories whose whole content is generated: files there that the plan does not produce are stale. */
export const generatedDirs: readonly string[] = Object.freeze([
  dashboardDir,
  `${chartDir}/files/dashboards`,
  `${chartDir}/crds`,
]);

const banner = (source: string) => `# Generated from ${source} by \`npm run gen:dashboards\`. Do not edit.\n`;
// `helm show crds` prints the chart's CRD files back to back, without a separator of its own: each one
// starts a YAML document, or `helm show crds | kubectl apply -f -` reads them as one object (the last
// file's keys win) and applies only the last CRD.
const documentStart = '---\n';

export function planOutputs(sources: SourceFiles): OutputFile[] {
  const out: OutputFile[] = [];
  for (const d of dashboards) {
    const content = renderDashboardJson(d.build());
    out.push({ path: `${dashboardDir}/${d.file}`, content });
    out.push({ path: `${chartDir}/files/dashboards/${d.file}`, content });
  }
  for (const [path, content] of Object.entries(sources).sort(([a], [b]) => a.localeCompare(b))) {
    if (path === rulesFile)
      out.push({ path: `${chartDir}/files/hal9-rules.yaml`, content: banner(path) + content });
    else if (path.startsWith(`${crdDir}/`))
      out.push({
        path: `${chartDir}/crds/${path.slice(crdDir.length + 1)}`,
        content: documentStart + banner(path) + content,
      });
  }
  return out;
}

export interface Drift {
  readonly changed: string[];
  readonly missing: string[];
  readonly stale: string[];
}

/** Compares planned outputs with what is on disk (`existing`: path → content for every file in `generatedDirs` and each planned path). */
export function findDrift(planned: readonly OutputFile[], existing: ReadonlyMap<string, string>): Drift {
  const plannedPaths = new Set(planned.map((f) => f.path));
  const changed: string[] = [];
  const missing: string[] = [];
  for (const f of planned) {
    const now = existing.get(f.path);
    if (now === undefined) missing.push(f.path);
    else if (now !== f.content) changed.push(f.path);
  }
  const stale = [...existing.keys()].filter(
    (p) => !plannedPaths.has(p) && generatedDirs.some((d) => p.startsWith(`${d}/`)),
  );
  return { changed, missing, stale: stale.sort() };
}
