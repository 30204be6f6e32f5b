import { ConfigError } from '../errors.ts';

// HAL9_LOG_LEVEL, checked with the rest of the configuration: pino would otherwise refuse an unknown
// level only once the server is built, with a message that names neither the variable nor the values.

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The log level HAL9_LOG_LEVEL names (any case; unset or empty: info), else a ConfigError naming it. */
export function logLevel(value: string | undefined): LogLevel {
  if (value === undefined || value.trim() === '') return 'info';
  const level = value.trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(level)) return level as LogLevel;
  const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  throw new ConfigError([
    {
      field: 'HAL9_LOG_LEVEL',
      message: `must be one of ${LOG_LEVELS.join(', ')} (got ${JSON.stringify(shown)})`,
    },
  ]);
}
