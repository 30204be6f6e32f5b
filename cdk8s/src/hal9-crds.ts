import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { SyncOption, SyncWave, syncIn, syncOptionsAnnotation } from './argocd.ts';
import { Hal9Cdk8sError, Hal9Cdk8sErrorCode } from './errors.ts';

/** A CustomResourceDefinition document, as parsed from crds/. */
export interface CrdDocument {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly [key: string]: unknown };
  readonly spec: { readonly group: string; readonly [key: string]: unknown };
}

export interface Hal9CrdsProps {
  /** The CRDs from crds/ (the single source of the schema), parsed. */
  readonly crds: readonly CrdDocument[];
  /**
   * Add the Argo CD sync wave and server-side apply. The CRDs of crds/ already carry
   * `Prune=false,Delete=false` and `helm.sh/resource-policy: keep`, which pass through either way.
   * @default true
   */
  readonly argoCd?: boolean;
}

/** The sync options a CRD document already carries (crds/ sets ServerSideApply=true,Prune=false,Delete=false). */
function ownSyncOptions(c: CrdDocument): string[] {
  const annotations = c.metadata.annotations as Readonly<Record<string, string>> | undefined;
  const value = annotations?.[syncOptionsAnnotation] ?? '';
  return value
    .split(',')
    .map((o) => o.trim())
    .filter((o) => o !== '');
}

/** The Hal9 CRDs, unchanged but for Argo CD annotations, in the earliest sync wave. */
export class Hal9Crds extends Construct {
  readonly crds: readonly ApiObject[];

  constructor(scope: Construct, id: string, props: Hal9CrdsProps) {
    super(scope, id);
    const problems = props.crds.flatMap((c, i) =>
      c.apiVersion === 'apiextensions.k8s.io/v1' &&
      c.kind === 'CustomResourceDefinition' &&
      c.spec?.group === 'hal9.ai'
        ? []
        : [
            `crds[${i}] (${c.metadata?.name ?? 'unnamed'}) is not a hal9.ai apiextensions.k8s.io/v1 CustomResourceDefinition`,
          ],
    );
    if (problems.length > 0)
      throw new Hal9Cdk8sError(Hal9Cdk8sErrorCode.InvalidInput, 'CRDs are invalid', problems);
    this.crds = props.crds.map((c) => {
      const obj = new ApiObject(this, c.metadata.name, structuredClone(c) as never);
      if (props.argoCd ?? true) {
        // One annotation holds all options: merge with the document's own, each option once.
        const options = new Set<string>([
          SyncOption.serverSideApply,
          SyncOption.pruneFalse,
          SyncOption.deleteFalse,
          ...ownSyncOptions(c),
        ]);
        syncIn(obj, SyncWave.crds, [...options]);
      }
      return obj;
    });
  }
}
