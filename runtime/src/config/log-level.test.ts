import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { logLevel } from './log-level.ts';

describe('HAL9_LOG_LEVEL', () => {
  it('takes the levels in any case; unset or empty is info', () => {
    expect(logLevel(undefined)).toBe('info');
    expect(logLevel('')).toBe('info');
    expect(logLevel('DEBUG')).toBe('debug');
    expect(logLevel(' warn ')).toBe('warn');
  });

  it('refuses anything else with a ConfigError naming the variable', () => {
    for (const v of ['verbose', '10', 'info,debug']) {
      const e = (() => {
        try {
          logLevel(v);
        } catch (err) {
          return err;
        }
      })();
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).problems[0]!.field).toBe('HAL9_LOG_LEVEL');
    }
  });
});
