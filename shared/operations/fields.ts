/**
 * Field schemas shared by operation definitions. Messages are written for API users: the problem body
 * names the field, so each message reads as "<field> <message>".
 */
import * as z from '../zod.js';
import { config } from '../config.js';
import { ICCID_PATTERN, hasValidLuhnCheckDigit } from '../iccid.js';

/** "is required" when the field is absent, "must be <expected>" when it has the wrong type. */
export const required = (expected: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? 'is required' : `must be ${expected}`;

export const iccidField = z
  .string({ error: required('a string') })
  // abort: a malformed ICCID gets one message, not also a check-digit complaint.
  .regex(ICCID_PATTERN, { error: 'must be 19 or 20 digits starting with 89', abort: true })
  .refine((iccid) => config().ICCID_CHECKSUM === 'off' || hasValidLuhnCheckDigit(iccid), {
    error: 'has a wrong check digit (Luhn, ITU-T E.118); set ICCID_CHECKSUM=off if your inventory has none',
  });

/** `true` | `false` as query strings carry them; anything else is an error rather than a silent false. */
export const booleanQueryField = z
  .enum(['true', 'false'], { error: required('"true" or "false"') })
  .transform((value) => value === 'true');

export const dryRunField = booleanQueryField.optional().default(false);
