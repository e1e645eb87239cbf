/**
 * The built-in provider sandboxes of `npm start`: for each provider whose *_BASE_URL is not set, its simulator
 * is started with ready-made records, the handlers are pointed at it, and the banner shows requests that work
 * against those records as pasted.
 */
import type { ProviderName } from '../../shared/operations/definition.js';
import { ESIM_GO_SANDBOX_API_KEY, type EsimGoSimulator, createEsimGoSimulator } from '../../sandbox/esim-go/simulator.js';
import { MONOGOTO_SANDBOX_CREDENTIALS, type MonogotoSimulator, createMonogotoSimulator } from '../../sandbox/monogoto/simulator.js';
import type { SimulatorServer } from '../../sandbox/server.js';
import { STN_SANDBOX_API_KEY, type StnSimulator, createStnSimulator } from '../../sandbox/stn/simulator.js';

export interface RunningSandbox {
  provider: ProviderName;
  /** The simulator itself (tests and load runs read its records). */
  simulator: unknown;
  baseUrlVariable: string;
  server: SimulatorServer;
  /** Lines for the start banner: the records and example requests against `gatewayUrl`. */
  banner: (gatewayUrl: string) => string[];
}

const quote = (value: string): string => `'${value.replaceAll("'", "'\\''")}'`;

const monogotoBanner = (simulator: MonogotoSimulator) => (gatewayUrl: string) => {
  const esims = simulator.esims();
  const lines = ['Monogoto sandbox eSIMs:', ...esims.map((esim) => `  iccid ${esim.iccid}  state ${esim.state.padEnd(9)}  matchingId ${esim.matchingId ?? '-'}`)];
  const first = esims.find((esim) => esim.state === 'released');
  if (first === undefined) return lines;
  const url = `${gatewayUrl}/v1/monogoto/esims/${first.iccid}/cancel`;
  const body = quote(JSON.stringify({ matchingId: first.matchingId }));
  return [
    ...lines,
    '',
    'Cancel a matching ID (run it twice: the second answer is a replay with Idempotent-Replayed: true):',
    `  curl -i -X POST ${quote(url)} -H 'content-type: application/json' -H 'idempotency-key: try-it-1' -d ${body}`,
    'Preview it without changing anything:',
    `  curl -i -X POST ${quote(`${url}?dryRun=true`)} -H 'content-type: application/json' -d ${body}`,
  ];
};

const esimGoBanner = (simulator: EsimGoSimulator) => (gatewayUrl: string) => {
  const esims = simulator.esims();
  const lines = ['eSIM Go sandbox eSIMs:'];
  for (const esim of esims) {
    const bundles = esim.bundles.map((bundle) => `${bundle.name} [${bundle.assignments.map((a) => `${a.id} ${a.bundleState}`).join(', ')}]`).join('; ');
    lines.push(`  iccid ${esim.iccid}  ${esim.profileStatus.padEnd(9)}  ${bundles}`);
  }
  const first = esims.find((esim) => esim.profileStatus !== 'Installed' && esim.bundles.some((bundle) => bundle.assignments.length > 1));
  const bundle = first?.bundles[0];
  if (first === undefined || bundle === undefined) return lines;
  const url = `${gatewayUrl}/v1/esim-go/esims/${first.iccid}/bundles/${bundle.name}`;
  return [
    ...lines,
    '',
    'Preview a bundle revoke (which assignment goes, refund, returns-process risk):',
    `  curl -i -X DELETE ${quote(`${url}?dryRun=true`)}`,
    'Revoke it (the oldest unused assignment; a second revoke with a new key is refused: it would hand the eSIM back):',
    `  curl -i -X DELETE ${quote(url)} -H 'idempotency-key: try-revoke-1'`,
  ];
};

const stnBanner = (simulator: StnSimulator) => (gatewayUrl: string) => {
  const activations = simulator.activations();
  const lines = ['sTN sandbox activations:', ...activations.map((record) => `  id ${record.id}  status ${record.status.padEnd(10)} ${record.activationType}`)];
  const busy = activations.find((record) => record.status === 'BUSY');
  const done = activations.find((record) => record.status === 'DONE');
  if (busy === undefined) return lines;
  const url = `${gatewayUrl}/v1/stn/activations/${busy.id}/cancel`;
  lines.push(
    '',
    'Preview cancelling a pending activation (reads its status):',
    `  curl -i -X POST ${quote(`${url}?dryRun=true`)}`,
    'Cancel it (sTN answers CANCELLING, so the gateway answers status "in_progress"):',
    `  curl -i -X POST ${quote(url)} -H 'content-type: application/json' -H 'idempotency-key: try-stn-1' -d ${quote(JSON.stringify({ note: 'Customer changed their mind' }))}`,
  );
  if (done !== undefined) {
    lines.push('A completed activation cannot be cancelled (422 with sTN\'s message):', `  curl -i -X POST ${quote(`${gatewayUrl}/v1/stn/activations/${done.id}/cancel`)} -H 'idempotency-key: try-stn-2'`);
  }
  return lines;
};

export const startSandboxes = async (env: NodeJS.ProcessEnv): Promise<RunningSandbox[]> => {
  const running: RunningSandbox[] = [];
  const unset = (variable: string) => env[variable] === undefined || env[variable] === '';

  if (unset('MONOGOTO_BASE_URL')) {
    const simulator = createMonogotoSimulator();
    env.MONOGOTO_BASE_URL = await simulator.server.start();
    env.MONOGOTO_USERNAME = MONOGOTO_SANDBOX_CREDENTIALS.username;
    env.MONOGOTO_PASSWORD = MONOGOTO_SANDBOX_CREDENTIALS.password;
    running.push({ simulator, provider: 'monogoto', baseUrlVariable: 'MONOGOTO_BASE_URL', server: simulator.server, banner: monogotoBanner(simulator) });
  }
  if (unset('ESIM_GO_BASE_URL')) {
    const simulator = createEsimGoSimulator();
    env.ESIM_GO_BASE_URL = await simulator.server.start();
    env.ESIM_GO_API_KEY = ESIM_GO_SANDBOX_API_KEY;
    running.push({ simulator, provider: 'esim-go', baseUrlVariable: 'ESIM_GO_BASE_URL', server: simulator.server, banner: esimGoBanner(simulator) });
  }
  if (unset('STN_BASE_URL')) {
    const simulator = createStnSimulator();
    env.STN_BASE_URL = await simulator.server.start();
    env.STN_API_KEY = STN_SANDBOX_API_KEY;
    running.push({ simulator, provider: 'stn', baseUrlVariable: 'STN_BASE_URL', server: simulator.server, banner: stnBanner(simulator) });
  }
  return running;
};
