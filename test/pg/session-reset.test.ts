/**
 * The pieces withTenant and clean checkout are built from: the tenant
 * literal (the one value formatted into SQL) and the client-side memory of
 * prepared statements. Real-Postgres behaviour is in
 * test/integration/pg-session-hygiene.test.ts.
 */
import fc from "fast-check";
import type pg from "pg";
import { describe, expect, it } from "vitest";
import { InvalidTenantIdError } from "../../src/errors.ts";
import { DISCARD_SESSION_SQL, forgetPreparedStatements, resetSessionSql, tenantLiteral } from "../../src/pg/session-reset.ts";
import { isTenantId } from "../../src/tenant/tenant-id.ts";

describe("tenantLiteral", () => {
  it("quotes a legal tenant id as is", () => {
    expect(tenantLiteral("acme.eu")).toBe("'acme.eu'");
    expect(tenantLiteral("A_b-9")).toBe("'A_b-9'");
  });

  it.each(["acme'; DROP TABLE tenant_resources; --", "a\\'b", "", "a b", "acme::x", "é", "$1", "x".repeat(129)])(
    "refuses %j before it can reach SQL",
    (hostile) => expect(() => tenantLiteral(hostile)).toThrow(InvalidTenantIdError),
  );

  it("for any string: refuses it, or returns it quoted with nothing that could end the literal", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 140 }), (s) => {
        if (!isTenantId(s)) {
          expect(() => tenantLiteral(s)).toThrow(InvalidTenantIdError);
          return;
        }
        const literal = tenantLiteral(s);
        expect(literal).toBe(`'${s}'`);
        expect(s).not.toMatch(/['\\;\s\0]/);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("resetSessionSql", () => {
  it("rolls back first only when a transaction is open or failed", () => {
    const status = (s: string) => ({ getTransactionStatus: () => s }) as unknown as pg.ClientBase;
    expect(resetSessionSql(status("I"))).toBe(DISCARD_SESSION_SQL);
    expect(resetSessionSql(status("T"))).toBe(`ROLLBACK; ${DISCARD_SESSION_SQL}`);
    expect(resetSessionSql(status("E"))).toBe(`ROLLBACK; ${DISCARD_SESSION_SQL}`);
  });
});

describe("forgetPreparedStatements", () => {
  it("empties node-postgres's record of statements prepared on the connection", () => {
    const connection = { parsedStatements: { "by-id": "SELECT 1" }, submittedNamedStatements: { x: "SELECT 2" } };
    forgetPreparedStatements({ connection } as unknown as pg.ClientBase);
    expect(connection).toEqual({ parsedStatements: {}, submittedNamedStatements: {} });
  });
});
