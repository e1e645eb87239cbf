/** The least-privilege check reads a `dynamodb:LeadingKeys` condition: a call on another partition key is not allowed. */
import { describe, expect, it } from 'vitest';
import { checkLeastPrivilege } from '../../testkit/least-privilege.js';
import type { Template } from '../../testkit/role-policy.js';

/** One function whose role may UpdateItem on the table's `rate#` items only. */
const template: Template = {
  Resources: {
    Table: { Type: 'AWS::DynamoDB::Table', Properties: {} },
    Role: { Type: 'AWS::IAM::Role', Properties: {} },
    Policy: {
      Type: 'AWS::IAM::Policy',
      Properties: {
        Roles: [{ Ref: 'Role' }],
        PolicyDocument: {
          Statement: [
            {
              Effect: 'Allow',
              Action: 'dynamodb:UpdateItem',
              Resource: { 'Fn::GetAtt': ['Table', 'Arn'] },
              Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['rate#*'] } },
            },
          ],
        },
      },
    },
    Fn: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        Description: 'reader',
        Role: { 'Fn::GetAtt': ['Role', 'Arn'] },
        Environment: { Variables: { IDEMPOTENCY_TABLE_NAME: { Ref: 'Table' } } },
      },
    },
  },
};

const check = (leadingKey?: string) =>
  checkLeastPrivilege(template, {
    description: 'reader',
    environment: { IDEMPOTENCY_TABLE_NAME: 'idempotency' },
    calls: [
      { service: 'dynamodb', action: 'UpdateItem', resource: 'idempotency', ...(leadingKey ? { leadingKey } : {}) },
    ],
    exemptions: () => [],
    managedPolicies: [],
  });

describe('a LeadingKeys condition', () => {
  it('allows a call on a key it names, and counts the grant as used', () => {
    const verdict = check('rate#esim-go#1764590400000');
    expect(verdict.notAllowed).toEqual([]);
    expect(verdict.unused).toEqual([]);
  });

  it('refuses a call on any other key (a Powertools record, a target lease), or with no key known', () => {
    expect(check('attempt#revoke-bundle#abc').notAllowed).toHaveLength(1);
    expect(check('target#esim-go#8944').notAllowed).toHaveLength(1);
    expect(check().notAllowed).toHaveLength(1);
  });

  it('refuses a condition it cannot read instead of guessing', () => {
    const other = structuredClone(template);
    const policy = other.Resources.Policy?.Properties as {
      PolicyDocument: { Statement: Array<Record<string, unknown>> };
    };
    (policy.PolicyDocument.Statement[0] as Record<string, unknown>).Condition = {
      StringEquals: { 'aws:SourceVpc': 'vpc-1' },
    };
    expect(() =>
      checkLeastPrivilege(other, {
        description: 'reader',
        environment: {},
        calls: [],
        exemptions: () => [],
        managedPolicies: [],
      }),
    ).toThrow(/condition/);
  });
});
