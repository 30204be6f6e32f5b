import type { FastifyReply, FastifyRequest } from 'fastify';
import { Hal9Error } from '../errors.ts';
import { authenticate, type Credentials } from './credentials.ts';

// One onRequest hook per protected plugin: it runs before the body is read or validated, so an
// anonymous caller learns nothing (not even the schema). 401s carry WWW-Authenticate.

export function bearerGuard(
  creds: Credentials,
  realm: string,
  onClient?: (req: FastifyRequest, name: string) => void,
) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const name = authenticate(creds, req.headers.authorization);
    if (name === undefined) {
      reply.header('www-authenticate', `Bearer realm="${realm}"`);
      throw new Hal9Error('UNAUTHORIZED');
    }
    onClient?.(req, name);
  };
}
