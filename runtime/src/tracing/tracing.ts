import {
  type Attributes,
  createTraceState,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { cutTo } from '../pipeline/detached.ts';
import {
  parseTraceparent,
  parseTracestate,
  randomHex,
  type TraceContext,
  traceFlagsHex,
} from '../pipeline/signal.ts';

// Spans for requests, signals, model calls and peer calls, behind a small interface so the pipeline
// never imports OpenTelemetry and costs nothing when tracing is off. Context is passed explicitly (a
// parent SpanRef per signal), never through a global context manager; W3C traceparent and tracestate
// in and out (the caller's tracestate goes on as received: the runtime adds no entry of its own).

export interface SpanEnd {
  readonly attributes?: Attributes;
  /** An error code (and message) marks the span failed. */
  readonly error?: { readonly code: string; readonly message: string };
}

export interface SpanRef {
  readonly traceId: string;
  /** The W3C header for a call made inside this span. */
  traceparent(): string;
  /** The tracestate header that goes with it: the caller's, normalised; undefined when it sent none. */
  readonly tracestate: string | undefined;
  /**
   * The W3C `traceresponse` header of the operation this span is (Trace Context Level 2): its trace
   * id, its span id, and the sampled flag set only when the span is exported.
   */
  traceresponse(): string;
  end(o?: SpanEnd): void;
}

/** The W3C context a call made inside `span` sends (its traceparent, the caller's tracestate). */
export function callContext(span: SpanRef): TraceContext {
  const tracestate = span.tracestate;
  return tracestate ? { traceparent: span.traceparent(), tracestate } : { traceparent: span.traceparent() };
}

export type SpanKindName = 'internal' | 'client' | 'server';

export interface Tracing {
  readonly enabled: boolean;
  /** A request's root span: a child of the caller's traceparent when it sent a valid one. */
  request(caller: TraceContext, name: string, attributes: Attributes): SpanRef;
  child(parent: SpanRef, name: string, kind: SpanKindName, attributes: Attributes): SpanRef;
  /** The caller's context (a peer runtime's span) as a parent, from its W3C headers. */
  remote(caller: TraceContext): SpanRef;
}

/**
 * Tracing off: trace ids still flow (the caller's, or a new one) and peers still get a traceparent.
 * A runtime that records nothing passes the caller's trace flags on unchanged (W3C Trace Context), so
 * a caller's "not sampled" is not turned into "sampled" for the peers and the upstream behind it; a
 * trace it starts is sampled, for the traced services behind it.
 */
export function noTracing(): Tracing {
  const hex = randomHex();
  // One span id per request, drawn when first named: its answer, each resumed stream of it and its
  // calls out name the same (unrecorded) operation.
  const ref = (traceId: string, flags: string, tracestate?: string): SpanRef => {
    let id: string | undefined;
    const spanId = (): string => {
      id ??= hex(8);
      return id;
    };
    return {
      traceId,
      traceparent: () => `00-${traceId}-${spanId()}-${flags}`,
      tracestate,
      // Nothing is recorded here, whatever the caller decided.
      traceresponse: () => `00-${traceId}-${spanId()}-00`,
      end() {},
    };
  };
  // A tracestate is only read beside a valid traceparent (W3C Trace Context).
  const continued = (caller: TraceContext): SpanRef => {
    const p = parseTraceparent(caller.traceparent);
    return p
      ? ref(p.traceId, traceFlagsHex(p.flags), parseTracestate(caller.tracestate))
      : ref(hex(16), '01');
  };
  return { enabled: false, request: continued, child: (parent) => parent, remote: continued };
}

const KIND: Record<SpanKindName, SpanKind> = {
  internal: SpanKind.INTERNAL,
  client: SpanKind.CLIENT,
  server: SpanKind.SERVER,
};

class OtelSpanRef implements SpanRef {
  readonly span: Span;
  /** The status message's bound: the SDK bounds attribute values, never the status message. */
  readonly #maxMessage: number;
  constructor(span: Span, maxMessage: number) {
    this.span = span;
    this.#maxMessage = maxMessage;
  }
  get traceId(): string {
    return this.span.spanContext().traceId;
  }
  traceparent(): string {
    const c = this.span.spanContext();
    return `00-${c.traceId}-${c.spanId}-${c.traceFlags & TraceFlags.SAMPLED ? '01' : '00'}`;
  }
  get tracestate(): string | undefined {
    return this.span.spanContext().traceState?.serialize() || undefined;
  }
  /** This span's own context: sampled is what the sampler chose, so whether it is exported. */
  traceresponse(): string {
    return this.traceparent();
  }
  end(o: SpanEnd = {}): void {
    if (o.attributes) this.span.setAttributes(o.attributes);
    if (o.error) {
      this.span.setAttribute('error.type', o.error.code);
      this.span.setStatus({
        code: SpanStatusCode.ERROR,
        // A cut is a copy (cutTo): the span waits in the export queue with it.
        message: cutTo(o.error.message, this.#maxMessage),
      });
    }
    this.span.end();
  }
}

/**
 * Tracing through an OpenTelemetry tracer (the composition root builds the provider and exporter).
 * `maxMessage`: the characters a span's status message keeps (the provider's attribute value limit).
 */
export function otelTracing(tracer: Tracer, maxMessage: number): Tracing {
  const contextOf = (parent: SpanRef | undefined) =>
    parent instanceof OtelSpanRef ? trace.setSpan(ROOT_CONTEXT, parent.span) : ROOT_CONTEXT;
  const remoteContext = (caller: TraceContext) => {
    // Any version but ff: a later one's first four fields read as version 00's (W3C Trace Context).
    const p = parseTraceparent(caller.traceparent);
    if (!p) return ROOT_CONTEXT;
    // Spans started under it inherit the tracestate (the SDK's tracer copies the parent's).
    const state = parseTracestate(caller.tracestate);
    return trace.setSpanContext(ROOT_CONTEXT, {
      traceId: p.traceId,
      spanId: p.parentId,
      traceFlags: p.flags,
      isRemote: true,
      ...(state ? { traceState: createTraceState(state) } : {}),
    });
  };
  return {
    enabled: true,
    request: (caller, name, attributes) =>
      new OtelSpanRef(
        tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, remoteContext(caller)),
        maxMessage,
      ),
    child: (parent, name, kind, attributes) =>
      new OtelSpanRef(
        tracer.startSpan(name, { kind: KIND[kind], attributes }, contextOf(parent)),
        maxMessage,
      ),
    remote: (caller) => {
      // A parent that is not ours to end: a non-recording span carrying the peer's context.
      const ctx = remoteContext(caller);
      const sc = trace.getSpanContext(ctx);
      const span = sc ? trace.wrapSpanContext(sc) : tracer.startSpan('hal9.forwarded', {}, ROOT_CONTEXT);
      return new OtelSpanRef(span, maxMessage);
    },
  };
}
