import { fieldManager, type Neuron, type NeuronStatus } from '../api-types.ts';
import { OperatorError, OperatorErrorCode } from '../errors.ts';
import { ownsField } from '../kube/managed-fields.ts';
import type { Logger } from '../logger.ts';
import { Reason } from '../status/reasons.ts';
import { statusUpToDate } from '../status/up-to-date.ts';
import type { NeuronReconcilerDeps } from './neuron-reconciler-deps.ts';

export async function writeStatus(
  deps: NeuronReconcilerDeps,
  neuron: Neuron,
  status: NeuronStatus,
  log: Logger,
) {
  if (statusUpToDate(status, neuron.status) && !parallelismToClaim(status, neuron)) return;
  const { name = '', namespace = '' } = neuron.metadata ?? {};
  try {
    await deps.writer.applyStatus({ kind: 'Neuron', plural: 'neurons', namespace, name }, status);
    log.debug({ observedGeneration: status.observedGeneration }, 'Updated Neuron status');
  } catch (err) {
    // The Neuron was deleted meanwhile: nothing left to report on.
    if (err instanceof OperatorError && err.status === 404) return;
    // The status cannot say it: an Event does (sent once, and again every 45 minutes while it lasts).
    if (err instanceof OperatorError && err.code === OperatorErrorCode.CrdOutdated)
      deps.events.record(neuron, 'Warning', Reason.CRDOutdated, err.message);
    // Refused (422): a validation rule the stored Neuron fails (one added after it was stored) refuses
    // every write of it until its spec is changed. The status cannot say so; an Event does, naming it.
    else if (err instanceof OperatorError && err.code === OperatorErrorCode.Rejected)
      deps.events.record(
        neuron,
        'Warning',
        Reason.StatusRejected,
        `the apiserver refuses the Neuron's status, so its conditions are stale until the spec is changed to what the rule asks: ${err.message}`,
      );
    throw err;
  }
}

/**
 * status.parallelism.current is written by both the reconciler and the tuner (same value, each
 * under its own field manager). A tuner decision changes it under force, which takes the field from
 * the reconciler; the reconciler then re-applies to share it again, or the tuner's release (tuning
 * turned off) would delete it until the next reconcile.
 */
function parallelismToClaim(status: NeuronStatus, neuron: Neuron): boolean {
  return (
    status.parallelism !== undefined &&
    !ownsField(neuron, fieldManager, ['status', 'parallelism', 'current'], 'status')
  );
}
