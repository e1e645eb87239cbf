/** Who may call the API, and errors API Gateway itself answers, in the gateway's problem+json shape. */
import { ResponseType, type RestApi } from 'aws-cdk-lib/aws-apigateway';
import { AccountPrincipal, AnyPrincipal, Effect, PolicyDocument, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { gatewayResponses } from './gateway/gateway-responses.js';

/** An optional resource policy: only the listed accounts, and/or only through the listed VPC endpoints. */
export const resourcePolicy = (options: {
  allowedAccounts?: string[];
  allowedVpcEndpoints?: string[];
}): PolicyDocument | undefined => {
  const accounts = options.allowedAccounts ?? [];
  const endpoints = options.allowedVpcEndpoints ?? [];
  if (accounts.length === 0 && endpoints.length === 0) return undefined;
  const statements = [
    new PolicyStatement({
      effect: Effect.ALLOW,
      principals: accounts.length > 0 ? accounts.map((account) => new AccountPrincipal(account)) : [new AnyPrincipal()],
      actions: ['execute-api:Invoke'],
      resources: ['execute-api:/*'],
    }),
  ];
  if (endpoints.length > 0) {
    statements.push(
      new PolicyStatement({
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['execute-api:Invoke'],
        resources: ['execute-api:/*'],
        conditions: { StringNotEquals: { 'aws:SourceVpce': endpoints } },
      }),
    );
  }
  return new PolicyDocument({ statements });
};

/** API Gateway's own answers (gateway-responses.ts), deployed as the local runner renders them. */
export const addProblemResponses = (api: RestApi): void => {
  for (const response of gatewayResponses) {
    api.addGatewayResponse(`Problem${response.type}`, {
      type: ResponseType.of(response.type),
      ...(response.status === undefined ? {} : { statusCode: String(response.status) }),
      responseHeaders: Object.fromEntries(
        Object.entries(response.headers).map(([name, value]) => [name, `'${value}'`]),
      ),
      templates: { 'application/json': response.template },
    });
  }
};
