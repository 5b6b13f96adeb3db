-- Gives the login roles the stack uses the password in POSTGRES_PASSWORD, as the self-hosted
-- stack's roles.sql does; supabase/postgres runs it as an init script (psql, superuser), and
-- psql's backquote expansion reads the variable from the container's environment.
\set pgpass `echo "$POSTGRES_PASSWORD"`

alter user supabase_admin with password :'pgpass';
alter user postgres with password :'pgpass';
alter user authenticator with password :'pgpass';
alter user supabase_auth_admin with password :'pgpass';
