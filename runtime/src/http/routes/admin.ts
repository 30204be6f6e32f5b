import type { FastifyInstance } from 'fastify';
import type { LiveTuning } from '../../config/types.ts';
import { Hal9Error } from '../../errors.ts';
import type { Engine } from '../../pipeline/engine.ts';
import type { LoadReport } from '../../pipeline/load-report.ts';
import { bearerGuard } from '../auth-hook.ts';
import type { Credentials } from '../credentials.ts';
import { performancePatch } from '../schemas.ts';

// The admin API (the operator's channel): live tuning and the load report. One onRequest hook checks
// the bearer token before anything else runs, so an anonymous caller learns nothing, not even the schema.

export interface AdminRoutesOptions {
  readonly engine: Engine;
  readonly load: () => LoadReport;
  /**
   * Who may use the admin API: the admin token, else the peer token; empty only when no credential
   * is set. `closed`: client keys but neither token, so nobody (a client key never opens it).
   */
  readonly admins: Credentials | 'closed';
}

export async function adminRoutes(app: FastifyInstance, { engine, load, admins }: AdminRoutesOptions) {
  if (admins === 'closed') {
    app.addHook('onRequest', async () => {
      throw new Hal9Error(
        'FORBIDDEN',
        'the admin API takes the admin token (server.auth_token or server.auth_token_file; HAL9_AUTH_TOKEN, HAL9_AUTH_TOKEN_FILE), else the peer token (server.peer_token_file), and neither is set: client keys do not open it',
        { field: 'server.auth_token' },
      );
    });
  } else if (admins.size > 0) app.addHook('onRequest', bearerGuard(admins, 'hal9-admin'));

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
