/**
 * A spec the CRD schemas admitted that renders something the runtime or the apiserver would refuse:
 * never rolled out. The reconcile fails with its message (RenderFailed) and the running pods keep
 * the last good objects.
 */
export class RenderRefusedError extends Error {
  override readonly name = 'RenderRefusedError';
}
