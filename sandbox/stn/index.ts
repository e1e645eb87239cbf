/** The sTN sandbox of `npm start` and the tests: the simulator with its ready-made activations, and their banner lines. */
import type { RunningSandbox } from '../../shared/providers/provider.js';
import { STN_SANDBOX_API_KEY, type StnSimulator, type StnSimulatorOptions, createStnSimulator } from './simulator.js';

export const startSandbox = async (options: StnSimulatorOptions = {}): Promise<RunningSandbox<StnSimulator>> => {
  const simulator = createStnSimulator(options);
  const url = await simulator.server.start();
  return {
    simulator,
    settings: { BASE_URL: url, API_KEY: STN_SANDBOX_API_KEY },
    server: simulator.server,
    stop: () => simulator.server.stop(),
    banner: () => [
      'sTN sandbox activations:',
      ...simulator
        .activations()
        .map((record) => `  id ${record.id}  status ${record.status.padEnd(10)} ${record.activationType}`),
    ],
  };
};
