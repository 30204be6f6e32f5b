import type { V1Pod } from '@kubernetes/client-node';
import { adminTokenVolume, apiKeyVolume } from '../render/deployment.ts';
import { peerTokenVolume } from '../render/peer-secret.ts';
import { otlpCAVolume, otlpClientVolume, otlpHeadersVolume } from '../render/tracing-env.ts';

// The field each of our Secret volumes comes from, so a user reads which reference to check.
const fieldOf: Readonly<Record<string, string>> = {
  [adminTokenVolume]: 'adminTokenSecretRef',
  [apiKeyVolume]: 'claude.apiKeySecretRef',
  [otlpHeadersVolume]: 'tracing.headersSecretRef',
  [otlpCAVolume]: 'tracing.caSecretRef',
  [otlpClientVolume]: 'tracing.clientCertSecretRef',
  [peerTokenVolume]: "the Hal9Cluster's peer token",
};

/**
 * The Secrets a pod cannot start without (its non-optional Secret volumes), each with the field that
 * named it: `Secret "otel-token" (tracing.headersSecretRef)`. A volume added by a user's pod template
 * patch has no field. Pure.
 */
export function mountedSecrets(pod: V1Pod): string[] {
  return (pod.spec?.volumes ?? [])
    .filter((v) => v.secret?.secretName && v.secret.optional !== true)
    .map((v) => {
      const field = fieldOf[v.name];
      return `Secret "${v.secret?.secretName}"${field ? ` (${field})` : ''}`;
    });
}
