/**
 * What `sim-cancel` exits with. A completed batch is a success even when some rows were rejected or failed: the
 * batch did its job, and the report says row by row what happened.
 */
export const ExitCode = {
  /** The batch completed; see the report for each row's outcome. */
  completed: 0,
  /** The API refused or could not be reached, the batch was cancelled, or the user did not confirm. */
  failed: 1,
  /** The command line was wrong (unknown option, missing file or operation, bad value). */
  usage: 2,
  /** Interrupted with Ctrl-C: the batch goes on at the server, and the same command resumes watching it. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
