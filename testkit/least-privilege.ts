/**
 * Least privilege, checked both ways for one function: every AWS call it was recorded making is allowed by its
 * synthesized role, and everything the role grants was recorded or is exempt for a stated reason. A recorded call's
 * resource (a table name, a queue URL) is matched to the stack through the function's environment: the variable whose
 * local value it is names, in the synthesized function, the stack resource the grant must cover.
 */
import type { AwsCall } from './aws-recorder.js';
import {
  type Template,
  functionId,
  managedPolicies,
  matches,
  roleStatements,
  variableResource,
} from './role-policy.js';

/** Grants no test can exercise, each with its reason: exact actions on exact resources (`arn:<LogicalId>` or `*`). */
export interface Exemption {
  actions: string[];
  resources: string[];
  why: string;
}

export interface Subject {
  /** The function's description in the template (its route's summary). */
  description: string;
  /** The environment the recorded run had: where each recorded resource name comes from. */
  environment: Record<string, string>;
  calls: AwsCall[];
  exemptions: (fn: string) => Exemption[];
  /** Managed policies the role may have (each justified where the subject is written). */
  managedPolicies: string[];
}

export interface Verdict {
  /** Recorded calls the role does not allow. */
  notAllowed: string[];
  /** Grants neither recorded nor exempt. */
  unused: string[];
  /** `VARIABLE: service:Action, ...` per resource the calls named (by the variable that holds its name). */
  recorded: string[];
  /** `LogicalId: service:Action, ...` per resource the role names (or `*`), and `managed policy <name>`. */
  granted: string[];
}

const unique = (values: string[]) => [...new Set(values)].sort();
/** `resource: action, action` lines from (resource, action) pairs. */
const grouped = (pairs: Array<[string, string]>) =>
  unique(pairs.map(([resource]) => resource)).map(
    (resource) =>
      `${resource}: ${unique(pairs.filter(([candidate]) => candidate === resource).map(([, action]) => action)).join(', ')}`,
  );
const shown = (resource: string) => resource.replace(/^arn:/, '');

export const checkLeastPrivilege = (template: Template, subject: Subject): Verdict => {
  const fn = functionId(template, subject.description);
  const statements = roleStatements(template, fn);
  const notAllowed: string[] = [];
  const used: Array<{ action: string; resource: string }> = [];
  for (const call of subject.calls) {
    const action = `${call.service}:${call.action}`;
    // An index of a table (`<table>/index/<name>`): the table is named by a variable, the index is a suffix of its ARN.
    const [named = call.resource, index] = call.resource.split(/(?=\/index\/)/);
    const variables = Object.keys(subject.environment).filter((name) => subject.environment[name] === named);
    // Or a variable holding a JSON object of names (BATCH_QUEUE_URLS: one queue per operation), by its key.
    const inObject = Object.entries(subject.environment).flatMap(([name, value]) => {
      try {
        const parsed = JSON.parse(value) as unknown;
        if (typeof parsed !== 'object' || parsed === null) return [];
        return Object.entries(parsed).flatMap(([key, entry]) => (entry === named ? [{ name, key }] : []));
      } catch {
        return [];
      }
    });
    // Two variables may name one resource (the operation's own queue, for its follow-ups and its batch items).
    const byVariables = [...new Set(variables.map((name) => variableResource(template, fn, name)))];
    const table =
      variables.length > 0 && byVariables.length === 1
        ? byVariables[0]
        : inObject.length === 1
          ? variableResource(template, fn, inObject[0]?.name as string, inObject[0]?.key)
          : undefined;
    const resource = table === undefined ? undefined : `${table}${index ?? ''}`;
    if (resource === undefined) {
      notAllowed.push(`${action} on ${call.resource}: no variable of the environment names it (${variables.join()})`);
      continue;
    }
    used.push({ action, resource });
    const covers = (effect: string) =>
      statements.some(
        (statement) =>
          statement.effect === effect &&
          statement.actions.some((pattern) => matches(pattern, action)) &&
          statement.resources.some((pattern) => matches(pattern, resource)) &&
          // A LeadingKeys condition holds only for a call on one of its partition keys.
          (statement.leadingKeys === undefined ||
            (call.leadingKey !== undefined &&
              statement.leadingKeys.some((pattern) => matches(pattern, call.leadingKey as string)))),
      );
    if (!covers('Allow') || covers('Deny')) notAllowed.push(`${action} on ${variables[0]} (${shown(resource)})`);
  }

  const exemptions = subject.exemptions(fn);
  const unused: string[] = [];
  const granted: Array<[string, string]> = [];
  for (const statement of statements.filter((candidate) => candidate.effect === 'Allow'))
    for (const action of statement.actions)
      for (const resource of statement.resources) {
        granted.push([shown(resource), action]);
        // Exact matches only: a wildcard grant is broader than any call it covers.
        const justified =
          used.some((call) => call.action === action && call.resource === resource) ||
          exemptions.some((exemption) => exemption.actions.includes(action) && exemption.resources.includes(resource));
        if (!justified) unused.push(`${action} on ${shown(resource)}`);
      }
  const managed = managedPolicies(template, fn).map((policy) => `managed policy ${policy}`);
  for (const policy of managedPolicies(template, fn))
    if (!subject.managedPolicies.includes(policy)) unused.push(`managed policy ${policy}`);
  const variableOf = (resource: string) => {
    const [named = resource, index = ''] = resource.split(/(?=\/index\/)/);
    const variable = Object.keys(subject.environment).find((name) => subject.environment[name] === named);
    return variable === undefined ? resource : `${variable}${index}`;
  };
  return {
    notAllowed: unique(notAllowed),
    unused: unique(unused),
    recorded: grouped(subject.calls.map((call) => [variableOf(call.resource), `${call.service}:${call.action}`])),
    granted: [...grouped(granted), ...managed],
  };
};
