import { describe, expect, it } from 'vitest';
import { parseVersions } from './binaries.ts';

describe('parseVersions', () => {
  it('reads KEY=VALUE lines and skips comments', () => {
    expect(parseVersions('# tools\nK8S_VERSION=v1.37.2\n\nKWOK_VERSION=v0.8.0\n')).toEqual({
      K8S_VERSION: 'v1.37.2',
      KWOK_VERSION: 'v0.8.0',
    });
  });
});
