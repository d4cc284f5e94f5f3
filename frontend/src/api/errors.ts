import type { ErrorBody } from './types';

/** A failed API call, carrying the backend's `{error, code, fields}` body. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fields: Record<string, string[]>;

  constructor(status: number, body: unknown) {
    const parsed = isErrorBody(body) ? body : null;
    super(parsed?.error ?? fallbackMessage(status));
    this.name = 'ApiError';
    this.status = status;
    this.code = parsed?.code ?? `http_${status}`;
    this.fields = parsed?.fields ?? {};
  }

  /** The problems reported for one form field, joined into a sentence. */
  fieldError(field: string): string | undefined {
    const problems = this.fields[field];
    return problems && problems.length > 0 ? problems.join(' ') : undefined;
  }
}

function isErrorBody(value: unknown): value is ErrorBody {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { error?: unknown }).error === 'string'
  );
}

function fallbackMessage(status: number): string {
  if (status === 401) return 'You are not logged in.';
  if (status === 403) return 'You are not allowed to do this.';
  if (status === 404) return 'Not found.';
  if (status === 413) return 'That file is too large.';
  if (status >= 500) return `The server had a problem (HTTP ${status}). Try again in a moment.`;
  return `The request failed (HTTP ${status}).`;
}

/** A sentence to show a person for any error thrown by an API call. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof TypeError) return 'Could not reach Hearth. Check your connection and try again.';
  if (error instanceof Error && error.message) return error.message;
  return 'Something went wrong.';
}

interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** Resolves to the response data of an openapi-fetch call, or throws an `ApiError`. */
export async function unwrap<T>(call: Promise<FetchResult<T>>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw new ApiError(response.status, error);
  return data as T;
}
