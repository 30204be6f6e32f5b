// How a batch is split over as few requests as the receiver's body limit and signal count allow.
// Signals of many requests share a batch, so one caller's large content must not make the peer
// refuse everyone's (413), nor a batch over the receiver's signal count everyone's (400). Pure.

/** A batch's requests, each its signals by index in order, and the signals no request can carry. */
export interface PartPlan {
  readonly parts: readonly (readonly number[])[];
  /** Signals whose JSON alone is over the room a request has: each fails by itself. */
  readonly tooLarge: readonly number[];
}

/**
 * Whether a batch's signals surely fit one request, without encoding them: most batches are far
 * below the limit, and a UTF-16 unit is at most 3 bytes of UTF-8. `room` is in bytes; each signal
 * takes its JSON and a separator.
 */
export function fitsOnePart(encoded: readonly string[], room: number, maxSignals: number): boolean {
  let chars = 0;
  for (const e of encoded) chars += e.length + 1;
  return chars * 3 <= room && encoded.length <= maxSignals;
}

/**
 * The parts of a batch whose signals take `sizes` bytes each (JSON and separator): signals in order,
 * a new part when the next would take the current one over `room` bytes or `maxSignals` signals.
 */
export function planParts(sizes: readonly number[], room: number, maxSignals: number): PartPlan {
  const parts: number[][] = [];
  const tooLarge: number[] = [];
  let part: number[] = [];
  let bytes = 0;
  for (let i = 0; i < sizes.length; i++) {
    const size = sizes[i]!;
    if (size > room) {
      tooLarge.push(i);
      continue;
    }
    if ((bytes + size > room || part.length >= maxSignals) && part.length > 0) {
      parts.push(part);
      part = [];
      bytes = 0;
    }
    part.push(i);
    bytes += size;
  }
  if (part.length > 0) parts.push(part);
  return { parts, tooLarge };
}
