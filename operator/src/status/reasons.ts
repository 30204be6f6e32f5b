/** Condition types the operator writes. */
export const ConditionType = Object.freeze({
  Ready: 'Ready',
  Progressing: 'Progressing',
  Degraded: 'Degraded',
  Paused: 'Paused',
  Warning: 'Warning',
  /** kstatus's: Progressing=True while nothing needs the user (kstatus.ts). */
  Reconciling: 'Reconciling',
  /** kstatus's: Degraded=True (kstatus.ts). */
  Stalled: 'Stalled',
});

/** Condition reasons (CamelCase): the vocabulary users see in `kubectl get -o yaml` and events. */
export const Reason = Object.freeze({
  ClusterNotFound: 'ClusterNotFound',
  Paused: 'Paused',
  NotPaused: 'NotPaused',
  Available: 'Available',
  ScaledToZero: 'ScaledToZero',
  RollingOut: 'RollingOut',
  WaitingForDeployment: 'WaitingForDeployment',
  Reconciled: 'Reconciled',
  AsExpected: 'AsExpected',
  ApplyFailed: 'ApplyFailed',
  /** A write failed for the apiserver's moment (isTransient): retried with backoff, nobody needs to act. */
  Retrying: 'Retrying',
  RenderFailed: 'RenderFailed',
  ReplicaFailure: 'ReplicaFailure',
  ProgressDeadlineExceeded: 'ProgressDeadlineExceeded',
  PrivilegedInitContainers: 'PrivilegedInitContainers',
  /** Degraded: the spec asks for privileged init containers in a namespace not allowed them. */
  PrivilegedNotAllowed: 'PrivilegedNotAllowed',
  /** Event: the status could not be written, as the installed CRD is older than the operator. */
  CRDOutdated: 'CRDOutdated',
  /** Event: the apiserver refused the status (422): a validation rule the stored object fails. */
  StatusRejected: 'StatusRejected',
  RenderWarnings: 'RenderWarnings',
  NoWarnings: 'NoWarnings',
  /** Hal9Cluster: spec.entryNeuron names no Neuron of the cluster (requests enter by the fallback). */
  EntryNeuronNotFound: 'EntryNeuronNotFound',
  /** Hal9Cluster: no spec.adminTokenSecretRef, and the operator has no key to make an admin token. */
  NoAdminToken: 'NoAdminToken',
  /** Hal9Cluster: it carries hal9.ai/paused, which pauses nothing (pausing is per Neuron). */
  ClusterPauseIgnored: 'ClusterPauseIgnored',
  NoNeurons: 'NoNeurons',
  AllNeuronsReady: 'AllNeuronsReady',
  NeuronsNotReady: 'NeuronsNotReady',
  /** Hal9Cluster Ready=False only because of paused Neurons that are not Ready (not waited for). */
  NeuronsPaused: 'NeuronsPaused',
  /** The cluster's spec changed and some of its Neurons have not been rendered from it yet. */
  NeuronsPending: 'NeuronsPending',
  NeuronsDegraded: 'NeuronsDegraded',
});
