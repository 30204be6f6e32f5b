import type { Condition } from '../api-types.ts';

export type ConditionInput = Omit<Condition, 'lastTransitionTime'>;

/**
 * The longest condition message written, in UTF-16 units (so at most as many characters). The CRDs
 * allow 32,768; a message made of other programs' words (an admission webhook listing every
 * violation, for each child) can pass that, and a status the apiserver refuses keeps the old one.
 */
export const MAX_CONDITION_MESSAGE = 4096;

/** `message` cut to MAX_CONDITION_MESSAGE with an ellipsis, never in the middle of a surrogate pair. */
export function clipMessage(message: string): string {
  if (message.length <= MAX_CONDITION_MESSAGE) return message;
  let cut = MAX_CONDITION_MESSAGE - 1;
  const last = message.charCodeAt(cut - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut--;
  return `${message.slice(0, cut)}…`;
}

/**
 * Returns `conditions` with `next` set, its message clipped (clipMessage). `lastTransitionTime`
 * changes only when the status flips, so a reconcile that changes nothing produces an identical list.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  next: ConditionInput,
  now: string,
): Condition[] {
  const list = conditions ? [...conditions] : [];
  const i = list.findIndex((c) => c.type === next.type);
  const prev = i >= 0 ? list[i] : undefined;
  const lastTransitionTime = prev && prev.status === next.status ? prev.lastTransitionTime : now;
  const merged: Condition = { ...next, message: clipMessage(next.message), lastTransitionTime };
  if (i >= 0) list[i] = merged;
  else list.push(merged);
  return list;
}

/** Sets each of `next` in order onto `existing` (see setCondition). */
export function setConditions(
  existing: readonly Condition[] | undefined,
  next: readonly ConditionInput[],
  now: string,
): Condition[] {
  let list = existing ? [...existing] : [];
  for (const c of next) list = setCondition(list, c, now);
  return list;
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}
