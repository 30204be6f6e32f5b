// A runtime pod answers 401/403 on its admin API when the bearer token is not the one it mounted: a
// bare "HTTP 401" in a condition did not say which token, or that a rotation in progress explains it.

/**
 * What to check when a pod refused an admin call with `status`; '' for any other status. `sent`:
 * whether the call carried a token (the operator has none for a cluster without
 * spec.adminTokenSecretRef when it runs without a namespace for its key).
 */
export function adminRefusalHint(status: number, sent = true): string {
  if (status !== 401 && status !== 403) return '';
  if (!sent)
    return (
      'the operator sent no admin token: it has none for this cluster (the Hal9Cluster says NoAdminToken). ' +
      'Start the operator with --leader-election-namespace (or POD_NAMESPACE) so it keeps an admin key, ' +
      'or name a Secret in spec.adminTokenSecretRef. '
    );
  return (
    "the pod refused the operator's admin token: the pods mount the Secret the Hal9Cluster's " +
    'spec.adminTokenSecretRef names and the operator sends what it reads there (after a rotation ' +
    'both take the new token within about two minutes); without it, <cluster>-admin-token holds a ' +
    "token derived from the operator's admin key, and after the key changed that Secret must be " +
    'deleted so the operator makes it again from the new key. '
  );
}

/**
 * What a pod's refusal says, for logs and status: its status, the hint above, and the runtime's
 * stable error code when its body is the runtime's error JSON. Never the body's text: it can change
 * on every answer (a request id), and a condition holding it would be rewritten on every pass.
 */
export function podRefusal(status: number, body: string, sent = true): string {
  let code: unknown;
  try {
    code = (JSON.parse(body) as { error?: { code?: unknown } } | null)?.error?.code;
  } catch {
    code = undefined;
  }
  const named = typeof code === 'string' && /^[A-Z][A-Z_]{0,63}$/.test(code) ? ` ${code}` : '';
  const redirect =
    status >= 300 && status < 400
      ? ' (a redirect: not followed, a pod is called only at its own address)'
      : '';
  const hint = adminRefusalHint(status, sent).trimEnd();
  return `HTTP ${status}${named}${redirect}${hint ? `: ${hint}` : ''}`;
}
