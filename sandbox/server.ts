/**
 * A small stateful HTTP server that the provider simulators share: routing, recorded calls, and fault
 * injection per request (latency, status codes, hangs, resets, faults that strike after the effect was applied,
 * lost answers whose request is applied late, and slow answers carrying stale state). Faults can be set in-process or over HTTP under /__sim, so a simulator running in another
 * process (the local runner) can be steered by tests too.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface SimRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: unknown;
  rawBody: string;
}

export interface SimResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface SimRoute {
  method: string;
  /** Exact path, or a pattern with `{name}` segments. */
  path: string;
  handle: (request: SimRequest, params: Record<string, string>) => SimResponse | Promise<SimResponse>;
}

export type FaultKind =
  /** Answer `status` (e.g. 500, 429) without applying the request. */
  | 'status'
  /** Apply the request, then answer `status` instead of the real answer (a 5xx after the work was done). */
  | 'apply-then-status'
  /** Never answer, apply nothing. */
  | 'hang'
  /** Apply the request, then never answer (the worst case for exactly-once). */
  | 'apply-then-hang'
  /** Drop the connection without applying. */
  | 'reset'
  /** Apply, then drop the connection. */
  | 'apply-then-reset'
  /** Apply, then answer 200 with an HTML body. */
  | 'apply-then-garbage'
  /** Only the latency, then the real answer (e.g. a slow success just under the client's timeout). */
  | 'delay'
  /**
   * A lost answer applied LATE: answer `status` (default 500) at once without applying, then apply the request
   * `applyAfterMs` later (the provider works off a request the client already counted as failed). The late
   * application sees the state of its own time, and its answer goes nowhere.
   */
  | 'status-then-apply-late'
  /** A lost answer applied late: never answer, and apply the request `applyAfterMs` after it arrived (and any `latencyMs`). */
  | 'hang-then-apply-late'
  /** A lost answer applied late: drop the connection at once, and apply the request `applyAfterMs` later. */
  | 'reset-then-apply-late'
  /**
   * A SLOW STALE answer: the request is evaluated at once (a read captures the state of now, a write is applied now)
   * and its answer is delivered only `latencyMs` later, so the reader sees state older than the moment it gets it.
   */
  | 'stale-answer';

export interface Fault {
  kind: FaultKind;
  /** Only requests with this method (e.g. DELETE) are affected; any method when absent. */
  method?: string;
  /** Only requests to this path (exact) are affected; all non-control requests when absent. */
  path?: string;
  /** Only requests whose path and query or raw body contain this text (e.g. one ICCID) are affected. */
  matching?: string;
  status?: number;
  retryAfterSeconds?: number;
  /** Extra latency before the fault strikes; for `stale-answer`, the delay between evaluating and answering. */
  latencyMs?: number;
  /** For the `*-then-apply-late` kinds: how long after the failure the request is applied. */
  applyAfterMs?: number;
  /** How many requests the fault affects; 1 when absent. */
  times?: number;
}

export interface RecordedCall {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** Whether credentials were sent (Authorization, X-API-Key or stn-api-key); their values are never recorded. */
  authorized: boolean;
  at: number;
  /** The fault that struck this request, if any. */
  fault?: FaultKind;
}

