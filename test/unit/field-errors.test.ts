/**
 * The one mapping from zod issues to field errors (shared/errors.ts), in the two wordings the contracts fix: HTTP
 * requests name each unknown field, queue records list them at the object; an issue about the whole value is named
 * by the input's root.
 */
import { describe, expect, it } from 'vitest';
import * as z from '../../shared/zod.js';
import { describeFieldErrors, fieldErrorsFromIssues, invalidInput } from '../../shared/errors.js';

const schema = z.strictObject({ input: z.strictObject({ activationId: z.string() }) });
const issuesOf = (value: unknown) => {
  const parsed = schema.safeParse(value);
  if (parsed.success) throw new Error('expected issues');
  return parsed.error.issues;
};

describe('fieldErrorsFromIssues', () => {
  it('names each unknown field on its own (HTTP)', () => {
    expect(
      fieldErrorsFromIssues(issuesOf({ input: { activationId: 'a', note: 'n', dryrun: true } }), {
        root: 'body',
        unknownFields: 'each',
      }),
    ).toEqual([
      { path: 'input.note', message: 'is not a known field' },
      { path: 'input.dryrun', message: 'is not a known field' },
    ]);
  });

  it('lists unknown fields at their object (queue records)', () => {
    expect(
      fieldErrorsFromIssues(issuesOf({ input: { activationId: 'a', note: 'n', dryrun: true } }), {
        root: 'message',
        unknownFields: 'listed',
      }),
    ).toEqual([{ path: 'input', message: 'has unknown fields note, dryrun' }]);
    expect(
      fieldErrorsFromIssues(issuesOf({ input: { activationId: 'a' }, extra: 1 }), {
        root: 'message',
        unknownFields: 'listed',
      }),
    ).toEqual([{ path: 'message', message: 'has unknown fields extra' }]);
  });

  it("names an issue about the whole value by the input's root, and keeps zod's message", () => {
    const [error] = fieldErrorsFromIssues(issuesOf('not an object'), { root: 'body' });
    expect(error?.path).toBe('body');
    expect(fieldErrorsFromIssues(issuesOf({ input: { activationId: 7 } }), { root: 'body' })).toEqual([
      { path: 'input.activationId', message: expect.any(String) as string },
    ]);
  });

  it('makes the 400 whose detail lists every field error', () => {
    const problem = invalidInput(issuesOf({ input: {}, extra: 1 }), { root: 'body' });
    const errors = fieldErrorsFromIssues(issuesOf({ input: {}, extra: 1 }), { root: 'body' });
    expect(problem.kind).toBe('invalid-request');
    expect(problem.toProblem()).toMatchObject({ status: 400, detail: describeFieldErrors(errors), errors });
    expect(
      describeFieldErrors([
        { path: 'a', message: 'x' },
        { path: 'b', message: 'y' },
      ]),
    ).toBe('a: x; b: y');
  });
});
