// The operator as its image runs it (built JS, the ENTRYPOINT's node flags, the image's ENV; see
// bench/operator/operator-image.ts), in its own process, with its JSON log kept in a file. Its
// decisions are read back from that log: each carries the time it was made, to the millisecond.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { ShippedOperator } from '../operator/operator-image.ts';
import type { Decision } from './analysis.ts';

export interface LoggedDecision extends Omit<Decision, 't'> {
  /** Epoch ms. */
  readonly time: number;
  readonly namespace: string;
}

export interface OperatorProcess {
  readonly child: ChildProcess;
  readonly args: readonly string[];
  readonly decisions: LoggedDecision[];
  /** Warnings and errors it logged. */
  readonly problems: string[];
  stop(): Promise<void>;
}

/** A decision from one pino log line, if it is one ("Tuned Neuron parallelism", "Scaled Neuron"). */
export function decisionOf(line: string): LoggedDecision | undefined {
  if (!line.includes('"Tuned Neuron parallelism"') && !line.includes('"Scaled Neuron"')) return undefined;
  const l = JSON.parse(line) as {
    msg: string;
    time: number;
    neuron: string;
    from: number;
    to: number;
    reason: string;
  };
  const [namespace = '', neuron = ''] = l.neuron.split('/');
  return {
    time: l.time,
    namespace,
    neuron,
    kind: l.msg === 'Scaled Neuron' ? 'replicas' : 'parallelism',
    from: l.from,
    to: l.to,
    reason: l.reason,
  };
}

/** Starts it; `flags` are the command-line flags after the entry point. */
export async function startOperator(
  shipped: ShippedOperator,
  flags: readonly string[],
  logFile: string,
): Promise<OperatorProcess> {
  const args = [...shipped.nodeFlags, shipped.main, ...flags];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', ...shipped.env },
  });
  const log = createWriteStream(logFile);
  child.stderr!.pipe(log);
  const decisions: LoggedDecision[] = [];
  const problems: string[] = [];
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the operator exited with ${code}; log in ${logFile}`)));
    createInterface(child.stdout!).on('line', (line) => {
      log.write(`${line}\n`);
      if (line.includes('"Started operator"')) resolve();
      const d = decisionOf(line);
      if (d) decisions.push(d);
      else if (/"level":(40|50|60)/.test(line)) problems.push(line);
    });
  });
  return {
    child,
    args: flags,
    decisions,
    problems,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      log.end();
    },
  };
}