const compile = (pattern: string): RegExp =>
  new RegExp(`^${pattern.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, '(?<$1>[^/]+)')}$`);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class SimulatorServer {
  readonly calls: RecordedCall[] = [];
  latencyMs: number;
  /** Extra latency drawn uniformly from 0 to this, per request (load tests). */
  jitterMs = 0;
  /** The most requests this simulator was serving at the same moment (shows client-side concurrency). */
  maxInFlight = 0;
  /** How many requests each fault kind struck (a fault counts once per request it affects). */
  readonly faultsStruck: Partial<Record<FaultKind, number>> = {};
  #inFlight = 0;
  /** Late applications and stale answers not yet done: `settled()` waits for them. */
  #deferred = new Set<Promise<unknown>>();
  /**
   * Random faults: asked for every request that no injected fault matched; a fault it returns strikes that request
   * (and is counted in `faultsStruck`). Chaos runs set it; undefined, the default, leaves requests alone.
   */
  chaos: ((request: SimRequest) => Omit<Fault, 'path' | 'matching' | 'method' | 'times'> | undefined) | undefined;
  #faults: Array<Fault & { remaining: number }> = [];
  #routes: Array<SimRoute & { regex: RegExp }>;
  #server: Server | undefined;
  #sockets = new Set<Socket>();
  #control: (request: SimRequest) => SimResponse | undefined;

  constructor(
    readonly name: string,
    routes: SimRoute[],
    options: { latencyMs?: number; state?: () => unknown; reset?: () => void } = {},
  ) {
    this.#routes = routes.map((route) => ({ ...route, regex: compile(route.path) }));
    this.latencyMs = options.latencyMs ?? 0;
    this.#control = (request) => {
      if (request.method === 'GET' && request.path === '/__sim/calls') return { status: 200, body: this.calls };
      if (request.method === 'GET' && request.path === '/__sim/state')
        return { status: 200, body: options.state?.() ?? {} };
      if (request.method === 'POST' && request.path === '/__sim/faults') {
        this.injectFault(request.body as Fault);
        return { status: 204 };
      }
      if (request.method === 'DELETE' && request.path === '/__sim/faults') {
        this.clearFaults();
        return { status: 204 };
      }
      if (request.method === 'POST' && request.path === '/__sim/reset') {
        options.reset?.();
        this.calls.length = 0;
        this.clearFaults();
        for (const kind of Object.keys(this.faultsStruck)) delete this.faultsStruck[kind as FaultKind];
        return { status: 204 };
      }
      return undefined;
    };
  }

  injectFault(fault: Fault): void {
    this.#faults.push({ ...fault, remaining: fault.times ?? 1 });
  }

  /** Removes pending faults: all of them, or those aimed at one `matching` text. */
  clearFaults(matching?: string): void {
    this.#faults = matching === undefined ? [] : this.#faults.filter((fault) => fault.matching !== matching);
  }

  /** Faults still waiting to strike: all of them, or those aimed at one `matching` text. */
  pendingFaults(matching?: string): number {
    return this.#faults.filter((fault) => matching === undefined || fault.matching === matching).length;
  }

  /** Resolves once every late application and every stale answer under way has happened. */
  async settled(): Promise<void> {
    while (this.#deferred.size > 0) await Promise.allSettled([...this.#deferred]);
  }

  #defer(work: Promise<unknown>): void {
    const tracked = work.catch(() => undefined).finally(() => this.#deferred.delete(tracked));
    this.#deferred.add(tracked);
  }

  /** Calls to one path (control calls are never recorded). */
  callsTo(path: string): RecordedCall[] {
    return this.calls.filter((call) => call.path === path);
  }

  get url(): string {
    const address = this.#server?.address() as AddressInfo | null | undefined;
    if (address === undefined || address === null) throw new Error(`${this.name} simulator is not listening`);
    return `http://127.0.0.1:${address.port}`;
  }

  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    const server = createServer((request, response) => {
      this.#inFlight += 1;
      this.maxInFlight = Math.max(this.maxInFlight, this.#inFlight);
      response.once('close', () => (this.#inFlight -= 1));
      void this.#serve(request, response).catch((error: unknown) => {
        if (!response.headersSent) this.#send(response, { status: 500, body: { error: String(error) } });
      });
    });
    server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #takeFault(request: SimRequest, url: string): (Fault & { remaining: number }) | undefined {
    const fault = this.#faults.find(
      (candidate) =>
        (candidate.method === undefined || candidate.method === request.method) &&
        (candidate.path === undefined || candidate.path === request.path) &&
        (candidate.matching === undefined ||
          url.includes(candidate.matching) ||
          request.rawBody.includes(candidate.matching)),
    );
    if (fault === undefined) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.#faults = this.#faults.filter((candidate) => candidate !== fault);
    this.faultsStruck[fault.kind] = (this.faultsStruck[fault.kind] ?? 0) + 1;
    return fault;
  }

  #chaosFault(request: SimRequest): Fault | undefined {
    const fault = this.chaos?.(request);
    if (fault !== undefined) this.faultsStruck[fault.kind] = (this.faultsStruck[fault.kind] ?? 0) + 1;
    return fault;
  }

  async #serve(incoming: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const url = new URL(incoming.url ?? '/', 'http://simulator');
    let body: unknown;
    try {
      body = rawBody.length > 0 ? JSON.parse(rawBody) : undefined;
    } catch {
      body = rawBody;
    }
    const request: SimRequest = {
      method: incoming.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: incoming.headers,
      body,
      rawBody,
    };

    const control = request.path.startsWith('/__sim/') ? this.#control(request) : undefined;
    if (control !== undefined) return this.#send(response, control);

    const recorded: RecordedCall = {
      method: request.method,
      path: request.path,
      query: Object.fromEntries(url.searchParams),
      body,
      authorized: ['authorization', 'x-api-key', 'stn-api-key'].some((name) => incoming.headers[name] !== undefined),
      at: Date.now(),
    };
    this.calls.push(recorded);
    const fault = this.#takeFault(request, incoming.url ?? '') ?? this.#chaosFault(request);
    if (fault !== undefined) recorded.fault = fault.kind;
    const stale = fault?.kind === 'stale-answer';
    const delay = this.latencyMs + (stale ? 0 : (fault?.latencyMs ?? 0)) + Math.random() * this.jitterMs;
    if (delay > 0) await sleep(delay);

    if (
      fault?.kind === 'status-then-apply-late' ||
      fault?.kind === 'hang-then-apply-late' ||
      fault?.kind === 'reset-then-apply-late'
    ) {
      this.#defer(sleep(fault.applyAfterMs ?? 0).then(() => this.#route(request)));
      if (fault.kind === 'hang-then-apply-late') return;
      if (fault.kind === 'reset-then-apply-late') return void incoming.socket.destroy();
      return this.#send(response, {
        status: fault.status ?? 500,
        body: { error: 'Injected failure (the request will be applied later)' },
      });
    }
    if (stale) {
      // Serialized now: the routes answer live objects, which a later write would change before they are sent.
      const routed = await this.#route(request);
      const answer = {
        ...routed,
        body: routed.body === undefined ? undefined : (JSON.parse(JSON.stringify(routed.body)) as unknown),
      };
      const delivered = sleep(fault.latencyMs ?? 0).then(() => {
        if (!response.destroyed) this.#send(response, answer);
      });
      this.#defer(delivered);
      return delivered;
    }

    if (fault?.kind === 'hang') return;
    if (fault?.kind === 'reset') return void incoming.socket.destroy();
    if (fault?.kind === 'status') {
      const retryAfter: Record<string, string> =
        fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) };
      return this.#send(response, {
        status: fault.status ?? 500,
        body: { error: 'Injected failure' },
        headers: retryAfter,
      });
    }

    const answer = await this.#route(request);
    if (fault?.kind === 'apply-then-hang') return;
    if (fault?.kind === 'apply-then-reset') return void incoming.socket.destroy();
    if (fault?.kind === 'apply-then-status')
      return this.#send(response, { status: fault.status ?? 500, body: { error: 'Injected failure after applying' } });
    if (fault?.kind === 'apply-then-garbage') {
      response.writeHead(200, { 'content-type': 'text/html' });
      return void response.end('<html><body>Bad gateway</body></html>');
    }
    this.#send(response, answer);
  }

  async #route(request: SimRequest): Promise<SimResponse> {
    for (const route of this.#routes) {
      if (route.method !== request.method) continue;
      const match = route.regex.exec(request.path);
      if (match !== null) {
        const params = Object.fromEntries(
          Object.entries(match.groups ?? {}).map(([name, value]) => [name, decodeURIComponent(value)]),
        );
        return route.handle(request, params);
      }
    }
    return { status: 404, body: { error: `No route ${request.method} ${request.path}` } };
  }

  #send(response: ServerResponse, answer: SimResponse): void {
    const headers: Record<string, string> = { ...answer.headers };
    if (answer.body !== undefined) headers['content-type'] ??= 'application/json';
    response.writeHead(answer.status, headers);
    response.end(answer.body === undefined ? undefined : JSON.stringify(answer.body));
  }
}
