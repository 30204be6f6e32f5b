import { ErrorCodes } from '../errors.ts';
import type { TraceContext } from '../pipeline/signal.ts';
import type { SpanRef, Tracing } from './tracing.ts';

// The SERVER spans of one inbound peer call. Its signals may belong to different requests (traces):
// one server span per distinct caller context, each a child of that request's `hal9.peer` client span
// and the parent of the signal spans it carries, so a trace shows the pod-to-pod hop as a client/server
// pair (Tempo's service graph and Jaeger's dependencies draw the edge from it). They end when the
// response does, with its status.

export class ServerSpans {
  readonly #tracing: Tracing;
  readonly #name: string;
  #attributes: Readonly<Record<string, string | number>>;
  readonly #open: SpanRef[] = [];
  /** The call's work here: the spans end once it has, so its signal spans end inside them. */
  #work: Promise<unknown> | undefined;

  constructor(tracing: Tracing, name: string, attributes: Readonly<Record<string, string | number>>) {
    this.#tracing = tracing;
    this.#name = name;
    this.#attributes = attributes;
  }

  /** Attributes known once the call's body is read: on the spans opened after. */
  describe(attributes: Readonly<Record<string, string | number>>): void {
    this.#attributes = { ...this.#attributes, ...attributes };
  }

  /** The call's work (its sub-runs): a caller that leaves first does not end the spans before it. */
  hold(work: Promise<unknown>): void {
    this.#work = work;
  }

  /** A server span under the caller's context: the parent of that context's signal spans here. */
  readonly open = (caller: TraceContext): SpanRef => {
    const span = this.#tracing.request(caller, this.#name, this.#attributes);
    this.#open.push(span);
    return span;
  };

  /**
   * Ends every span with the response's status (undefined: the caller left before it was sent), failed
   * with CLIENT_CLOSED when the caller left before the whole answer (`left`: its status may have gone
   * already, as a streamed or cancellable batch's does as it starts). A call refused before any signal
   * ran (its token, its body, an unknown neuron, a full queue, a drain) still gets one span, under
   * `headers` (the call's own; none for a call its token check refused), so the failed hop shows.
   */
  end(status: number | undefined, headers: TraceContext, left = status === undefined): void {
    if (this.#work) {
      const work = this.#work;
      this.#work = undefined;
      const after = () => this.end(status, headers, left);
      work.then(after, after);
      return;
    }
    if (this.#open.length === 0) this.open(headers);
    const attributes = status === undefined ? {} : { 'http.response.status_code': status };
    // A server span fails on a 5xx only (HTTP semantic conventions): a 4xx is the caller's error.
    const error =
      left || status === undefined
        ? { code: 'CLIENT_CLOSED', message: ErrorCodes.CLIENT_CLOSED.message }
        : status >= 500
          ? // The conventions' error.type for a status alone: the code as a string.
            { code: String(status), message: `answered ${status}` }
          : undefined;
    for (const span of this.#open.splice(0)) span.end(error ? { attributes, error } : { attributes });
  }
}
