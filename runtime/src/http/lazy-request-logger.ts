import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'pino';

// A request's logger, made only when the request logs. Fastify gives every request a pino child
// bound to its id, and making one (the bindings serialised to JSON, a new prototype) cost about 3 % of
// a signal's CPU on the hot path, where almost no request logs anything. The child appears at the
// first log line, with the same bindings, so what is logged is unchanged.

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

export class LazyRequestLogger implements FastifyBaseLogger {
  readonly #parent: FastifyBaseLogger;
  readonly #bindings: Bindings;
  readonly #options: ChildLoggerOptions | undefined;
  #child: FastifyBaseLogger | undefined;

  constructor(parent: FastifyBaseLogger, bindings: Bindings, options?: ChildLoggerOptions) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  /** The pino child this logger stands for (made now if it was not yet). */
  materialize(): FastifyBaseLogger {
    if (this.#child === undefined) {
      const parent = this.#parent instanceof LazyRequestLogger ? this.#parent.materialize() : this.#parent;
      this.#child = parent.child(this.#bindings, this.#options);
    }
    return this.#child;
  }

  /** Whether the child was made (a request that logged nothing never makes one). */
  get materialized(): boolean {
    return this.#child !== undefined;
  }

  get level(): string {
    return this.#child?.level ?? this.#options?.level ?? this.#parent.level;
  }
  set level(level: string) {
    this.materialize().level = level;
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return new LazyRequestLogger(this, bindings, options);
  }

  // Methods on the prototype, not arrow fields: a request's logger must cost one small object.
  fatal(...args: unknown[]): void {
    this.#log('fatal', args);
  }
  error(...args: unknown[]): void {
    this.#log('error', args);
  }
  warn(...args: unknown[]): void {
    this.#log('warn', args);
  }
  info(...args: unknown[]): void {
    this.#log('info', args);
  }
  debug(...args: unknown[]): void {
    this.#log('debug', args);
  }
  trace(...args: unknown[]): void {
    this.#log('trace', args);
  }
  silent(): void {}

  #log(level: Level, args: unknown[]): void {
    (this.materialize()[level] as (...a: unknown[]) => void)(...args);
  }
}

/** Fastify's `childLoggerFactory`: a request's logger that becomes a pino child when first used. */
export function lazyChildLogger(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  return new LazyRequestLogger(logger, bindings, options);
}
