/**
 * Callers are scoped by IAM principal, not by session (CALLER_SCOPE, default `principal`): a retry from another ECS
 * task, instance or SSO session of the same role must find its key and its operation.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readConfig, resetConfigCache } from '../../shared/config.js';
import { callerIdentity, parseRequest, scopedIdentity } from '../../shared/http/request.js';
import { cancelEsim } from '../../shared/operations/cancel-esim/index.js';
import { withLuhnCheckDigit } from '../../shared/iccid.js';
import { apiGatewayEvent } from '../../testkit/harness.js';

const taskA = 'arn:aws:sts::123456789012:assumed-role/OrderService/ecs-task-0a1b2c';
const taskB = 'arn:aws:sts::123456789012:assumed-role/OrderService/ecs-task-9f8e7d';
const role = 'arn:aws:iam::123456789012:role/OrderService';

const iccid = withLuhnCheckDigit('894400000000000001');
const eventFrom = (caller: string) =>
  apiGatewayEvent(cancelEsim as never, {
    method: 'POST',
    path: `/v1/monogoto/esims/${iccid}/cancel`,
    headers: { 'idempotency-key': 'k1' },
    body: { matchingId: 'ABC-1' },
    caller,
  });

const withScope = (scope: string | undefined) => {
  if (scope === undefined) delete process.env.CALLER_SCOPE;
  else process.env.CALLER_SCOPE = scope;
  resetConfigCache();
};

afterEach(() => withScope(undefined));

describe('caller scope', () => {
  it('defaults to principal', () => {
    expect(readConfig({}).CALLER_SCOPE).toBe('principal');
    expect(() => readConfig({ CALLER_SCOPE: 'role' })).toThrow(/CALLER_SCOPE/);
  });

  it('gives two sessions of one role the same scope by default: the role ARN', () => {
    withScope(undefined);
    expect(callerIdentity(eventFrom(taskA))).toBe(role);
    expect(callerIdentity(eventFrom(taskB))).toBe(role);
    expect(parseRequest(eventFrom(taskB), cancelEsim).caller).toBe(role);
  });

  it('keeps each session apart with CALLER_SCOPE=session (the full userArn, as before)', () => {
    withScope('session');
    expect(callerIdentity(eventFrom(taskA))).toBe(taskA);
    expect(callerIdentity(eventFrom(taskB))).toBe(taskB);
    expect(callerIdentity(eventFrom(taskA))).not.toBe(callerIdentity(eventFrom(taskB)));
    expect(parseRequest(eventFrom(taskA), cancelEsim).caller).toBe(taskA);
  });

  it('leaves IAM users and every other form as they are', () => {
    for (const identity of [
      'arn:aws:iam::123456789012:user/ops',
      'arn:aws:iam::123456789012:user/division/ops',
      'arn:aws:iam::123456789012:root',
      'arn:aws:sts::123456789012:federated-user/bob',
      'arn:aws:iam::123456789012:role/OrderService',
      'AIDAIENQZJOLO23YVJ4VO',
      '123456789012',
      'anonymous',
    ]) {
      expect(scopedIdentity(identity, 'principal')).toBe(identity);
      expect(scopedIdentity(identity, 'session')).toBe(identity);
    }
    expect(callerIdentity(eventFrom('arn:aws:iam::123456789012:user/ops'))).toBe('arn:aws:iam::123456789012:user/ops');
  });

  it('keeps the partition of an assumed role (aws-cn, aws-us-gov, aws-iso-b)', () => {
    expect(scopedIdentity('arn:aws-cn:sts::123456789012:assumed-role/Ops/i-0abc', 'principal')).toBe(
      'arn:aws-cn:iam::123456789012:role/Ops',
    );
    expect(scopedIdentity('arn:aws-us-gov:sts::123456789012:assumed-role/Ops/alice@example.com', 'principal')).toBe(
      'arn:aws-us-gov:iam::123456789012:role/Ops',
    );
    expect(scopedIdentity('arn:aws-iso-b:sts::123456789012:assumed-role/Ops/s', 'principal')).toBe(
      'arn:aws-iso-b:iam::123456789012:role/Ops',
    );
    expect(
      scopedIdentity('arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice', 'principal'),
    ).toBe('arn:aws:iam::123456789012:role/AWSReservedSSO_Admin_0123456789abcdef');
  });

  it('drops the session of a role id (SQS SenderId, API Gateway identity.caller) unless CALLER_SCOPE=session', () => {
    expect(scopedIdentity('AROAEXAMPLEROLEID0001:ecs-task-0a1b2c', 'principal')).toBe('AROAEXAMPLEROLEID0001');
    expect(scopedIdentity('AROAEXAMPLEROLEID0001:ecs-task-9f8e7d', 'principal')).toBe('AROAEXAMPLEROLEID0001');
    expect(scopedIdentity('AROAEXAMPLEROLEID0001:ecs-task-0a1b2c', 'session')).toBe(
      'AROAEXAMPLEROLEID0001:ecs-task-0a1b2c',
    );
  });
});
