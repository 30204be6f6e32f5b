// A runtime pod answers 401/403 on its admin API when the bearer token is not the one it mounted: a
// bare "HTTP 401" in a condition did not say which token, or that a rotation in progress explains it.

/** What to check when a pod refused an admin call with `status`; '' for any other status. */
export function adminRefusalHint(status: number): string {
  if (status !== 401 && status !== 403) return '';
  return (
    "the pod refused the operator's admin token: the pods mount the Secret the Hal9Cluster's " +
    'spec.adminTokenSecretRef names (else <cluster>-admin-token) and the operator sends what it ' +
    'reads there; after a rotation both take the new token within about two minutes. '
  );
}
