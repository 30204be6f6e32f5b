import { describe, expect, it } from 'vitest';
import { durationSeconds } from './duration-seconds.ts';

describe('durationSeconds', () => {
  it.each<[string, number]>([
    ['15s', 15],
    ['1m', 60],
    ['1m30s', 90],
    ['1h2m3s', 3723],
    ['500ms', 0.5],
    ['1s500ms', 1.5],
  ])('reads %s as Prometheus does', (s, seconds) => {
    expect(durationSeconds(s)).toBe(seconds);
  });

  it.each(['', '0s', '0m0s', '15', '30s1m', '1.5m', '15 s', 'PT15S', undefined])(
    'reads %s as no interval (the caller falls back to 15 s)',
    (s) => {
      expect(durationSeconds(s)).toBeUndefined();
    },
  );
});
