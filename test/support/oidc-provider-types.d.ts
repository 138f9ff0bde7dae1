/**
 * The slice of `oidc-provider` (v9, which ships no type declarations) that
 * the test support uses.
 */
declare module "oidc-provider" {
  import type { IncomingMessage, ServerResponse } from "node:http";

  interface ProviderClientRef {
    clientId: string;
  }
  interface KoaContext {
    path: string;
  }
  interface ResourceServerInfo {
    scope: string;
    audience?: string;
    accessTokenTTL?: number;
    accessTokenFormat?: "jwt" | "opaque";
    jwt?: { sign?: { alg: string } };
  }
  interface Configuration {
    jwks?: { keys: object[] };
    clients?: object[];
    features?: {
      clientCredentials?: { enabled: boolean };
      devInteractions?: { enabled: boolean };
      revocation?: { enabled: boolean };
      resourceIndicators?: {
        enabled: boolean;
        defaultResource?: (ctx: unknown, client: ProviderClientRef, oneOf?: string[]) => string | string[] | undefined;
        useGrantedResource?: (ctx: unknown, model: unknown) => boolean;
        getResourceServerInfo?: (ctx: unknown, resource: string, client: ProviderClientRef) => ResourceServerInfo;
      };
    };
    extraTokenClaims?: (ctx: unknown, token: unknown) => Record<string, unknown> | undefined;
    ttl?: Record<string, number | ((ctx: unknown, token: unknown, client: ProviderClientRef) => number)>;
  }
  export default class Provider {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    use(middleware: (ctx: KoaContext, next: () => Promise<void>) => Promise<void>): void;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
  }
}
