import { describe, expect, it } from 'vitest';
import { isPaused } from './api-types.ts';

describe('isPaused', () => {
  it.each([
    ['true', true],
    ['True', true],
    ['yes', true],
    ['1', true],
    ['', true],
    ['false', false],
    ['False', false],
    [' false ', false],
  ])('hal9.ai/paused: %j → %s', (value, paused) => {
    expect(isPaused({ 'hal9.ai/paused': value })).toBe(paused);
  });

  it('is false without the annotation', () => {
    expect(isPaused(undefined)).toBe(false);
    expect(isPaused({ 'hal9.ai/other': 'true' })).toBe(false);
  });
});
