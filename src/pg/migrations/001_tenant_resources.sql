-- A tenant-scoped table owned by this package: every row belongs to exactly
-- one tenant, and row-level security lets a session see and write only the
-- rows of the tenant in `app.current_tenant` (set by withTenant).
CREATE TABLE IF NOT EXISTS tenant_resources (
  -- Defaults to the session's tenant, so inserts need not name it.
  tenant_id  text        NOT NULL DEFAULT nullif(current_setting('app.current_tenant', true), '')
             CHECK (tenant_id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'),
  id         text        NOT NULL CHECK (length(id) BETWEEN 1 AND 1024),
  kind       text        NOT NULL DEFAULT 'resource',
  data       jsonb       NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX IF NOT EXISTS tenant_resources_tenant_kind ON tenant_resources (tenant_id, kind, created_at);

-- FORCE: the table owner is bound by the policy too (only superusers and
-- BYPASSRLS roles are not, and the application role is neither).
ALTER TABLE tenant_resources ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_resources FORCE ROW LEVEL SECURITY;

-- nullif(…, ''): an unset or RESET setting reads as '' or NULL; both match
-- no row, so with no tenant queries see nothing and writes fail.
DROP POLICY IF EXISTS tenant_isolation ON tenant_resources;
CREATE POLICY tenant_isolation ON tenant_resources
  USING (tenant_id = nullif(current_setting('app.current_tenant', true), ''))
  WITH CHECK (tenant_id = nullif(current_setting('app.current_tenant', true), ''));
