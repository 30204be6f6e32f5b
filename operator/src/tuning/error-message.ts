/** What a caught value says, for logs, conditions and messages. */
export const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));
