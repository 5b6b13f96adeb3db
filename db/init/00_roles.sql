-- Roles, schemas and privileges of the supabase/postgres image: its init-scripts 00 and 01 with
-- the later role migrations folded in. Run once, as the bootstrap superuser supabase_admin, on an
-- empty cluster. Passwords are set separately (db/init/01_passwords.sql.in or the image's script),
-- so this file holds no secret.

-- `postgres` is demoted to a non-superuser in the image; it keeps BYPASSRLS and is what the
-- Supabase CLI applies migrations as.
create role postgres login createdb createrole replication bypassrls;

-- PostgREST's roles. anon became INHERIT in 20230529180330.
create role anon nologin inherit;
create role authenticated nologin inherit;
create role service_role nologin inherit bypassrls;

-- The role PostgREST (and our service) logs in as, switching role per request.
create role authenticator login noinherit;
grant anon, authenticated, service_role to authenticator;
grant anon, authenticated, service_role to postgres;

alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';
alter role authenticator set statement_timeout = '8s';
alter role authenticator set lock_timeout = '8s';

-- GoTrue's role: owns schema auth and runs its (unqualified) SQL with search_path = auth.
create role supabase_auth_admin login noinherit;
create schema auth authorization supabase_auth_admin;
alter role supabase_auth_admin set search_path = auth;
grant create on database postgres to supabase_auth_admin;
grant usage on schema auth to anon, authenticated, service_role;
grant usage on schema auth to postgres;
-- Tables GoTrue creates are readable by postgres (a foreign key to auth.users needs REFERENCES),
-- never by the API roles: service_role gets "permission denied for table users" as in the image.
alter default privileges for role supabase_auth_admin in schema auth
    grant all on tables to postgres;
alter default privileges for role supabase_auth_admin in schema auth
    grant all on sequences to postgres;
alter default privileges for role supabase_auth_admin in schema auth
    grant all on functions to postgres;

create schema extensions;
create extension if not exists "uuid-ossp" with schema extensions;
create extension if not exists pgcrypto with schema extensions;
grant usage on schema extensions to postgres, anon, authenticated, service_role;

-- The image's pg_graphql schema; the data API exposes it beside public, as the CLI configures it.
create schema graphql_public;
grant usage on schema graphql_public to postgres, anon, authenticated, service_role;

-- Schema public: RLS is the only gate, so the API roles get ALL by default.
grant usage on schema public to postgres, anon, authenticated, service_role;
grant create on schema public to postgres;
alter default privileges for role postgres in schema public
    grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public
    grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public
    grant all on sequences to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public
    grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public
    grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public
    grant all on sequences to postgres, anon, authenticated, service_role;

alter role supabase_admin set search_path = "$user", public, auth, extensions;
