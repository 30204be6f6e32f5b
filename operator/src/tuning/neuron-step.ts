import type { NeuronMemory } from './neuron-memory.ts';
import type { PodView } from './pod-view.ts';
import type { Prediction } from './prescale.ts';
import type { PassRead } from './prometheus-reads.ts';
import type { TuningTarget } from './tuning-targets.ts';

/** One Neuron's decision inputs in one tuner pass (parallelism-step.ts, replica-step.ts). */
export interface NeuronStep {
  readonly t: TuningTarget;
  readonly mem: NeuronMemory;
  readonly view: PodView | undefined;
  readonly prediction: Prediction | undefined;
  readonly now: number;
  /** This pass's Prometheus reads (one per Neuron, shared by both decisions). */
  readonly read: PassRead;
}
