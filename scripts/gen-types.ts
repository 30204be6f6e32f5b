// Generates the Hal9 API package (api/src/generated/) from the CRD YAML in crds/, the single source of
// the Hal9 schema: per CRD the TypeScript types with the schema's default values and group/version
// constants, and the structural schema of its spec as data (for validation before apply). The operator
// and cdk8s import them from @hal9/api. `node scripts/gen-types.ts` writes the files; `--check` fails
// when the committed files differ from a fresh generation (drift).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** The subset of an OpenAPI v3 schema node that CRD structural schemas use. */
export interface SchemaNode {
  readonly type?: string;
  readonly description?: string;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly additionalProperties?: SchemaNode | boolean;
  readonly items?: SchemaNode;
  readonly required?: readonly string[];
  readonly enum?: readonly unknown[];
  readonly default?: unknown;
  readonly format?: string;
  readonly 'x-kubernetes-int-or-string'?: boolean;
  readonly 'x-kubernetes-preserve-unknown-fields'?: boolean;
}

export interface GenerateOptions {
  /** Import line that provides the metadata type. */
  readonly metadataImport?: string;
  /** Name of the metadata type provided by metadataImport. */
  readonly metadataType?: string;
}

export interface GenerationTarget {
  /** CRD file relative to the repository root. */
  readonly crd: string;
  /** Stem of the output files under api/src/generated/: `<stem>.gen.ts` and `<stem>.schema.gen.ts`. */
  readonly stem: string;
}

export const apiTargets: readonly GenerationTarget[] = [
  { crd: 'crds/hal9.ai_hal9clusters.yaml', stem: 'hal9cluster' },
  { crd: 'crds/hal9.ai_neurons.yaml', stem: 'neuron' },
];
const outDir = 'api/src/generated';

const parenthesize = (t: string): string => (/^[A-Za-z0-9_]+$/.test(t) ? t : `(${t})`);
const pascal = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

function docComment(node: SchemaNode, indent: string): string {
  const lines: string[] = [];
  if (node.description) lines.push(...node.description.split('\n'));
  if (node.default !== undefined) lines.push(`@default ${JSON.stringify(node.default)}`);
  if (lines.length === 0) return '';
  const body = lines.map((l) => `${indent} * ${l.replaceAll('*/', '*\\/')}`.trimEnd()).join('\n');
  return `${indent}/**\n${body}\n${indent} */\n`;
}

class Emitter {
  readonly declarations: string[] = [];

  /** Returns the TypeScript type expression for node, declaring named interfaces for objects. */
  typeOf(node: SchemaNode, name: string): string {
    if (node.enum) return node.enum.map((v) => JSON.stringify(v)).join(' | ');
    if (node['x-kubernetes-int-or-string']) return 'number | string';
    switch (node.type) {
      case 'string':
        return 'string';
      case 'integer':
      case 'number':
        return 'number';
      case 'boolean':
        return 'boolean';
      case 'array':
        return node.items
          ? `readonly ${parenthesize(this.typeOf(node.items, `${name}Item`))}[]`
          : 'readonly unknown[]';
      case 'object':
        return this.objectType(node, name);
      default:
        return 'unknown';
    }
  }

  private objectType(node: SchemaNode, name: string): string {
    if (node.properties && Object.keys(node.properties).length > 0) {
      this.declareInterface(node, name);
      return name;
    }
    const ap = node.additionalProperties;
    if (ap && typeof ap === 'object') return `{ readonly [key: string]: ${this.typeOf(ap, `${name}Value`)} }`;
    return '{ readonly [key: string]: unknown }';
  }

  private declareInterface(node: SchemaNode, name: string): void {
    const required = new Set(node.required ?? []);
    // Reserve the slot first so that parents come before their children in the output.
    const slot = this.declarations.length;
    this.declarations.push('');
    const fields = Object.entries(node.properties ?? {}).map(([key, child]) => {
      const type = this.typeOf(child, `${name}${pascal(key)}`);
      const opt = required.has(key) ? '' : '?';
      return `${docComment(child, '  ')}  readonly ${key}${opt}: ${type};`;
    });
    this.declarations[slot] = `${docComment(node, '')}export interface ${name} {\n${fields.join('\n')}\n}\n`;
  }
}

