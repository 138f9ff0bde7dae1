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
