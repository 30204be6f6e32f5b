/** A forwarded signal as a peer pod receives it (the fields its own trace entry repeats). */
export interface Received {
  readonly id: string;
  readonly parentId: string | null;
  readonly hop: number;
  readonly to: string;
}

/**
 * What a runtime pod answers for a signal it ran to an end: the signal's own trace entry (a peer's
 * report must hold it: pipeline/peer-subtree.ts), and the results given, each of the signal's neuron.
 */
export const ranOutcome = (s: Received, contents: readonly string[] = [], layer = 'L2') => ({
  results: contents.map((content) => ({ neuron: s.to, layer, content })),
  trace: [
    {
      signal: s.id,
      parent: s.parentId,
      neuron: s.to,
      layer,
      hop: s.hop,
      cached: false,
      durationMs: 1,
      forwardedTo: [],
      dropped: [],
    },
  ],
  errors: [],
});
