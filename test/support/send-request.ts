/**
 * One request to a test server as a client sends it: an optional bearer
 * token, a JSON body (a string is sent as it is), extra headers, and a
 * 30-second limit so a hung server fails the test instead of stalling it.
 */
export function sendRequest(baseUrl: string, token: string | null | undefined, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
}
