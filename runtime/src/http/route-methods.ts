// Which methods each route path takes, so a request for a known path with another method is
// answered 405 with Allow (RFC 9110), not 404 as if the path did not exist. Filled from fastify's
// onRoute hook; read only for requests no route matched (never on the hot path).

export interface RouteMethods {
  /** Records a route (fastify's onRoute hook). */
  add(route: { readonly method: string | readonly string[]; readonly url: string }): void;
  /** The methods routes of this path take (its query aside, percent-decoded), sorted; none when no route has it. */
  allowed(url: string): string[];
}

/** `/v1/signals/:id` → a regular expression for its paths (a parameter is one non-empty segment). */
function pathPattern(route: string): RegExp {
  const source = route
    .split('/')
    .map((segment) =>
      segment.startsWith(':')
        ? '[^/]+'
        : segment === '*'
          ? '.*'
          : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('/');
  return new RegExp(`^${source}$`);
}

export function routeMethods(): RouteMethods {
  const routes = new Map<string, { readonly pattern: RegExp; readonly methods: Set<string> }>();
  return {
    add({ method, url }) {
      let r = routes.get(url);
      if (!r) {
        r = { pattern: pathPattern(url), methods: new Set() };
        routes.set(url, r);
      }
      for (const m of typeof method === 'string' ? [method] : method) r.methods.add(m);
    },
    allowed(url) {
      const q = url.indexOf('?');
      let path = q === -1 ? url : url.slice(0, q);
      // Matched as the router matches it: percent-decoded, with what would make a new segment (%2F)
      // left encoded (decodeURI keeps reserved characters). A malformed escape is matched as sent.
      if (path.includes('%'))
        try {
          path = decodeURI(path);
        } catch {}
      const out = new Set<string>();
      for (const r of routes.values()) if (r.pattern.test(path)) for (const m of r.methods) out.add(m);
      return [...out].sort();
    },
  };
}
