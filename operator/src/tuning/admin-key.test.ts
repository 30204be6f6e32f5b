import { describe, expect, it } from 'vitest';
import { aHal9Cluster } from '../testing/builders.ts';
import { derivedAdminToken } from './admin-key.ts';

describe('derivedAdminToken', () => {
  const key = Buffer.from('k'.repeat(32));

  it('is the same for the same cluster and key, whoever derives it, and one token the runtime takes', () => {
    const a = derivedAdminToken(key, aHal9Cluster({}, 'brain', { namespace: 'ai' }));
    expect(
      derivedAdminToken(Buffer.from(key), aHal9Cluster({ image: 'other' }, 'brain', { namespace: 'ai' })),
    ).toBe(a);
    // Visible ASCII, no space: what a bearer header (and the runtime's token check) takes.
    expect(a).toMatch(/^hal9a_[A-Za-z0-9_-]{43}$/);
  });

  it('differs by cluster, namespace and key', () => {
    const of = (name: string, namespace: string, k = key) =>
      derivedAdminToken(k, aHal9Cluster({}, name, { namespace }));
    const tokens = new Set([
      of('brain', 'ai'),
      of('brain', 'ml'),
      of('brai', 'nai'),
      of('other', 'ai'),
      of('brain', 'ai', Buffer.from('x'.repeat(32))),
    ]);
    expect(tokens.size).toBe(5);
  });
});
