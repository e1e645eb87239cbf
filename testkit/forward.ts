/** Forwards one HTTP request unchanged (headers, so the SDK's signature and checksums stay valid) to another endpoint. */
import { type IncomingMessage, type ServerResponse, request as httpRequest } from 'node:http';

export const forwardRequest = (endpoint: string, incoming: IncomingMessage, body: Buffer, response: ServerResponse) =>
  new Promise<void>((resolve, reject) => {
    const target = new URL(endpoint);
    const forwarded = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: incoming.url,
        method: incoming.method,
        headers: incoming.headers,
      },
      (upstream) => {
        response.writeHead(upstream.statusCode ?? 500, upstream.headers);
        upstream.pipe(response).on('finish', resolve);
      },
    );
    forwarded.on('error', reject);
    forwarded.end(body);
  });
