/** Where `npm run dev` and `npm run token` keep and find the local issuer. */
import { fileURLToPath } from "node:url";

export const DEV_KEY_DIR = fileURLToPath(new URL("../../.dev-issuer/", import.meta.url));
export const DEV_ISSUER_PORT = Number(process.env.DEV_ISSUER_PORT ?? 9400);
export const DEV_ISSUER = `http://127.0.0.1:${DEV_ISSUER_PORT}`;
export const DEV_AUDIENCE = "langgraph-dev";
/** Every permission: what a token from `npm run token` carries unless `--scope` says otherwise. */
export const ALL_PERMISSIONS =
  "threads:read threads:write assistants:read assistants:write crons:read crons:write store:read store:write";
