import {
  type Configuration,
  createConfiguration,
  type KubeConfig,
  KubernetesObjectApi,
  type RequestContext,
  type ResponseContext,
  ServerConfiguration,
} from '@kubernetes/client-node';

/**
 * API clients whose every request carries a deadline. client-node sets none: a request sent
 * while the apiserver restarts can hang forever, wedging a worker or an informer's list.
 */
export function apiConfiguration(kc: KubeConfig, timeoutMs: number): Configuration {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  return createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: kc },
    promiseMiddleware: [
      {
        pre: async (ctx: RequestContext) => {
          ctx.setSignal(AbortSignal.timeout(timeoutMs));
          ctx.setHeaderParam('User-Agent', 'hal9-operator');
          return ctx;
        },
        post: async (res: ResponseContext) => res,
      },
    ],
  });
}

export function makeClient<T>(kc: KubeConfig, Api: new (c: Configuration) => T, timeoutMs = 30_000): T {
  return new Api(apiConfiguration(kc, timeoutMs));
}

export function makeObjectClient(kc: KubeConfig, timeoutMs = 30_000): KubernetesObjectApi {
  return new KubernetesObjectApi(apiConfiguration(kc, timeoutMs));
}
