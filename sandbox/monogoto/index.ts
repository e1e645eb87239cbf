/** The Monogoto sandbox of `npm start` and the tests: the simulator with its ready-made eSIMs, and their banner lines. */
import type { RunningSandbox } from '../../shared/providers/provider.js';
import {
  MONOGOTO_SANDBOX_CREDENTIALS,
  type MonogotoSimulator,
  type MonogotoSimulatorOptions,
  createMonogotoSimulator,
} from './simulator.js';

export const startSandbox = async (
  options: MonogotoSimulatorOptions = {},
): Promise<RunningSandbox<MonogotoSimulator>> => {
  const simulator = createMonogotoSimulator(options);
  const url = await simulator.server.start();
  return {
    simulator,
    settings: {
      BASE_URL: url,
      USERNAME: MONOGOTO_SANDBOX_CREDENTIALS.username,
      PASSWORD: MONOGOTO_SANDBOX_CREDENTIALS.password,
    },
    server: simulator.server,
    stop: () => simulator.server.stop(),
    banner: () => [
      'Monogoto sandbox eSIMs:',
      ...simulator
        .esims()
        .map((esim) => `  iccid ${esim.iccid}  state ${esim.state.padEnd(9)}  matchingId ${esim.matchingId ?? '-'}`),
    ],
  };
};
