/** Kinds a Neuron owns; each has an informer whose events map back to the owning Neuron. */
export const childKinds = [
  'ConfigMap',
  'Deployment',
  'Service',
  'HorizontalPodAutoscaler',
  'PodDisruptionBudget',
] as const;
export type ChildKind = (typeof childKinds)[number];
