import type { CustomObjectsApi } from '@kubernetes/client-node';
import { fromApiError } from '../errors.ts';

export interface ApiResource {
  readonly group: string;
  readonly version: string;
  /** The resource name discovery lists, e.g. "servicemonitors". */
  readonly plural: string;
}

/**
 * Whether the cluster serves a resource: `GET /apis/<group>/<version>` (discovery, readable by
 * every authenticated user) lists it. A 404 means the group version is not installed; any other
 * failure throws, since it says nothing about the API. `api`: a client with a read's deadline
 * (clients.ts readTimeoutMs).
 */
export function apiResourceServed(api: CustomObjectsApi, r: ApiResource): () => Promise<boolean> {
  return async () => {
    try {
      const list = await api.getAPIResources({ group: r.group, version: r.version });
      return list.resources.some((res) => res.name === r.plural);
    } catch (err) {
      const e = fromApiError(err, `Discovery of ${r.group}/${r.version}`);
      if (e.status === 404) return false;
      throw e;
    }
  };
}
