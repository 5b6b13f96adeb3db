-- No API role may read auth tables through PostgREST; the owner (supabase_auth_admin) is not
-- subject to RLS, so the server itself is unaffected.
alter table auth.users enable row level security;
alter table auth.audit_log_entries enable row level security;
alter table auth.identities enable row level security;
alter table auth.sessions enable row level security;
alter table auth.refresh_tokens enable row level security;
alter table auth.mfa_amr_claims enable row level security;
alter table auth.schema_migrations enable row level security;
