/**
 * The proof that nothing is left: every kind searched again as the tenant,
 * and once more after a pause, because a late write (a run that was still
 * finishing, langchain-ai/langgraph#7206) can bring a deleted thread back.
 */
import { idOf, isSystemAssistant, listStoreItems } from "./inventory.ts";
import type { Preflight } from "./preflight.ts";
import type { TenantApi } from "./tenant-api.ts";

/**
 * What the tenant can still see, one line each (`thread <id>`,
 * `assistant <id>`, `cron <id>`, `store item <namespace>/<key>`); empty when
 * nothing is left. System assistants are not the tenant's and not listed.
 *
 * @example
 * const left = await findLeft(api, preflight); // []
 */
export async function findLeft(api: TenantApi, preflight: Preflight): Promise<string[]> {
  const left: string[] = [];
  for (const thread of await api.search("searching threads again", "/threads/search")) left.push(`thread ${idOf(thread, "thread_id")}`);
  if (preflight.cronsServed) for (const cron of await api.search("searching crons again", "/runs/crons/search")) left.push(`cron ${idOf(cron, "cron_id")}`);
  for (const assistant of await api.search("searching assistants again", "/assistants/search")) {
    if (!isSystemAssistant(assistant)) left.push(`assistant ${idOf(assistant, "assistant_id")}`);
  }
  for (const item of await listStoreItems(api, preflight.label)) left.push(`store item ${item.namespace.join(".")}/${item.key}`);
  return left;
}
