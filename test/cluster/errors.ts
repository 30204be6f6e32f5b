// One catalogue of the harness's failures, each with a stable code tests and scripts can match on.
export const HarnessErrorCode = {
  BuildFailed: 'HAL9_TEST_BUILD_FAILED',
  BinaryMissing: 'HAL9_TEST_BINARY_MISSING',
  OpensslFailed: 'HAL9_TEST_OPENSSL_FAILED',
  ProcessExited: 'HAL9_TEST_PROCESS_EXITED',
  Timeout: 'HAL9_TEST_TIMEOUT',
  KwokStagesMissing: 'HAL9_TEST_KWOK_STAGES_MISSING',
  KubectlFailed: 'HAL9_TEST_KUBECTL_FAILED',
  NotProvided: 'HAL9_TEST_NOT_PROVIDED',
  InvalidManifest: 'HAL9_TEST_INVALID_MANIFEST',
  NonLoopback: 'HAL9_TEST_NON_LOOPBACK',
  PodRunner: 'HAL9_TEST_POD_RUNNER',
} as const;
export type HarnessErrorCode = (typeof HarnessErrorCode)[keyof typeof HarnessErrorCode];

export class HarnessError extends Error {
  readonly code: HarnessErrorCode;

  constructor(code: HarnessErrorCode, message: string, options?: ErrorOptions) {
    super(`${code}: ${message}`, options);
    this.name = 'HarnessError';
    this.code = code;
  }
}
