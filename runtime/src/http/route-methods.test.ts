import { describe, expect, it } from 'vitest';
import { routeMethods } from './route-methods.ts';

describe('routeMethods', () => {
  const table = routeMethods();
  table.add({ method: 'POST', url: '/v1/signals' });
  table.add({ method: ['GET', 'HEAD'], url: '/v1/signals/:id' });
  table.add({ method: 'POST', url: '/v1/signals/batch' });
  table.add({ method: 'GET', url: '/v1/admin/performance' });
  table.add({ method: 'PUT', url: '/v1/admin/performance' });

  it('lists the methods of every route of a path, its query aside', () => {
    expect(table.allowed('/v1/admin/performance?x=1')).toEqual(['GET', 'PUT']);
    expect(table.allowed('/v1/signals')).toEqual(['POST']);
  });

  it('matches a parameter as one segment, beside a static route of the same shape', () => {
    expect(table.allowed('/v1/signals/abc')).toEqual(['GET', 'HEAD']);
    expect(table.allowed('/v1/signals/batch')).toEqual(['GET', 'HEAD', 'POST']);
    expect(table.allowed('/v1/signals/a/b')).toEqual([]);
    expect(table.allowed('/v1/signals/')).toEqual([]);
  });

  it('knows no path no route has, and reads regular-expression characters literally', () => {
    expect(table.allowed('/v2/nothing')).toEqual([]);
    table.add({ method: 'GET', url: '/a.b' });
    expect(table.allowed('/aXb')).toEqual([]);
    expect(table.allowed('/a.b')).toEqual(['GET']);
  });

  it('matches a percent-encoded path as the router does, never an encoded slash as a new segment', () => {
    expect(table.allowed('/v1/%73ignals')).toEqual(['POST']);
    expect(table.allowed('/v1/admin/%70erformance?x=%zz')).toEqual(['GET', 'PUT']);
    expect(table.allowed('/v1/signals/a%2Fb')).toEqual(['GET', 'HEAD']);
    expect(table.allowed('/v1%2Fsignals')).toEqual([]);
    expect(table.allowed('/v1/signals/%zz')).toEqual(['GET', 'HEAD']);
  });
});
