import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { LiveTuning } from '../../config/types.ts';
import { Hal9Error } from '../../errors.ts';
import type { Engine } from '../../pipeline/engine.ts';
import type { LoadReport } from '../../pipeline/load-report.ts';
import { performancePatch } from '../schemas.ts';

// The admin API (the operator's channel): live tuning and the load report. One onRequest hook checks
// the bearer token before anything else runs, so an anonymous caller learns nothing, not even the schema.

export interface AdminRoutesOptions {
  readonly engine: Engine;
  readonly load: () => LoadReport;
  /** Bearer token; empty means no authentication. */
  readonly authToken: string;
}

export async function adminRoutes(app: FastifyInstance, { engine, load, authToken }: AdminRoutesOptions) {
  if (authToken) {
    const want = Buffer.from(`Bearer ${authToken}`);
    app.addHook('onRequest', async (req, reply) => {
      const given = Buffer.from(String(req.headers.authorization ?? ''));
      if (given.length !== want.length || !timingSafeEqual(given, want)) {
        reply.header('www-authenticate', 'Bearer realm="hal9-admin"');
        throw new Hal9Error('UNAUTHORIZED');
      }
    });
  }

  app.get('/v1/admin/performance', async () => engine.tuning());
  app.put<{ Body: Partial<LiveTuning> }>(
    '/v1/admin/performance',
    { schema: { body: performancePatch } },
    async (req) => {
      const tuning = engine.tune(req.body);
      req.log.info({ tuning }, 'performance tuning changed');
      return tuning;
    },
  );
  app.get('/v1/admin/load', async () => load());
}
