// @hal9/test: a real local Kubernetes control plane (etcd, kube-apiserver, kcm, scheduler, kwok) for tests.

export { assertClusterLoopback, nonLoopbackAddresses } from './cluster/address-audit.ts';
export { assertBinaries, ensureBinaries, kwokStagePaths, repoRoot } from './cluster/binaries.ts';
export {
  deployment,
  hugepagesResources,
  pod,
  podSpec,
  type RuntimePodOptions,
  requireNodeLabel,
  runtimeDeployment,
  runtimePodSpec,
} from './cluster/builders.ts';
export {
  adminIdentity,
  type ClientIdentity,
  type ControlPlaneCerts,
  generateCertificates,
  issueClientCertificate,
} from './cluster/certs.ts';
export { type ControlPlane, type ControlPlaneOptions, startControlPlane } from './cluster/control-plane.ts';
export {
  deleteCrds,
  installCrds,
  installCrdsFromDir,
  readCrdsFromDir,
  waitForCrdDiscovery,
} from './cluster/crds.ts';
export { HarnessError, HarnessErrorCode } from './cluster/errors.ts';
export {
  binDirFromInject,
  kubeConfigFromInject,
  kubeconfigPathFromInject,
  kubectl,
  podNetworkFromInject,
} from './cluster/inject.ts';
export { loadKubeConfig, renderKubeconfig, writeKubeconfig } from './cluster/kubeconfig.ts';
export { type KubectlOptions, type KubectlResult, runKubectl } from './cluster/kubectl.ts';
export {
  assertLoopbackIp,
  ipInCidr,
  isLoopbackIp,
  type PodNetwork,
  podNetworkFor,
} from './cluster/loopback.ts';
export { createTestNamespace, type TestNamespace, uniqueNamespaceName } from './cluster/namespace.ts';
export {
  createFakeNodes,
  defaultFakeNodes,
  type FakeNodeSpec,
  isNodeSchedulable,
  renderFakeNode,
  waitForNodesSchedulable,
} from './cluster/nodes.ts';
export { readOptional, readPodReferences, writePlannedFiles } from './cluster/pod-files.ts';
export {
  expandEnv,
  type PlanInputs,
  type PodProcessPlan,
  planPodProcess,
  podReferences,
  selectContainer,
} from './cluster/pod-process-plan.ts';
export {
  defaultRuntimeSelector,
  type PodProcess,
  type PodRunner,
  type PodRunnerOptions,
  startPodRunner,
} from './cluster/pod-runner.ts';
export { type WaitOptions, waitFor } from './cluster/wait.ts';
export { listPods, podCondition, waitForDeploymentReady, waitForPod } from './cluster/workloads.ts';
export {
  type BuildImageOptions,
  type BuiltImage,
  buildImage,
  type ImageCommand,
} from './image/build-image.ts';
export { compiledWithoutCache, filesIn } from './image/inspect.ts';
