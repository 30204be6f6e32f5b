// How a server climbs the HTTP ramp, as the reference script (ramp-vs-echo.sh) climbs its steps: a
// rate met is the best so far and clears the misses, a rate missed adds one, and two in a row stop
// the server. The bench's added in-between rates (7,000 and 9,000/s) only refine: met while the
// script's previous step was met, they are the best so far; missed, or met after a miss, they
// change nothing. So on the script's steps (up to 12,000/s) the climb stops where the script's
// would, and its best is above the script's only by an in-between rate just past it. Past 12,000/s
// the bench goes on climbing (the echo's ceiling, which the script caps), so its ratio can read lower
// than the script's.

export interface Climb {
  /** The highest rate met on the script's path (0 before any). */
  readonly best: number;
  /** The script's steps missed in a row. */
  readonly misses: number;
}

export const startClimb: Climb = Object.freeze({ best: 0, misses: 0 });

export const stopped = (c: Climb): boolean => c.misses >= 2;

export function climbStep(c: Climb, rate: number, met: boolean, inBetween: boolean): Climb {
  if (inBetween) return met && c.misses === 0 ? { best: rate, misses: 0 } : c;
  return met ? { best: rate, misses: 0 } : { best: c.best, misses: c.misses + 1 };
}
