/**
 * Every operation's full definition (contract and behaviour), loaded by convention from
 * `shared/operations/<name>/index.ts`: the contracts list is the only registry, so a new operation needs no entry here.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PROJECT_ROOT } from '../infra/functions.js';
import { contracts } from '../shared/operations/contracts.js';
import type { OperationContract, OperationDefinition } from '../shared/operations/definition.js';

const isDefinitionOf =
  (contract: OperationContract) =>
  (value: unknown): value is OperationDefinition =>
    typeof value === 'object' &&
    value !== null &&
    (value as Partial<OperationDefinition>).name === contract.name &&
    typeof (value as Partial<OperationDefinition>).execute === 'function';

export const loadDefinition = async (contract: OperationContract): Promise<OperationDefinition> => {
  const module = (await import(
    pathToFileURL(resolve(PROJECT_ROOT, 'shared', 'operations', contract.name, 'index.ts')).href
  )) as Record<string, unknown>;
  const definition = Object.values(module).find(isDefinitionOf(contract));
  if (definition === undefined)
    throw new Error(`shared/operations/${contract.name}/index.ts exports no definition named ${contract.name}`);
  return definition;
};

export const loadDefinitions = (): Promise<OperationDefinition[]> => Promise.all(contracts.map(loadDefinition));
