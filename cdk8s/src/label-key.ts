// A Kubernetes label key, as the CRDs' CEL rules check it: an optional prefix that is a DNS subdomain
// (lower-case parts joined by single dots, at most 253 characters) and /, then a name of at most 63.
const shape =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** Whether `key` is a label key the apiserver takes on an object, a node selector or a toleration. */
export function isLabelKey(key: string): boolean {
  return shape.test(key) && key.indexOf('/') <= 253;
}
