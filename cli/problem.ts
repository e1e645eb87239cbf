/** An error answer of the API (problem+json, or whatever a proxy in front of it said), printable for the user. */

interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  /** API Gateway's own answers (e.g. a bad signature) are `{"message": ...}`. */
  message?: string;
  errors?: Array<{ path?: string; message?: string }>;
}

export class ApiError extends Error {
  constructor(
    readonly request: string,
    readonly status: number,
    readonly problem: Problem | undefined,
    readonly body: string,
  ) {
    super(`${request} answered ${status}`);
  }

  /** 429 and 5xx may pass: worth another poll before giving up. */
  get transient(): boolean {
    return this.status === 429 || this.status >= 500;
  }

  static async from(request: string, response: Response): Promise<ApiError> {
    const body = await response.text();
    let problem: Problem | undefined;
    try {
      const parsed: unknown = JSON.parse(body);
      if (typeof parsed === 'object' && parsed !== null) problem = parsed as Problem;
    } catch {
      problem = undefined;
    }
    return new ApiError(request, response.status, problem, body);
  }
}

/** `error: <title> (<status>)`, the detail, then one line per field error. */
export const describeApiError = (error: ApiError): string[] => {
  const { problem } = error;
  const title = problem?.title ?? `${error.request} answered`;
  const lines = [`error: ${title} (${error.status})`];
  const detail = problem?.detail ?? problem?.message ?? (problem === undefined ? error.body.slice(0, 500) : undefined);
  if (detail !== undefined && detail !== '') lines.push(`  ${detail}`);
  for (const fieldError of Array.isArray(problem?.errors) ? problem.errors : [])
    lines.push(`  ${fieldError.path ?? '(no path)'}: ${fieldError.message ?? '(no message)'}`);
  return lines;
};
