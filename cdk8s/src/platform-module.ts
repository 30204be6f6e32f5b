import { existsSync, statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Hal9Cdk8sError, Hal9Cdk8sErrorCode } from './errors.ts';
import type { Hal9PlatformProps } from './hal9-platform.ts';
import type { RepositoryInputs } from './inputs.ts';

/**
 * What a platform module default-exports: the platform built from the repository's inputs (its
 * dashboards and rules, to ship or leave out). `npm run synth -- --platform <module>` synthesizes it.
 *
 * @example
 * import type { PlatformDefinition } from '@hal9/cdk8s';
 * const platform: PlatformDefinition = (inputs) => ({
 *   name: 'team-a', namespace: 'team-a', createNamespace: true,
 *   neurons: [{ id: 'impl-1', layer: 'L2' }],
 *   dashboards: inputs.dashboards,
 * });
 * export default platform;
 */
export type PlatformDefinition = (inputs: RepositoryInputs) => Hal9PlatformProps;

/**
 * The platform definition a module's default export holds; refuses a module that has none or
 * exports something else, saying what to export.
 */
export function platformDefinitionOf(module: unknown, path: string): PlatformDefinition {
  const exported = (module as { default?: unknown } | undefined)?.default;
  if (typeof exported === 'function') return exported as PlatformDefinition;
  const what =
    exported === undefined ? 'it has no default export' : `its default export is ${kindOf(exported)}`;
  throw new Hal9Cdk8sError(Hal9Cdk8sErrorCode.InvalidInput, `The platform module ${path} is unusable`, [
    `${what}: default-export a function (inputs) => Hal9PlatformProps (export default function platform(inputs) { return { name, neurons, … }; })`,
  ]);
}

/** Imports the platform module at `path` (an absolute path) and returns its definition. */
export async function loadPlatformModule(path: string): Promise<PlatformDefinition> {
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new Hal9Cdk8sError(Hal9Cdk8sErrorCode.InvalidInput, `The platform module ${path} is unusable`, [
      'there is no such file: give the path of a .ts module that default-exports the platform',
    ]);
  }
  let module: unknown;
  try {
    module = await import(pathToFileURL(path).href);
  } catch (err) {
    throw new Hal9Cdk8sError(
      Hal9Cdk8sErrorCode.InvalidInput,
      `The platform module ${path} is unusable`,
      [
        `importing it failed: ${(err as Error).message}${
          /'@hal9\//.test((err as Error).message)
            ? ' (@hal9/* resolve only inside this repository: keep the module in the checkout, import their values by path, or import only types)'
            : ''
        }`,
      ],
      { cause: err },
    );
  }
  return platformDefinitionOf(module, path);
}

/** Calls the definition and checks that it gave an object, before the constructs check the rest. */
export function platformProps(
  define: PlatformDefinition,
  inputs: RepositoryInputs,
  path: string,
): Hal9PlatformProps {
  const props: unknown = define(inputs);
  if (kindOf(props) !== 'an object') {
    throw new Hal9Cdk8sError(Hal9Cdk8sErrorCode.InvalidInput, `The platform module ${path} is unusable`, [
      `its default export returned ${kindOf(props)}: return the platform's props themselves ({ name, neurons, … })`,
    ]);
  }
  return props as Hal9PlatformProps;
}

function kindOf(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return 'an array';
  if (typeof (v as { then?: unknown } | undefined)?.then === 'function') return 'a Promise';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}
