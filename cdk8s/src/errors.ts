/** Stable codes of the errors this package throws at synth time. */
export const Hal9Cdk8sErrorCode = Object.freeze({
  /** A Hal9Cluster or Neuron spec breaks its CRD's schema or one of its validation rules. */
  InvalidSpec: 'HAL9_ERR_INVALID_SPEC',
  /** A platform definition is inconsistent (unknown connection target, duplicate neuron id, …). */
  InvalidPlatform: 'HAL9_ERR_INVALID_PLATFORM',
  /** An input file (CRD, dashboard, rule file) is not what the bundle expects. */
  InvalidInput: 'HAL9_ERR_INVALID_INPUT',
});

export type Hal9Cdk8sErrorCode = (typeof Hal9Cdk8sErrorCode)[keyof typeof Hal9Cdk8sErrorCode];

/** One error listing every problem found, each naming its field, so a definition is fixed in one pass. */
export class Hal9Cdk8sError extends Error {
  readonly code: Hal9Cdk8sErrorCode;
  readonly problems: readonly string[];

  constructor(
    code: Hal9Cdk8sErrorCode,
    subject: string,
    problems: readonly string[],
    options?: ErrorOptions,
  ) {
    super(`${subject}:\n${problems.map((p) => `  - ${p}`).join('\n')}`, options);
    this.name = 'Hal9Cdk8sError';
    this.code = code;
    this.problems = problems;
  }
}
