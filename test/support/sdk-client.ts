/**
 * The SDK client as the integration tests use it: one per token, and the HTTP
 * error a refused call raised.
 */
import { Client } from "@langchain/langgraph-sdk";

/** An SDK client for `apiUrl` that sends `token`; no retries, so a refusal is seen as the server sent it. */
export function sdkClientFor(apiUrl: string, token: string): Client {
  return new Client({ apiUrl, defaultHeaders: { authorization: `Bearer ${token}` }, callerOptions: { maxRetries: 0 } });
}

/**
 * The HTTP error the SDK raised: status and body as the server sent them.
 * Throws when the call succeeded, or failed with anything but an HTTP error.
 */
export async function httpFailure(promise: Promise<unknown>): Promise<{ status: number; text: string }> {
  try {
    await promise;
  } catch (error) {
    const { status, text } = error as { status?: number; text?: string };
    if (typeof status !== "number") throw error;
    return { status, text: text ?? "" };
  }
  throw new Error("the call succeeded");
}

/**
 * {@link httpFailure} for a server with this package's `Auth`: a refusal the
 * package answers itself ends with its decision id (every 401 and 403 does,
 * ` (decision_id: …)`); that suffix is checked and taken off, so the words
 * can be compared. Any other status is returned as it came.
 *
 * @example
 * expect(await httpRefusal(client.threads.create({}))).toEqual({ status: 403, text: 'insufficient_scope: …' });
 */
export async function httpRefusal(promise: Promise<unknown>): Promise<{ status: number; text: string }> {
  const { status, text } = await httpFailure(promise);
  const id = / \(decision_id: [0-9a-f-]{36}\)$/.exec(text);
  if ((status === 401 || status === 403) && !id) throw new Error(`a ${status} without a decision id: ${text}`);
  return { status, text: id ? text.slice(0, id.index) : text };
}
