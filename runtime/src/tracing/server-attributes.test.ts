import { describe, expect, it } from 'vitest';
import { ANTHROPIC_API_URL, serverAttributes } from './server-attributes.ts';

describe('serverAttributes', () => {
  it.each([
    [ANTHROPIC_API_URL, { 'server.address': 'api.anthropic.com', 'server.port': 443 }],
    ['http://runtime-b.ai.svc:8080', { 'server.address': 'runtime-b.ai.svc', 'server.port': 8080 }],
    ['http://gateway.internal/anthropic/v1', { 'server.address': 'gateway.internal', 'server.port': 80 }],
    ['http://[::1]:9000', { 'server.address': '::1', 'server.port': 9000 }],
    ['http://user:secret@10.0.0.7:81/x?y=1', { 'server.address': '10.0.0.7', 'server.port': 81 }],
    ['not a url', {}],
  ])('reads %s as its host and port, never its path or credentials', (url, want) => {
    expect(serverAttributes(url)).toEqual(want);
  });
});