/** Defaults of a schema subtree, in the shape the apiserver applies them. */
export interface DefaultsNode {
  readonly default?: unknown;
  readonly properties?: Readonly<Record<string, DefaultsNode>>;
  readonly items?: DefaultsNode;
  readonly additionalProperties?: DefaultsNode;
}

/** Keeps only the parts of a schema that carry defaults; undefined when the subtree has none. */
export function defaultsOf(node: SchemaNode): DefaultsNode | undefined {
  const out: {
    default?: unknown;
    properties?: Record<string, DefaultsNode>;
    items?: DefaultsNode;
    additionalProperties?: DefaultsNode;
  } = {};
  if (node.default !== undefined) out.default = node.default;
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const d = defaultsOf(child);
    if (d) out.properties = { ...out.properties, [key]: d };
  }
  if (node.items) {
    const d = defaultsOf(node.items);
    if (d) out.items = d;
  }
  if (node.additionalProperties && typeof node.additionalProperties === 'object') {
    const d = defaultsOf(node.additionalProperties);
    if (d) out.additionalProperties = d;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

interface Crd {
  readonly spec: {
    readonly group: string;
    readonly names: { readonly kind: string; readonly plural: string };
    readonly versions: readonly {
      readonly name: string;
      readonly schema: { readonly openAPIV3Schema: SchemaNode };
    }[];
  };
}

/** Generates the TypeScript module for one CRD (every version it serves). */
export function generateTypes(crdYaml: string, options: GenerateOptions = {}): string {
  const crd = parse(crdYaml) as Crd;
  const { group, names } = crd.spec;
  const metadataType = options.metadataType ?? 'V1ObjectMeta';
  const metadataImport =
    options.metadataImport ?? "import type { V1ObjectMeta } from '@kubernetes/client-node';";
  const parts: string[] = [
    '// Generated from the CRD by scripts/gen-types.ts (npm run gen:types). Do not edit.',
    metadataImport,
    '',
  ];
  for (const version of crd.spec.versions) {
    const root = version.schema.openAPIV3Schema;
    const kind = names.kind;
    const emitter = new Emitter();
    const spec = root.properties?.spec;
    const status = root.properties?.status;
    const specType = spec ? emitter.typeOf(spec, `${kind}Spec`) : 'never';
    const statusType = status ? emitter.typeOf(status, `${kind}Status`) : 'never';
    const specOpt = root.required?.includes('spec') ? '' : '?';
    const lower = kind.charAt(0).toLowerCase() + kind.slice(1);
    parts.push(
      `export const ${lower}Group = ${JSON.stringify(group)};`,
      `export const ${lower}Version = ${JSON.stringify(version.name)};`,
      `export const ${lower}ApiVersion = ${JSON.stringify(`${group}/${version.name}`)};`,
      `export const ${lower}Kind = ${JSON.stringify(kind)};`,
      `export const ${lower}Plural = ${JSON.stringify(names.plural)};`,
      '',
      `${docComment(root, '')}export interface ${kind} {`,
      `  readonly apiVersion?: ${JSON.stringify(`${group}/${version.name}`)};`,
      `  readonly kind?: ${JSON.stringify(kind)};`,
      `  readonly metadata?: ${metadataType};`,
      `  readonly spec${specOpt}: ${specType};`,
      `  readonly status?: ${statusType};`,
      '}',
      '',
      ...emitter.declarations,
      "/** The schema's defaults below spec, as the apiserver applies them. */",
      `export const ${lower}SpecDefaults = ${JSON.stringify(spec ? (defaultsOf(spec) ?? {}) : {}, null, 2)} as const;`,
      '',
    );
  }
  return `${parts.join('\n').trimEnd()}\n`;
}

interface CelRule {
  readonly rule: string;
  readonly message?: string;
}

/** A CEL rule that only matches its value against a regular expression (no quote or backslash in it). */
const PATTERN_RULE = /^self\.matches\('([^'\\]*)'\)$/;

