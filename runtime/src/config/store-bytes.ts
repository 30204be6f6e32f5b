// Byte budgets of the result store and the response cache: at least 1 MiB (one request at the default
// body limit, and its answer), at most 64 GiB.
export const MIN_STORE_BYTES = 1_048_576;
export const MAX_STORE_BYTES = 68_719_476_736;
