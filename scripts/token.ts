/**
 * `npm run token -- --tenant acme --sub alice [--scope "threads:read ..."] [--roles admin] [--expires-in 3600]`
 * prints a token signed by the local development issuer of `npm run dev`.
 */
import { parseArgs } from "node:util";
import { loadDevSigningKey, signToken } from "../test/support/local-issuer.ts";
import { isTenantId, TENANT_ID_PATTERN_SOURCE } from "../src/tenant/tenant-id.ts";
import { ALL_PERMISSIONS, DEV_AUDIENCE, DEV_ISSUER, DEV_KEY_DIR } from "../test/support/dev-settings.ts";

const { values } = parseArgs({
  options: {
    tenant: { type: "string" },
    sub: { type: "string" },
    scope: { type: "string", default: ALL_PERMISSIONS },
    roles: { type: "string" },
    "expires-in": { type: "string", default: "3600" },
  },
});
if (!values.tenant || !values.sub) {
  console.error('usage: npm run token -- --tenant <tenant> --sub <user> [--scope "threads:read ..."] [--roles "admin billing"] [--expires-in 3600]');
  process.exit(2);
}
if (!isTenantId(values.tenant)) {
  console.error(`--tenant must match /${TENANT_ID_PATTERN_SOURCE}/ (the server refuses any other tenant id)`);
  process.exit(2);
}
const key = await loadDevSigningKey(DEV_KEY_DIR);
const token = await signToken(
  key,
  {
    iss: DEV_ISSUER,
    aud: DEV_AUDIENCE,
    sub: values.sub,
    org_id: values.tenant,
    scope: values.scope,
    ...(values.roles ? { roles: values.roles.split(/[ ,]+/).filter(Boolean) } : {}),
  },
  { expiresIn: Number(values["expires-in"]) },
);
process.stdout.write(`${token}\n`);