/**
 * Keeps what validation needs; descriptions, defaults and CEL rules stay in the CRD, but for the
 * patterns written as rules (so the apiserver answers with their sentence), which are kept with it.
 */
function validationSchema(node: SchemaNode): SchemaNode {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'x-kubernetes-validations') {
      // A rule that is a pattern with a sentence (`self.matches('…')` and its message) is checked as one.
      const pattern = (value as CelRule[]).find((r) => PATTERN_RULE.test(r.rule));
      if (pattern) {
        out.pattern = PATTERN_RULE.exec(pattern.rule)![1];
        out.patternMessage = pattern.message;
      }
      continue;
    }
    if (key === 'description' || key === 'default') continue;
    if (key === 'properties') {
      out[key] = Object.fromEntries(
        Object.entries(value as Record<string, SchemaNode>).map(([k, v]) => [k, validationSchema(v)]),
      );
    } else if ((key === 'items' || key === 'additionalProperties') && typeof value === 'object') {
      out[key] = validationSchema(value as SchemaNode);
    } else {
      out[key] = value;
    }
  }
  return out as SchemaNode;
}

/** The structural schema of one CRD's spec as a module (for checkAgainstSchema). */
export function generateSchemaModule(crdYaml: string): string {
  const crd = parse(crdYaml) as Crd;
  const kind = crd.spec.names.kind;
  const lower = kind.charAt(0).toLowerCase() + kind.slice(1);
  const spec = crd.spec.versions[0]?.schema.openAPIV3Schema.properties?.spec ?? {};
  return [
    '// Generated from the CRD by scripts/gen-types.ts (npm run gen:types). Do not edit.',
    "import type { SchemaNode } from '../schema-check.ts';",
    '',
    `/** The structural schema of ${kind}.spec (no descriptions, defaults or CEL rules). */`,
    `export const ${lower}SpecSchema: SchemaNode = ${JSON.stringify(validationSchema(spec), null, 2)};`,
    '',
  ].join('\n');
}

/** Generates every target, returning file path (relative to root) → content. */
export function generateAll(
  root: string,
  targets: readonly GenerationTarget[] = apiTargets,
): Map<string, string> {
  const files = new Map<string, string>();
  for (const t of targets) {
    const yaml = readFileSync(join(root, t.crd), 'utf8');
    files.set(`${outDir}/${t.stem}.gen.ts`, generateTypes(yaml));
    files.set(`${outDir}/${t.stem}.schema.gen.ts`, generateSchemaModule(yaml));
  }
  return files;
}

/** Regenerates into a temporary directory and lists the committed files that differ (drift). */
export function checkDrift(root: string, targets: readonly GenerationTarget[] = apiTargets): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'hal9-gen-'));
  try {
    const drifted: string[] = [];
    for (const [file, content] of generateAll(root, targets)) {
      const fresh = join(dir, file.replaceAll('/', '_'));
      writeFileSync(fresh, content);
      let committed = '';
      try {
        committed = readFileSync(join(root, file), 'utf8');
      } catch {
        // A missing file is drift too.
      }
      if (committed !== readFileSync(fresh, 'utf8')) drifted.push(file);
    }
    return drifted;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function main(argv: readonly string[]): number {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  if (argv.includes('--check')) {
    const drifted = checkDrift(root);
    for (const f of drifted) console.error(`${f} is out of date with its CRD: run npm run gen:types`);
    return drifted.length === 0 ? 0 : 1;
  }
  for (const [file, content] of generateAll(root)) {
    writeFileSync(join(root, file), content);
    console.log(`wrote ${file}`);
  }
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
