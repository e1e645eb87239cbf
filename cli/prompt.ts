/**
 * Asks a y/N question on the terminal (or whatever stdin is). Only y or yes is a yes; end of input and Ctrl-C are
 * a no.
 */
import { createInterface } from 'node:readline';
import type { Io } from './io.js';

export const confirm = (question: string, io: Io, signal: AbortSignal): Promise<boolean> =>
  new Promise((resolve) => {
    const rl = createInterface({ input: io.stdin, output: io.stdout });
    let answered = false;
    /** `ending`: what ends the prompt's line, so the next output starts on a line of its own. */
    const finish = (yes: boolean, ending: string) => {
      if (answered) return;
      answered = true;
      io.stdout.write(ending);
      rl.close();
      resolve(yes);
    };
    rl.on('close', () => finish(false, '\n'));
    rl.on('SIGINT', () => finish(false, '\n'));
    // Ctrl-C reaches the process, not readline, when stdin is no terminal.
    signal.addEventListener('abort', () => finish(false, '\n'), { once: true });
    rl.question(`${question} [y/N] `, (answer) =>
      // A terminal has echoed the answer and the newline; a piped answer (a script, a test) is shown here.
      finish(/^y(es)?$/i.test(answer.trim()), io.stdin.isTTY === true ? '' : `${answer}\n`),
    );
  });
