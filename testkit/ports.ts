/** A loopback port that was free a moment ago: nothing listens on it (connections are refused) until someone binds it. */
import { createServer } from 'node:net';

export const unusedPort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
