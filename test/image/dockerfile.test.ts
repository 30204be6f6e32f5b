import { describe, expect, it } from 'vitest';
import { parseDockerfile } from './dockerfile.ts';
import { parseDockerignore } from './dockerignore.ts';

const dockerfile = (...lines: string[]): string => lines.join('\n');

describe('parseDockerfile', () => {
  it('reads stages, their steps, and the final ENTRYPOINT and CMD', () => {
    const f = parseDockerfile(
      dockerfile(
        '# a comment',
        'FROM node:24-slim AS deps',
        'WORKDIR /app',
        'COPY package.json package-lock.json ./',
        'RUN npm ci \\',
        '  --omit=dev',
        'ENTRYPOINT ["node", "ignored.js"]',
        '',
        'FROM node:24-slim',
        'ENV NODE_ENV=production A="two words" B=',
        'COPY --from=deps /app/node_modules ./node_modules',
        'USER 65532:65532',
        'EXPOSE 8080 8081',
        'ENTRYPOINT ["node", "--flag", "main.js"]',
        'CMD ["--leader-elect"]',
      ),
    );
    expect(f.stages.map((s) => [s.name, s.base])).toEqual([
      ['deps', 'node:24-slim'],
      [undefined, 'node:24-slim'],
    ]);
    expect(f.stages[0]!.steps).toEqual([
      { kind: 'workdir', path: '/app', line: 3 },
      { kind: 'copy', sources: ['package.json', 'package-lock.json'], dest: './', line: 4 },
      { kind: 'run', command: 'npm ci --omit=dev', line: 5 },
    ]);
    expect(f.stages[1]!.steps).toEqual([
      { kind: 'env', vars: { NODE_ENV: 'production', A: 'two words', B: '' }, line: 10 },
      { kind: 'copy', from: 'deps', sources: ['/app/node_modules'], dest: './node_modules', line: 11 },
      { kind: 'user', uid: 65532, gid: 65532, line: 12 },
    ]);
    expect(f.entrypoint).toEqual(['node', '--flag', 'main.js']);
    expect(f.cmd).toEqual(['--leader-elect']);
    expect(f.expose).toEqual([8080, 8081]);
  });

  it.each([
    ['ADD x /x', 'line 2: ADD is not supported'],
    ['ENTRYPOINT node main.js', 'line 2: ENTRYPOINT must be in exec form'],
    ['COPY --from=nowhere /a b', 'line 2: COPY --from=nowhere names no earlier stage'],
    ['COPY --chown=1:1 a b', 'line 2: COPY flag --chown=1:1 is not supported'],
    ['USER node', 'line 2: USER must be numeric uid:gid'],
    ['ENV A B', 'line 2: ENV takes K=V pairs'],
    ['RUN ["sh", "-c", "x"]', 'line 2: RUN in exec form is not supported'],
    ['WORKDIR app', 'line 2: WORKDIR must be an absolute path'],
  ])('refuses %s, naming the line', (line, message) => {
    expect(() => parseDockerfile(dockerfile('FROM node:24-slim', line, 'ENTRYPOINT ["node"]'))).toThrow(
      message,
    );
  });

  it('refuses a file without FROM, without a final ENTRYPOINT, or ending in a continuation', () => {
    expect(() => parseDockerfile('RUN x')).toThrow('line 1: RUN before the first FROM');
    expect(() => parseDockerfile(dockerfile('FROM a AS b', 'ENTRYPOINT ["x"]', 'FROM c'))).toThrow(
      'the final stage has no ENTRYPOINT',
    );
    expect(() => parseDockerfile(dockerfile('FROM a', 'RUN x \\'))).toThrow('line 2: a line continuation');
  });
});

describe('parseDockerignore', () => {
  const ignored = parseDockerignore(
    ['# images take sources only', '.git', '**/node_modules', '**/*.test.ts', 'docs/', '!docs/keep.md'].join(
      '\n',
    ),
  );

  it.each([
    ['.git/HEAD', true],
    ['node_modules/x/index.js', true],
    ['runtime/node_modules/x', true],
    ['runtime/src/main.ts', false],
    ['runtime/src/main.test.ts', true],
    ['runtime/src/deep/a.test.ts', true],
    ['docs/a.md', true],
    ['docs/keep.md', false],
    ['gitignore', false],
  ])('%s → ignored %s', (path, expected) => {
    expect(ignored(path)).toBe(expected);
  });

  it('keeps everything when empty', () => {
    expect(parseDockerignore('')('anything/at/all')).toBe(false);
  });
});
