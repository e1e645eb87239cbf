/** The `--help` text: the one place a user reads how to call the CLI, what it prints and what it exits with. */
import { ExitCode } from './exit-codes.js';

export const DEFAULT_URL = 'http://127.0.0.1:3000';
export const DEFAULT_INTERVAL_SECONDS = 1;

export const usage = `Usage: sim-cancel batch <file.csv> --operation <name> [--url <api>] [--yes] [--interval <s>] [--region <r>]

Runs one operation for every row of a CSV file, as one batch at the gateway, exactly once per row.

  1. Submits the file (header row = the operation's input field names) and waits for the preview.
  2. Prints what the preview expects: how many rows would succeed, be refused by a guard, be refunded,
     or are invalid or unreadable.
  3. Asks "Run <operation> for <n> rows? [y/N]" (skipped with --yes) and confirms the batch.
  4. Shows progress until the batch is done: counts and time left (one redrawn line on a terminal, a line
     every 10 s otherwise). A row the provider completes later (sTN CANCELLING) is "in progress" until the
     gateway's follow-ups find its final state, and the batch is done only then: when those rows are all that
     is left, a line says so ("all rows sent; waiting for <n> rows the provider completes later"). Then it
     writes the per-row report (the API's CSV: index, status, operationId,
     problem and the input fields) next to the input: orders.csv gives orders.report.csv (any other name
     gets .report.csv appended). The last line is always of this form:
       completed: 3 succeeded, 1 rejected, 0 failed, 0 invalid, 0 cancelled of 4; report: orders.report.csv
     (with ", <n> still in progress" before "of" when a cancelled batch has rows still settling).

Progress and results go to stdout, errors and warnings to stderr.

Running the same command on the same file again resumes the same batch instead of starting a second one
(the idempotency key is derived from the file's SHA-256 and the operation): a batch already confirmed is
not asked about again, and a finished one only gets its report written again. To run a file a second time
as a new batch, change the file.

Options:
  --operation <name>  the operation to run for each row (required)
  --url <api>         the API's base URL (default ${DEFAULT_URL}, i.e. npm start). Any other host than
                      localhost, 127.0.0.1 or ::1 is signed with SigV4 (execute-api) using the standard AWS
                      credential chain (environment, profile, SSO, instance role)
  --region <region>   the region to sign for (default: from an execute-api URL, else AWS_REGION or
                      AWS_DEFAULT_REGION, else us-east-1)
  --yes, -y           confirm without asking
  --interval <s>      seconds between status polls (default ${DEFAULT_INTERVAL_SECONDS})
  --help, -h          this text

Exit codes:
  ${ExitCode.completed}    the batch completed, even if some rows were rejected or failed (the report says which)
  ${ExitCode.failed}    the API answered an error or could not be reached, the batch was cancelled, or it was
       not confirmed (any answer but y, Ctrl-C at the question, or end of input without --yes)
  ${ExitCode.usage}    usage error: unknown option, missing operation or file, unreadable or non-UTF-8 file
  ${ExitCode.interrupted}  Ctrl-C while waiting: a confirmed batch goes on at the server; the same command resumes
`;
