/** Where `npm run dev` and `npm run token` of this repository keep and find the local issuer. */
import { fileURLToPath } from "node:url";
import { ALL_PERMISSIONS, DEV_AUDIENCE, devIssuerPort, devIssuerUrl } from "../../src/dev/dev-issuer-settings.ts";

/** This checkout's key folder (git-ignored), where `npm run dev` keeps its key: tests sign with the same one. */
export const DEV_KEY_DIR = fileURLToPath(new URL("../../.dev-issuer/", import.meta.url));
export const DEV_ISSUER_PORT = devIssuerPort(process.env);
export const DEV_ISSUER = devIssuerUrl(DEV_ISSUER_PORT);
export { ALL_PERMISSIONS, DEV_AUDIENCE };
