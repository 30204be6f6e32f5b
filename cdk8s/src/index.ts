export type * from '@hal9/api';
export { SyncOption, SyncWave, syncIn, syncOptionsAnnotation, syncWaveAnnotation } from './argocd.ts';
export { BundleFolder, type BundleProps, buildBundleApp, renderBundle } from './bundle.ts';
export { Hal9Cdk8sError, Hal9Cdk8sErrorCode } from './errors.ts';
export {
  clientSideApplyLimitBytes,
  dashboardDataLimitBytes,
  type GrafanaDashboard,
  GrafanaDashboards,
  grafanaDashboardLabel,
  needsServerSideApply,
} from './grafana-dashboards.ts';
export { Hal9Cluster, type Hal9ClusterProps } from './hal9-cluster.ts';
export { type CrdDocument, Hal9Crds, type Hal9CrdsProps } from './hal9-crds.ts';
export {
  Hal9Platform,
  type Hal9PlatformProps,
  type NeuronDefinition,
  OPERATOR_ALERTS_GROUP,
} from './hal9-platform.ts';
export { inputPaths, type RepositoryInputs, readRepositoryInputs } from './inputs.ts';
export { Neuron, type NeuronProps } from './neuron.ts';
export {
  loadPlatformModule,
  type PlatformDefinition,
  platformDefinitionOf,
  platformProps,
} from './platform-module.ts';
export { productionPlatform } from './platforms/production.ts';
export { PrometheusRule, type PrometheusRuleGroups, type PrometheusRuleProps } from './prometheus-rule.ts';
