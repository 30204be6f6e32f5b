/**
 * The peer token a call to another pod carries, and after a rotation the one it replaced: pods take a
 * rotated Secret up at different times, so a peer that refuses the new token (401) is asked again
 * with the previous one until dropPrevious (the end of the grace its receivers give the old one).
 */
export class PeerAuth {
  #current: Record<string, string>;
  #previous: Record<string, string> | undefined;

  constructor(token: string | undefined) {
    this.#current = token ? bearer(token) : {};
  }

  /** The headers of the token in use (none without a token). */
  get current(): Record<string, string> {
    return this.#current;
  }

  /** The headers of the token the last rotation replaced, while peers may still know only it. */
  get previous(): Record<string, string> | undefined {
    return this.#previous;
  }

  use(token: string): void {
    this.#previous = this.#current;
    this.#current = bearer(token);
  }

  dropPrevious(): void {
    this.#previous = undefined;
  }
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
