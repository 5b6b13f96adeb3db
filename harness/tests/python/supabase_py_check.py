"""The official Python client (supabase-py) against the harness's project URL.

Run by harness/tests/supabase_py.rs with the stack's values in the environment (API_URL,
ANON_KEY, SERVICE_ROLE_KEY, as `harness up --output env` prints them). Every check prints one
line; the first that fails raises, and the exit status is 1.
"""

import os
import sys
import uuid

from postgrest.exceptions import APIError
from supabase import ClientOptions, create_client

URL = os.environ["API_URL"]
ANON = os.environ["ANON_KEY"]
SERVICE_ROLE = os.environ["SERVICE_ROLE_KEY"]


def check(name, condition, detail=""):
    if not condition:
        raise AssertionError(f"{name}: {detail}")
    print(f"ok: {name}")


def refused(call):
    """The APIError a call raises, or an AssertionError when it succeeds."""
    try:
        result = call()
    except APIError as error:
        return error
    raise AssertionError(f"expected an APIError, got {result!r}")


def main():
    # Signing up signs this client in (supabase-py then sends the session's token): the
    # anonymous client below is another one that never signs in.
    signing_up = create_client(URL, ANON)
    anonymous = create_client(URL, ANON)
    admin = create_client(URL, SERVICE_ROLE)

    email = f"py-{uuid.uuid4().hex[:12]}@example.com"
    signed_up = signing_up.auth.sign_up({"email": email, "password": "a-long-password"})
    check("sign up returns a user and a session", signed_up.user and signed_up.session)
    jwt = signed_up.session.access_token

    # The seed's canonical fix, ported: a client scoped to the request's token.
    scoped = create_client(URL, ANON, ClientOptions(headers={"Authorization": f"Bearer {jwt}"}))
    user = scoped.auth.get_user(jwt).user
    check("get_user(jwt) names the signed-up user", user.email == email, user)

    def my_rows():
        rows = admin.table("sessions").select("id", count="exact").eq("user_id", user.id)
        return rows.execute().count

    inserted = scoped.table("sessions").insert({"user_id": user.id, "turn_count": 0}).execute()
    check("the request-scoped insert returns its row", len(inserted.data) == 1, inserted.data)
    session_id = inserted.data[0]["id"]
    one = scoped.table("sessions").select("id").eq("id", session_id).single().execute()
    check("its id reads back through .single()", one.data == {"id": session_id}, one.data)

    # The debrief's failure 4: the anon client, refused by RLS, as 401 with PostgreSQL's words.
    error = refused(
        lambda: anonymous.table("sessions").insert({"user_id": user.id, "turn_count": 9}).execute()
    )
    check("the anon client's insert is PostgREST's 42501", error.code == "42501", error)
    check(
        "with RLS's message",
        error.message == 'new row violates row-level security policy for table "sessions"',
        error.message,
    )
    check("and no row was written", my_rows() == 1, my_rows())

    error = refused(lambda: scoped.table("sessions").select("id").eq("turn_count", 99).single().execute())
    check(".single() on zero rows is PGRST116", error.code == "PGRST116", error)
    check("with PostgREST's details", error.details == "The result contains 0 rows", error.details)
    none = scoped.table("sessions").select("id").eq("turn_count", 99).maybe_single().execute()
    check(".maybe_single() on zero rows is None", none is None, none)

    rows = [{"user_id": user.id, "turn_count": n} for n in (1, 2, 3)]
    many = scoped.table("sessions").insert(rows).execute()
    check("an array insert returns every row", len(many.data) == 3, many.data)

    listed = (
        scoped.table("sessions")
        .select("turn_count", count="exact")
        .gte("turn_count", 1)
        .order("turn_count", desc=True)
        .limit(2)
        .execute()
    )
    check("filters, order and limit", [r["turn_count"] for r in listed.data] == [3, 2], listed.data)
    check("count=exact counts past the limit", listed.count == 3, listed.count)
    either = scoped.table("sessions").select("turn_count").or_("turn_count.eq.1,turn_count.eq.3").order("turn_count").execute()
    check("or= filters", [r["turn_count"] for r in either.data] == [1, 3], either.data)
    within = scoped.table("sessions").select("turn_count").in_("turn_count", [0, 2]).order("turn_count").execute()
    check("in. filters", [r["turn_count"] for r in within.data] == [0, 2], within.data)

    # Writes on a table whose owner may do anything (the fixture's `public.notes`).
    notes = scoped.table("notes")
    created = notes.insert([{"title": "a", "stars": 1}, {"title": "b", "stars": 2}]).execute()
    check("the owner's default comes from auth.uid()", created.data[0]["owner"] == user.id, created.data)
    note = created.data[0]["id"]
    updated = notes.update({"stars": 10}).eq("id", note).execute()
    check("update returns the changed row", updated.data[0]["stars"] == 10, updated.data)
    upserted = notes.upsert({"id": note, "title": "a", "stars": 11}).execute()
    check("upsert merges into the existing row", upserted.data[0]["stars"] == 11, upserted.data)
    fresh = notes.upsert({"title": "c", "stars": 3}).execute()
    check("upsert without a key inserts", fresh.data[0]["title"] == "c", fresh.data)
    counted = notes.select("id", count="exact").execute()
    check("three notes now", counted.count == 3, counted.count)
    deleted = notes.delete().eq("title", "b").execute()
    check("delete returns the deleted row", [r["title"] for r in deleted.data] == ["b"], deleted.data)
    hidden = anonymous.table("notes").update({"stars": 0}).eq("id", note).execute()
    check("the anon client updates nothing it cannot see", hidden.data == [], hidden.data)

    total = scoped.rpc("add_them", {"a": 2, "b": 40}).execute()
    check("rpc with named arguments", total.data == 42, total.data)
    stars = scoped.rpc("my_stars", {}).execute()
    check("rpc of a set-returning function, under RLS", stars.data == [3, 11], stars.data)
    nobody = anonymous.rpc("my_stars", {}).execute()
    check("the same rpc as anon sees no rows", nobody.data == [], nobody.data)

    other = refused(lambda: anonymous.table("sesions").select("id").execute())
    check("a mistyped table is PGRST205", other.code == "PGRST205", other)
    print("supabase-py: every check passed")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as failure:
        print(f"FAILED: {failure}")
        sys.exit(1)
