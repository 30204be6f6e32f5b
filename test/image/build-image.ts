import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, lstat, mkdir, readFile, symlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, posix, relative } from 'node:path';
import { promisify } from 'node:util';
import { parseDockerfile, type Stage } from './dockerfile.ts';
import { type Ignore, parseDockerignore } from './dockerignore.ts';

// Builds an image's file tree as `docker build` would, without a container engine: each stage is a
// directory standing for the image's root, COPY honours .dockerignore, RUN runs with the stage's
// WORKDIR, ENV and USER, and the `node:<major>` base is this machine's Node of that major (with
// npm and npx, nothing else on PATH). So tests run an image's ENTRYPOINT on exactly the files the
// image would hold, with the dependencies `npm ci` gives it and not the repository's.
//
// Paths inside the image are mapped under the stage's directory. RUN lines must not name absolute
// paths under the image root (they would reach this machine's): they run in WORKDIR, so relative
// paths do, and the builder refuses a RUN line that names the WORKDIR.

const run = promisify(execFile);

export interface BuildImageOptions {
  /** The build context (the repository root for our images). */
  readonly context: string;
  /** The Dockerfile, relative to the context. */
  readonly dockerfile: string;
  /** An empty (or new) directory to build the stages in. */
  readonly out: string;
  readonly log?: (line: string) => void;
}

export interface ImageCommand {
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly uid?: number;
  readonly gid?: number;
}

export interface BuiltImage {
  /** The final stage's root directory. */
  readonly root: string;
  /** A path inside the image, on this machine. */
  hostPath(imagePath: string): string;
  /** The ENTRYPOINT as the image would start it (its user, WORKDIR and ENV), with `args` in place
   * of the CMD when given (as a pod's `args` replace it). */
  command(args?: readonly string[], env?: Readonly<Record<string, string>>): ImageCommand;
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
  readonly expose: readonly number[];
}

interface StageState {
  readonly root: string;
  workdir: string;
  env: Record<string, string>;
  user?: { readonly uid: number; readonly gid: number };
}

const isRoot = (): boolean => process.getuid?.() === 0;

/** `node:24-slim` and the like, served by this machine's Node when the major matches. */
function checkBase(stage: Stage): void {
  const m = /^node:(\d+)(?:-slim)?$/.exec(stage.base);
  const major = process.versions.node.split('.')[0];
  if (!m || m[1] !== major)
    throw new Error(
      `image base ${stage.base}: only node:${major}[-slim] (this machine's Node) can be built here`,
    );
}

/** The stage's PATH: node, npm and npx only, then what `npm install --global` put in the stage. */
async function stageBin(root: string): Promise<string> {
  const bin = join(root, '.image-builder/bin');
  await mkdir(bin, { recursive: true });
  await symlink(process.execPath, join(bin, 'node'));
  const npmCli = join(dirname(process.execPath), '../lib/node_modules/npm/bin');
  const which = async (name: string): Promise<string> => {
    if (existsSync(join(npmCli, `${name}-cli.js`))) return join(npmCli, `${name}-cli.js`);
    return (await run('sh', ['-c', `command -v ${name}`])).stdout.trim();
  };
  for (const tool of ['npm', 'npx']) await symlink(await which(tool), join(bin, tool));
  return `${bin}:${join(root, 'usr/local/bin')}:/usr/bin:/bin`;
}

/** How this machine reaches a registry (its npm config, CA bundle and proxies): settings of the
 * machine that builds, as `docker build` uses the daemon's, never part of the image. */
