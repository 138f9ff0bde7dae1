/**
 * Helpers of the check-isolation tests against a real `langgraph dev`: run
 * the real command line, and list everything a tenant can see, so a test can
 * prove that a run left nothing behind.
 */
import { startCommand, type CliRun } from "../support/command-line.ts";

/** Every scope of this package's default permission table. */
export const ALL_SCOPES = "threads:read threads:write assistants:read assistants:write store:read store:write";
/** Tenant A's second, read-only user. */
export const READ_SCOPES = "threads:read assistants:read store:read";

/**
 * Start `node --import tsx src/cli.ts check-isolation …` from this checkout,
 * the same line `npm run check:isolation` runs.
 */
export const startCli = (args: string[], env: Record<string, string>): CliRun => startCommand("check-isolation", args, env);

/** Ids of every thread and assistant, and every store item under the tenant's prefix, a token can see. */
export async function inventory(url: string, token: string, prefix: string): Promise<Record<string, unknown>> {
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    if (!response.ok) throw new Error(`${path}: ${response.status}`);
    return response.json() as Promise<unknown>;
  };
  const ids = (list: unknown, key: string) => (list as Array<Record<string, string>>).map((x) => x[key]).sort();
  return {
    threads: ids(await post("/threads/search", { limit: 1000 }), "thread_id"),
    assistants: ids(await post("/assistants/search", { limit: 1000 }), "assistant_id"),
    // Items, not namespaces: the dev server's in-memory store keeps listing a namespace whose last item was deleted.
    items: ((await post("/store/items/search", { namespace_prefix: [prefix], limit: 1000 })) as { items: Array<{ namespace: string[]; key: string }> }).items.map((i) => `${i.namespace.join(".")}/${i.key}`).sort(),
  };
}

export { textSink } from "../support/text-sink.ts";
export type { CliRun };
