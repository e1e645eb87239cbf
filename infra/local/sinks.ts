/**
 * What EventBridge and the dead-letter queues hold in AWS, kept in this process for local runs (no EVENT_BUS_NAME, no
 * DEAD_LETTER_QUEUE_URL): the local runner serves them at `GET /local/outcome-events` and `GET /local/dead-letters`,
 * and tests, chaos runs and the benchmark read them. Installed into shared/events.ts and shared/dead-letter.ts by
 * `installLocalSinks()`; nothing under functions/ imports this module, so no Lambda bundle carries it.
 */
import { type DeadLetter, setDeadLetterSink } from '../../shared/dead-letter.js';
import { type OutcomeEvent, setOutcomeSink } from '../../shared/events.js';
import { type FollowUpMessage, setFollowUpSink } from '../../shared/follow-ups/schedule.js';

/** Outcome events published in this process (oldest first). */
export const localOutcomeEvents: OutcomeEvent[] = [];

/** Messages dead-lettered in this process (oldest first). */
export const localDeadLetters: DeadLetter[] = [];

/** Follow-ups sent in this process and kept undelivered (until ./follow-ups.ts delivers them instead). */
export const localFollowUpMessages: FollowUpMessage[] = [];

/** Sends this process's outcome events, dead letters and follow-ups to the arrays above. Idempotent. */
export const installLocalSinks = (): void => {
  setOutcomeSink((event) => {
    localOutcomeEvents.push(event);
  });
  setDeadLetterSink((letter) => {
    localDeadLetters.push(letter);
  });
  setFollowUpSink((message) => {
    localFollowUpMessages.push(message);
  });
};
