-- Every tenant with its status, for TenantMigration.stats (routing is computed in Python,
-- bit-exact with the refactor plan's hash).
SELECT id, status FROM tenants ORDER BY id
