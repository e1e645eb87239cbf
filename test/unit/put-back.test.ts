/** Putting a batch item back for later: a new message with a growing delay, until the item has waited long enough. */
import { afterEach, describe, expect, it } from 'vitest';
import { ProblemError } from '../../shared/errors.js';
import { type BatchItemMessage, setBatchItemSink } from '../../shared/batches/messages.js';
import { MAX_PUT_BACKS, putBack, putBackDelaySeconds } from '../../shared/batches/put-back.js';

const item = (attempt?: number): BatchItemMessage => ({
  batchItem: { batchId: `b_${'0'.repeat(32)}`, index: 7, phase: 'run', ...(attempt === undefined ? {} : { attempt }) },
});
const throttled = (retryAfterSeconds?: number) =>
  new ProblemError('upstream-throttled', 'slow down', retryAfterSeconds === undefined ? {} : { retryAfterSeconds });

afterEach(() => setBatchItemSink(undefined));

describe('putBack', () => {
  it('sends the item again with its attempt counted and a delay doubling from 2 s, at least Retry-After, at most 15 min', async () => {
    const sent: Array<{ message: BatchItemMessage; delaySeconds?: number }> = [];
    setBatchItemSink((_operation, message, delaySeconds) => void sent.push({ message, delaySeconds }));
    expect(await putBack('revoke-bundle', item(), throttled())).toBe(true);
    expect(await putBack('revoke-bundle', item(3), throttled(60))).toBe(true);
    expect(sent).toEqual([
      { message: item(1), delaySeconds: 2 },
      { message: item(4), delaySeconds: 60 },
    ]);
    expect([1, 2, 5, 9, 10, 20].map((attempt) => putBackDelaySeconds(attempt))).toEqual([2, 4, 32, 512, 900, 900]);
  });

  it('gives up (false, nothing sent) once the item was put back MAX_PUT_BACKS times', async () => {
    const sent: BatchItemMessage[] = [];
    setBatchItemSink((_operation, message) => void sent.push(message));
    expect(await putBack('revoke-bundle', item(MAX_PUT_BACKS - 1), throttled())).toBe(true);
    expect(await putBack('revoke-bundle', item(MAX_PUT_BACKS), throttled())).toBe(false);
    expect(sent).toEqual([item(MAX_PUT_BACKS)]);
  });

  it('rejects when the queue does not take the message: the record then fails and SQS redelivers it', async () => {
    setBatchItemSink(() => {
      throw new Error('SQS is down');
    });
    await expect(putBack('revoke-bundle', item(), throttled())).rejects.toThrow('SQS is down');
  });
});
