import type { Logger as PinoLogger } from 'pino';

/** Structured logger (pino). Messages are past tense and name the kind: "Applied Deployment". */
export type Logger = Pick<PinoLogger, 'debug' | 'info' | 'warn' | 'error' | 'child'>;
