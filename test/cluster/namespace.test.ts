import { describe, expect, it } from 'vitest';
import { uniqueNamespaceName } from './namespace.ts';

describe('uniqueNamespaceName', () => {
  it('makes a DNS-1123 label from any prefix', () => {
    expect(uniqueNamespaceName('My Test_File.ts', 'abc123')).toBe('my-test-file-ts-abc123');
    expect(uniqueNamespaceName('---', 'abc123')).toBe('test-abc123');
    expect(uniqueNamespaceName('x'.repeat(80)).length).toBeLessThanOrEqual(63);
    expect(uniqueNamespaceName('a')).not.toBe(uniqueNamespaceName('a'));
  });
});
