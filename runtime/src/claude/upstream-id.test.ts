import { describe, expect, it } from 'vitest';
import { upstreamId } from './upstream-id.ts';

describe('upstreamId', () => {
  it('keeps the API ids as they are', () => {
    for (const id of ['req_011CSHoEeqs5C3K2XzZkG7pS', 'msg_01XFDUDYJgAACzvnptvVoYEL', 'req_fake_1'])
      expect(upstreamId(id)).toBe(id);
  });

  it('drops anything else whole, never a trimmed part of it', () => {
    for (const v of [
      'req_Bearersk-ant-SECRETKEY-abcdef0123', // an echoed key: its `-` is in no id
      'req_you sent x-api-key=sk-ant-secret',
      `msg_${'x'.repeat(129)}`,
      '_abc',
      'req_',
      '',
      42,
      undefined,
    ])
      expect(upstreamId(v), String(v)).toBeUndefined();
  });
});
