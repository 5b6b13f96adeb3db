-- One row per chat session, owned by the signed-in user (the seed's table). The table's
-- privileges come from Supabase's default privileges on `public`: row-level security decides.
create table public.sessions (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    turn_count int not null default 0,
    created_at timestamptz not null default now()
);

alter table public.sessions enable row level security;

-- Only the signed-in user may create and see their own sessions; anon gets no policy at all.
create policy "users insert their own sessions" on public.sessions
    for insert to authenticated
    with check (user_id = auth.uid());

create policy "users read their own sessions" on public.sessions
    for select to authenticated
    using (user_id = auth.uid());
