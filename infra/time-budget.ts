/**
 * The time an execution may need, against the function's timeout. Every provider call may take up to
 * UPSTREAM_TIMEOUT_MS, an operation makes at most `maxSequentialCalls` of them one after another (e.g. Monogoto: a
 * refused cached token, a login, the cancel again), and the gateway's own DynamoDB calls and the answer's save need
 * the rest. A setting where the longest chain cannot finish inside the function's timeout would leave Lambda to cut
 * an execution off mid-call, so synth refuses it.
 */
import type { OperationDefinition } from '../shared/operations/definition.js';

/** The deployed functions' timeout (API Gateway's REST integration timeout is 29 s; the function stops before it). */
export const FUNCTION_TIMEOUT_SECONDS = 28;

/** Kept for the gateway's own work: the lock, the write-ahead record, the answer's save and the outcome event. */
export const GATEWAY_ALLOWANCE_MS = 2_000;

export const longestExecutionMs = (
  definitions: ReadonlyArray<Pick<OperationDefinition, 'maxSequentialCalls'>>,
  upstreamTimeoutMs: number,
): number =>
  Math.max(...definitions.map((definition) => definition.maxSequentialCalls)) * upstreamTimeoutMs +
  GATEWAY_ALLOWANCE_MS;

/** Why these settings cannot work, or undefined when every operation's longest chain fits. */
export const timeBudgetProblem = (
  definitions: ReadonlyArray<Pick<OperationDefinition, 'name' | 'maxSequentialCalls'>>,
  upstreamTimeoutMs: number,
  functionTimeoutMs = FUNCTION_TIMEOUT_SECONDS * 1000,
): string | undefined => {
  const over = definitions.filter(
    (definition) => definition.maxSequentialCalls * upstreamTimeoutMs + GATEWAY_ALLOWANCE_MS > functionTimeoutMs,
  );
  if (over.length === 0) return undefined;
  const longest = Math.max(...over.map((definition) => definition.maxSequentialCalls));
  const largest = Math.floor((functionTimeoutMs - GATEWAY_ALLOWANCE_MS) / longest);
  return (
    `upstreamTimeoutMs=${upstreamTimeoutMs} does not fit the ${functionTimeoutMs / 1000} s function timeout: ` +
    over
      .map(
        (definition) =>
          `${definition.name} makes up to ${definition.maxSequentialCalls} provider calls in a row (${definition.maxSequentialCalls} x ${upstreamTimeoutMs} ms + ${GATEWAY_ALLOWANCE_MS} ms)`,
      )
      .join('; ') +
    `. Use at most ${largest}.`
  );
};
