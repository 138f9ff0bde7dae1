/**
 * A sample of the deployment's own routes (`langgraph.json` `http.app`),
 * mounted under `/custom`, every one behind the tenant middleware. The
 * server's auth lets exactly these routes through because `langgraph.json`
 * names them in `AUTH_CUSTOM_ROUTES` (see `custom-routes.ts`). Copy the pattern: authenticate once for the prefix, check a
 * permission per route, and scope every read and write by `tenant_id`.
 */
import { Hono } from "hono";
// The package's entry points, as an app imports them: "langgraph-tenant-auth" and "langgraph-tenant-auth/hono".
import { createAuthenticator, readConfig } from "../../src/index.ts";
import { createTenantMiddleware, requirePermissions, type TenantEnv } from "../../src/hono/tenant-middleware.ts";
import { CUSTOM_ROUTE_BASE } from "./custom-routes.ts";

const authenticator = createAuthenticator({ config: readConfig(process.env) });

/** Per-tenant notes, in memory: the simplest state that shows tenant scoping. */
const notes = new Map<string, string[]>();

export const app = new Hono<TenantEnv>().basePath(CUSTOM_ROUTE_BASE);

app.use("*", createTenantMiddleware({ authenticator }));

/** Who the caller is, as every handler sees it. */
app.get("/tenant", (c) => {
  const p = c.get("principal");
  return c.json({ tenant_id: p.tenant_id, identity: p.identity, permissions: p.permissions });
});

app.get("/notes", requirePermissions("store:read"), (c) => {
  return c.json({ notes: notes.get(c.get("principal").tenant_id) ?? [] });
});

app.post("/notes", requirePermissions("store:write"), async (c) => {
  const body = (await c.req.json().catch(() => null)) as { text?: unknown } | null;
  if (!body || typeof body.text !== "string" || body.text.length === 0 || body.text.length > 1000) {
    return c.json({ error: "text must be a string of 1 to 1000 characters" }, 400);
  }
  const tenant = c.get("principal").tenant_id;
  const list = notes.get(tenant) ?? [];
  list.push(body.text);
  notes.set(tenant, list);
  return c.json({ notes: list }, 201);
});
