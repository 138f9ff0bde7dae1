-- Audit records of agent tool calls: append-only, one tenant visible at a time.
--
-- Run as the table owner (a migration role), never as the application role.
-- The setting tenant_auth.app_role names the application's login role:
-- applyAuditMigration() checks the role and binds its name as a parameter
-- (set_config('tenant_auth.app_role', $1, true)); with psql, run
-- PGOPTIONS='-c tenant_auth.app_role=my_app' psql -1 -f audit-migration.sql.
-- The name is quoted here by format('%I'), never written into this text.
-- That role must not be the owner, a superuser or have BYPASSRLS.

CREATE TABLE IF NOT EXISTS tool_audit_records (
  tenant_id  text        NOT NULL CHECK (tenant_id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'),
  seq        bigint      NOT NULL CHECK (seq >= 0),
  time       timestamptz NOT NULL,
  prev_hash  text        NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
  hash       text        NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
  -- The record exactly as sealed (canonical JSON): `hash` is recomputed from
  -- these bytes by verify, so it is kept as text, not re-encoded as jsonb.
  record     text        NOT NULL,
  -- One record per position: two writers can never fork a tenant's chain.
  PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX IF NOT EXISTS tool_audit_records_time ON tool_audit_records (tenant_id, time);

-- RLS even for the owner (FORCE): a session sees and writes only the tenant
-- it bound with set_config('app.current_tenant', <tenant>, true). No tenant
-- bound, no rows (an unset or RESET setting reads as NULL or '').
ALTER TABLE tool_audit_records ENABLE ROW LEVEL SECURITY;
ALTER TABLE tool_audit_records FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tool_audit_tenant_read ON tool_audit_records;
CREATE POLICY tool_audit_tenant_read ON tool_audit_records FOR SELECT
  USING (tenant_id = nullif(current_setting('app.current_tenant', true), ''));
DROP POLICY IF EXISTS tool_audit_tenant_append ON tool_audit_records;
CREATE POLICY tool_audit_tenant_append ON tool_audit_records FOR INSERT
  WITH CHECK (tenant_id = nullif(current_setting('app.current_tenant', true), ''));

-- The application may insert and read (its own tenant's rows), nothing else:
-- no UPDATE, DELETE or TRUNCATE, so it cannot rewrite history.
REVOKE ALL ON tool_audit_records FROM PUBLIC;
DO $$
DECLARE r text := nullif(current_setting('tenant_auth.app_role', true), '');
BEGIN
  IF r IS NULL THEN
    RAISE EXCEPTION 'set tenant_auth.app_role to the application role before this migration';
  END IF;
  EXECUTE format('REVOKE ALL ON tool_audit_records FROM %I', r);
  EXECUTE format('GRANT SELECT, INSERT ON tool_audit_records TO %I', r);
END $$;

-- A second lock for roles that are granted more later (or the owner): any
-- change to a stored record is refused.
CREATE OR REPLACE FUNCTION tool_audit_records_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'tool_audit_records is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
DROP TRIGGER IF EXISTS tool_audit_records_no_change ON tool_audit_records;
CREATE TRIGGER tool_audit_records_no_change BEFORE UPDATE OR DELETE ON tool_audit_records
  FOR EACH ROW EXECUTE FUNCTION tool_audit_records_refuse_change();
DROP TRIGGER IF EXISTS tool_audit_records_no_truncate ON tool_audit_records;
CREATE TRIGGER tool_audit_records_no_truncate BEFORE TRUNCATE ON tool_audit_records
  FOR EACH STATEMENT EXECUTE FUNCTION tool_audit_records_refuse_change();
