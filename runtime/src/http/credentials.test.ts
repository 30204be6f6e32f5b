import { describe, expect, it } from 'vitest';
import { authenticate, credentials } from './credentials.ts';

const creds = credentials(
  new Map([
    ['alice', 'alice-key-123456'],
    ['bob', 'bob-key-654321'],
  ]),
);

describe('authenticate', () => {
  it.each([
    ['Bearer alice-key-123456', 'alice'],
    ['bearer alice-key-123456', 'alice'],
    ['BEARER bob-key-654321', 'bob'],
    ['Bearer   bob-key-654321', 'bob'],
  ])('%s → %s (the scheme in any case, then one or more spaces)', (header, name) => {
    expect(authenticate(creds, header)).toBe(name);
  });

  it.each([
    [undefined],
    [''],
    ['Bearer'],
    ['Bearer '],
    ['Basic YWxpY2U6eA=='],
    ['Bearer alice-key-1234567'],
    ['Bearer alice-key-123456 extra'],
    ['Bearer\talice-key-123456'],
    ['Token alice-key-123456'],
  ])('%s → no key', (header) => {
    expect(authenticate(creds, header)).toBeUndefined();
  });
});
