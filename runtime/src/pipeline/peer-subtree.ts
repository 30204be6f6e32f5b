import { cutTo } from './detached.ts';
import type { BranchOutcome, ResultEntry, Signal, TraceEntry } from './signal.ts';

// What a peer pod reports of a signal it was sent must be that signal's sub-tree, as a runtime
// builds it: the signal's own entry (its parent, hop and neuron as sent), then entries that each
// descend from one before them, one hop further, at neurons the branch had not visited; results of
// neurons that ran there. The shape of each entry is checked where the answer is read
// (cluster/peer-answer.ts); this checks that it belongs. An entry that does not is left out (its
// model calls are not the request's), and the signal ends with PEER_ERROR naming the first such: a
// peer that answered an empty outcome made the branch vanish from a `completed` request, and one
// could add entries and results under the sender's own signals and neurons.

/** Where a peer's entries and results for one sent signal are checked, as they come. */
export class PeerSubtree {
  readonly #sent: Signal;
  /** Accepted entries by signal id: their hop, parent and neuron (the chain a cycle is looked for in). */
  readonly #accepted = new Map<string, Pick<TraceEntry, 'hop' | 'parent' | 'neuron'>>();
  /** Neurons of the accepted entries: the only ones a result may name. */
  readonly #neurons = new Set<string>();
  #problem: string | undefined;

  constructor(sent: Signal) {
    this.#sent = sent;
  }

  /** Whether `t` belongs to the sub-tree (then it is taken in); the first reason one does not is kept. */
  entry(t: TraceEntry): boolean {
    const why = this.#misplaced(t);
    if (why !== undefined) {
      this.#problem ??= why;
      return false;
    }
    this.#accepted.set(t.signal, { hop: t.hop, parent: t.parent, neuron: t.neuron });
    this.#neurons.add(t.neuron);
    return true;
  }

  /** Whether `r` names a neuron that ran in the sub-tree. */
  result(r: ResultEntry): boolean {
    if (this.#neurons.has(r.neuron)) return true;
    this.#problem ??= `a result names neuron ${quoted(r.neuron)}, which ran no signal of the sub-tree it was sent`;
    return false;
  }

  /** `o` with what does not belong left out (the same object when all of it does). */
  outcome(o: BranchOutcome): BranchOutcome {
    const trace = o.trace.filter((t) => this.entry(t));
    const results = o.results.filter((r) => this.result(r));
    return trace.length === o.trace.length && results.length === o.results.length
      ? o
      : { ...o, trace, results };
  }

  /** The signal's own entry came. */
  get answered(): boolean {
    return this.#accepted.has(this.#sent.id);
  }

  /** Why the peer's report of the signal is not its sub-tree (once it is complete), or undefined. */
  problem(): string | undefined {
    return (
      this.#problem ??
      (this.answered ? undefined : `it sent no trace entry of signal ${quoted(this.#sent.id)}`)
    );
  }

  #misplaced(t: TraceEntry): string | undefined {
    const s = this.#sent;
    if (this.#accepted.has(t.signal)) return `the trace entry of signal ${quoted(t.signal)} repeats`;
    if (t.signal === s.id)
      return t.parent === s.parentId && t.hop === s.hop && t.neuron === s.to
        ? undefined
        : `the trace entry of signal ${quoted(s.id)} is not the signal sent (its parent, hop or neuron differs)`;
    const parentHop = t.parent === null ? undefined : this.#accepted.get(t.parent)?.hop;
    if (parentHop === undefined)
      return `the trace entry of signal ${quoted(t.signal)} descends from no signal of the sub-tree it was sent`;
    if (t.hop !== parentHop + 1)
      return `the trace entry of signal ${quoted(t.signal)} is not one hop past its parent`;
    if (s.path.includes(t.neuron) || this.#onChain(t.parent!, t.neuron))
      return `the trace entry of signal ${quoted(t.signal)} names neuron ${quoted(t.neuron)}, which its branch had visited`;
    return undefined;
  }

  /** Whether `neuron` ran an accepted signal from `id` up to the signal sent (hops bound the walk). */
  #onChain(id: string, neuron: string): boolean {
    for (let at: string | null = id; at !== null && at !== this.#sent.parentId; ) {
      const e = this.#accepted.get(at);
      if (e === undefined) return false;
      if (e.neuron === neuron) return true;
      at = e.parent;
    }
    return false;
  }
}

const quoted = (id: string): string => JSON.stringify(cutTo(id, 64));
