/** The local API reference: Redoc (from npm, served from local files, no CDN) rendering /v1/openapi.json. */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { ServerResponse } from 'node:http';

const require = createRequire(import.meta.url);

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>sim-cancel-gateway API reference</title>
  <style>body { margin: 0; }</style>
</head>
<body>
  <redoc spec-url="/v1/openapi.json" expand-responses="200" required-props-first="true"></redoc>
  <script src="/docs/redoc.standalone.js"></script>
</body>
</html>
`;

/** Read once: 1 MB that never changes while the runner runs. */
let redoc: Promise<Buffer> | undefined;

export const serveDocs = async (path: string, response: ServerResponse): Promise<boolean> => {
  if (path === '/docs' || path === '/docs/') {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    response.end(PAGE);
    return true;
  }
  if (path === '/docs/redoc.standalone.js') {
    response.writeHead(200, {
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': 'public, max-age=3600',
    });
    redoc ??= readFile(require.resolve('redoc/bundles/redoc.standalone.js'));
    response.end(await redoc);
    return true;
  }
  return false;
};