function machineNetwork(): Record<string, string> {
  const out: Record<string, string> = {};
  const userconfig = process.env.npm_config_userconfig ?? join(homedir(), '.npmrc');
  if (existsSync(userconfig)) out.npm_config_userconfig = userconfig;
  for (const k of [
    'NODE_EXTRA_CA_CERTS',
    'SSL_CERT_FILE',
    'SSL_CERT_DIR',
    'HTTP_PROXY',
    'HTTPS_PROXY',
    'NO_PROXY',
    'http_proxy',
    'https_proxy',
    'no_proxy',
  ]) {
    const v = process.env[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** An image path's value mapped into the stage when it names something under the image root. */
function mapValue(root: string, value: string): string {
  if (!value.startsWith('/')) return value;
  const top = value.split('/')[1];
  return top && existsSync(join(root, top)) ? join(root, value) : value;
}

export async function buildImage(o: BuildImageOptions): Promise<BuiltImage> {
  const log = o.log ?? (() => {});
  const file = parseDockerfile(await readFile(join(o.context, o.dockerfile), 'utf8'));
  const ignorePath = join(o.context, '.dockerignore');
  const ignored: Ignore = existsSync(ignorePath)
    ? parseDockerignore(await readFile(ignorePath, 'utf8'))
    : () => false;
  await mkdir(o.out, { recursive: true });
  await chmod(o.out, 0o755);
  const stages = new Map<string, StageState>();
  let last: StageState | undefined;
  let pathEnv = '';
  for (const [i, stage] of file.stages.entries()) {
    checkBase(stage);
    const root = join(o.out, `stage-${i}${stage.name ? `-${stage.name}` : ''}`);
    await mkdir(root, { recursive: true, mode: 0o755 });
    pathEnv = await stageBin(root);
    const st: StageState = { root, workdir: '/', env: {} };
    const inImage = (p: string) => join(root, posix.resolve(st.workdir, p));
    for (const step of stage.steps) {
      const where = `${o.dockerfile}:${step.line}`;
      switch (step.kind) {
        case 'workdir':
          st.workdir = step.path;
          await mkdir(join(root, step.path), { recursive: true });
          break;
        case 'env':
          Object.assign(st.env, step.vars);
          break;
        case 'user':
          st.user = { uid: step.uid, gid: step.gid };
          break;
        case 'copy': {
          const from = step.from === undefined ? undefined : stages.get(step.from);
          const dirDest = step.dest.endsWith('/') || step.sources.length > 1;
          for (const src of step.sources) {
            const source = from ? join(from.root, posix.resolve('/', src)) : join(o.context, src);
            if (!from && ignored(src)) throw new Error(`${where}: COPY ${src} is excluded by .dockerignore`);
            if (!existsSync(source)) throw new Error(`${where}: COPY ${src}: no such file`);
            const isDir = (await lstat(source)).isDirectory();
            const dest = inImage(dirDest && !isDir ? posix.join(step.dest, basename(src)) : step.dest);
            await mkdir(isDir ? dest : dirname(dest), { recursive: true });
            await cp(source, dest, {
              recursive: true,
              verbatimSymlinks: true,
              filter: (s) => from !== undefined || !ignored(relative(o.context, s)),
            });
          }
          log(
            `${where}: COPY ${step.from ? `--from=${step.from} ` : ''}${step.sources.join(' ')} ${step.dest}`,
          );
          break;
        }
        case 'run': {
          if (st.workdir !== '/' && new RegExp(`(^|[\\s=:'"])${st.workdir}(/|\\s|$)`).test(step.command))
            throw new Error(`${where}: RUN names ${st.workdir}; use paths relative to WORKDIR`);
          const env: Record<string, string> = {
            PATH: pathEnv,
            HOME: join(root, st.user ? 'home' : 'root'),
            TMPDIR: process.env.TMPDIR ?? '/tmp',
            // Global installs land in the stage; the download cache is this machine's (content-addressed).
            npm_config_prefix: join(root, 'usr/local'),
            npm_config_cache: process.env.npm_config_cache ?? join(homedir(), '.npm'),
            npm_config_update_notifier: 'false',
            npm_config_fund: 'false',
            npm_config_audit: 'false',
            ...machineNetwork(),
          };
          for (const [k, v] of Object.entries(st.env)) env[k] = mapValue(root, v);
          await mkdir(env.HOME!, { recursive: true, mode: 0o755 });
          let argv = ['sh', '-c', step.command];
          if (st.user) {
            if (!isRoot()) throw new Error(`${where}: a RUN after USER needs root here, to run as that user`);
            argv = ['setpriv', `--reuid=${st.user.uid}`, `--regid=${st.user.gid}`, '--clear-groups', ...argv];
          }
          log(`${where}: RUN ${step.command}`);
          try {
            await run(argv[0]!, argv.slice(1), {
              cwd: join(root, st.workdir),
              env,
              maxBuffer: 64 * 1024 * 1024,
            });
          } catch (e) {
            const err = e as { stderr?: string; stdout?: string; message: string };
            throw new Error(
              `${where}: RUN ${step.command} failed: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`,
            );
          }
          break;
        }
      }
    }
    if (stage.name) stages.set(stage.name, st);
    last = st;
  }
  const final = last!;
  const entrypoint = file.entrypoint;
  return {
    root: final.root,
    entrypoint,
    cmd: file.cmd,
    expose: file.expose,
    hostPath: (p) => join(final.root, posix.resolve(final.workdir, p)),
    command(args = file.cmd, extra = {}) {
      const env: Record<string, string> = {
        PATH: pathEnv,
        HOME: join(final.root, final.user ? 'home' : 'root'),
      };
      for (const [k, v] of Object.entries(final.env)) env[k] = mapValue(final.root, v);
      const [exe, ...rest] = entrypoint;
      return {
        file: exe === 'node' ? process.execPath : exe!,
        args: [...rest, ...args],
        cwd: join(final.root, final.workdir),
        env: { ...env, ...extra },
        ...(final.user && isRoot() ? { uid: final.user.uid, gid: final.user.gid } : {}),
      };
    },
  };
}
