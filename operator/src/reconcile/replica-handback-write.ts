import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import { apiVersion, type Hal9Cluster, type Neuron, type RenderNeuron } from '../api-types.ts';
import type { Logger } from '../logger.ts';
import { childNames } from '../render/labels.ts';
import { autoscalerFieldManager } from '../render/operator-replicas.ts';
import { effectiveSpec } from '../spec/effective-spec.ts';
import { handoverManager } from './apply-children.ts';
import { deploymentName } from './deployment-name.ts';
import type { NeuronReconcilerDeps } from './neuron-reconciler-deps.ts';
import { replicasToHandBack } from './replica-handback.ts';

/**
 * Leaving hpa mode: the count the HPA left the Deployment at goes into the Neuron's spec.replicas
 * first (replica-handback.ts), and the Deployment is rendered from it, so the switch removes no
 * pod. In operator mode it is written as the autoscaler (which goes on from it, within the
 * bounds); with autoscaling off, spec.replicas is the user's again from then on. Returns what to
 * apply: `rendered`, or the render from the carried count.
 */
export async function handBackReplicas(
  deps: NeuronReconcilerDeps,
  neuron: Neuron,
  cluster: Hal9Cluster,
  rendered: ReturnType<RenderNeuron>,
  render: (n: Neuron) => ReturnType<RenderNeuron>,
  log: Logger,
): Promise<ReturnType<RenderNeuron>> {
  const { name = '', namespace = '', uid } = neuron.metadata ?? {};
  const hpa = deps.children.HorizontalPodAutoscaler.get(childNames(name).hpa, namespace);
  const ours = hpa?.metadata?.ownerReferences?.some((r) => r.controller && r.uid === uid);
  const running = replicasToHandBack({
    liveHpa: ours ? hpa : undefined,
    rendered: rendered.objects,
    liveDeployment: deps.children.Deployment.get(deploymentName(neuron, deps), namespace) as
      | V1Deployment
      | undefined,
  });
  if (running === undefined) return rendered;
  const carried = render({ ...neuron, spec: { ...neuron.spec, replicas: running } as Neuron['spec'] });
  // Operator mode keeps the count within its bounds (minReplicas/maxReplicas changed with the mode).
  const count = replicasOf(carried.objects) ?? running;
  if (count === replicasOf(rendered.objects)) return rendered;
  // Then spec.replicas (rendered from, within the same bounds) differs from it too: written.
  const from = neuron.spec?.replicas ?? 1;
  const operatorMode = effectiveSpec(cluster, neuron).autoscaling.enabled;
  await deps.writer.apply(
    {
      apiVersion,
      kind: 'Neuron',
      metadata: { name, namespace },
      spec: { replicas: count },
    } as KubernetesObject,
    { manager: operatorMode ? autoscalerFieldManager : handoverManager, force: true },
  );
  const bounded = count === running ? '' : ` (${running}, within minReplicas/maxReplicas)`;
  const message = `Autoscaling mode hpa left: spec.replicas set from ${from} to ${count}, the count the HorizontalPodAutoscaler left the Deployment at${bounded}`;
  deps.events.record(neuron, 'Normal', 'ReplicasHandedBack', message);
  log.info({ from, to: count, running }, 'Carried the replica count of the HPA into spec.replicas');
  return carried;
}

function replicasOf(objects: readonly KubernetesObject[]): number | undefined {
  return (objects.find((o) => o.kind === 'Deployment') as V1Deployment | undefined)?.spec?.replicas;
}
