/** The eSIM Go sandbox of `npm start` and the tests: the simulator with its ready-made eSIMs, and their banner lines. */
import type { RunningSandbox } from '../../shared/providers/provider.js';
import {
  ESIM_GO_SANDBOX_API_KEY,
  type EsimGoSimulator,
  type EsimGoSimulatorOptions,
  createEsimGoSimulator,
} from './simulator.js';

export const startSandbox = async (options: EsimGoSimulatorOptions = {}): Promise<RunningSandbox<EsimGoSimulator>> => {
  const simulator = createEsimGoSimulator(options);
  const url = await simulator.server.start();
  return {
    simulator,
    settings: { BASE_URL: url, API_KEY: ESIM_GO_SANDBOX_API_KEY },
    server: simulator.server,
    stop: () => simulator.server.stop(),
    banner: () => [
      'eSIM Go sandbox eSIMs:',
      ...simulator.esims().map((esim) => {
        const bundles = esim.bundles
          .map((bundle) => `${bundle.name} [${bundle.assignments.map((a) => `${a.id} ${a.bundleState}`).join(', ')}]`)
          .join('; ');
        return `  iccid ${esim.iccid}  ${esim.profileStatus.padEnd(9)}  ${bundles}`;
      }),
    ],
  };
};
