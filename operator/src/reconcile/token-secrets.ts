import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import type { Hal9Cluster, Neuron } from '../api-types.ts';
import { errorMessage, OperatorError, OperatorErrorCode } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { adminSecretName, renderAdminSecret } from '../render/admin-secret.ts';
import { renderPeerSecret } from '../render/peer-secret.ts';
import type { AccessStep } from '../status/access-failure.ts';

/** Creates a Secret; 'exists' when one of that name is already there (it is never read or replaced). */
export type CreateSecret = (secret: V1Secret) => Promise<'created' | 'exists'>;

export interface TokenSecretDeps {
  /** A fresh random token (the composition root passes crypto.randomBytes). */
  readonly randomToken: () => string;
  /** The cluster's derived admin token (cluster-access.ts ClusterAccessDeps.adminToken). */
  readonly adminToken?: (cluster: Hal9Cluster) => Promise<string>;
}

/**
 * Creates the cluster's token Secrets (the peer token; the admin token when `withAdmin` and the
 * operator derives one), owned by the cluster when it has a uid and by `outliving`. A create is also
 * the check that a Secret exists (409), since the operator may not read Secrets. Every failure is
 * passed to `fail` with the step it failed at; returns whether every Secret is there.
 */
export async function createTokenSecrets(
  deps: TokenSecretDeps,
  createSecret: CreateSecret,
  o: {
    readonly cluster: Hal9Cluster;
    readonly outliving: readonly Neuron[];
    readonly withAdmin: boolean;
    readonly log: Logger;
    readonly fail: (at: AccessStep, error: unknown) => void;
  },
): Promise<boolean> {
  const namespace = o.cluster.metadata?.namespace ?? 'default';
  const secret = renderPeerSecret(o.cluster, deps.randomToken(), o.outliving);
  let created = true;
  try {
    const result = await createSecret(secret);
    if (result === 'created') o.log.info({ secret: secret.metadata?.name }, 'Created peer token Secret');
  } catch (err) {
    created = false;
    o.fail(secretStep(secret), err);
  }
  if (o.withAdmin && deps.adminToken) {
    const name = adminSecretName(o.cluster.metadata?.name ?? '');
    try {
      const token = await deps.adminToken(o.cluster).catch((err: unknown) => {
        // Not a refusal of this Secret: "create it yourself" would give the pods another token.
        throw new OperatorError(
          OperatorErrorCode.Unexpected,
          `Cannot make Secret ${namespace}/${name}: the operator's admin key cannot be read (${errorMessage(err)}); the chart's -admin-key Role grants get on it`,
          { cause: err },
        );
      });
      const admin = renderAdminSecret(o.cluster, token, o.outliving);
      const result = await createSecret(admin);
      if (result === 'created') o.log.info({ secret: name }, 'Created runtime admin token Secret');
    } catch (err) {
      created = false;
      o.fail(secretStep({ kind: 'Secret', metadata: { name, namespace } }), err);
    }
  }
  return created;
}

function secretStep(obj: KubernetesObject): AccessStep {
  return {
    verb: 'create',
    kind: 'Secret',
    namespace: obj.metadata?.namespace ?? 'default',
    name: obj.metadata?.name ?? '',
  };
}
