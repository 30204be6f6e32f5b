import type { KubernetesObject, V1NetworkPolicy, V1NetworkPolicyIngressRule } from '@kubernetes/client-node';
import { type CacheTransform, trimForCache } from './trim.ts';

type WireRule = Omit<V1NetworkPolicyIngressRule, '_from'> & { from?: V1NetworkPolicyIngressRule['_from'] };

/**
 * The NetworkPolicy cache transform: trimForCache, and each ingress rule's `from` under client-node's
 * model name `_from`. The typed list answers with models (`_from`) while a watch event is the wire
 * JSON (`from`); the renderer writes `_from` (the serializer maps it on apply). One form in the cache
 * is what lets the rendered policy be compared with the live one. Pure.
 */
export function networkPolicyForCache(): CacheTransform {
  const trim = trimForCache();
  return (obj: KubernetesObject) => {
    const policy = trim(obj) as V1NetworkPolicy;
    const ingress = policy.spec?.ingress as WireRule[] | undefined;
    if (!policy.spec || !ingress?.some((rule) => 'from' in rule)) return policy;
    return { ...policy, spec: { ...policy.spec, ingress: ingress.map(modelRule) } };
  };
}

function modelRule(rule: WireRule): V1NetworkPolicyIngressRule {
  if (!('from' in rule)) return rule;
  const { from, ...rest } = rule;
  return from === undefined ? rest : { ...rest, _from: from };
}
