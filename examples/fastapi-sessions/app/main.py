"""POST /api/session/create: the seed's route (the debrief's section 5) in Python, with FastAPI and
supabase-py.

Every request gets its own client, created with the project's anon key and the caller's token as
its Authorization header (the canonical request-scoped client): PostgREST then runs the insert as
that user, and row-level security lets the row in. The cookie a tool may add is never read.

SESSIONS_CLIENT=anon switches to the debrief's flaw (failure 4): one client made with the anon key
alone. It validates the token fine (`get_user(jwt)` sends it), but its insert runs as anon, and
row-level security refuses the row.

Every failure says what it is: a token that is missing or refused is 401; an auth server or data
API that cannot be reached is 503 with Retry-After; anything else is 500 with the cause's words.
"""

import logging
import os

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from postgrest.exceptions import APIError
from supabase import Client, ClientOptions, create_client
from supabase_auth.errors import AuthApiError, AuthRetryableError

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
log = logging.getLogger("sessions")
# uvicorn prints its access log on stdout, and everything else goes to stderr: lines of two pipes
# may be read out of order, so the access log joins the rest on stderr, in the order written.
access = logging.getLogger("uvicorn.access")
access.handlers.clear()
access.propagate = True

SUPABASE_URL = os.environ["SUPABASE_URL"]
SUPABASE_ANON_KEY = os.environ["SUPABASE_ANON_KEY"]
CLIENT = os.environ.get("SESSIONS_CLIENT", "request-scoped")
if CLIENT not in ("request-scoped", "anon"):
    raise SystemExit(f"SESSIONS_CLIENT must be request-scoped or anon, not {CLIENT!r}")

# The flawed variant's one client for every request, with no user in it.
anon_client: Client | None = (
    create_client(SUPABASE_URL, SUPABASE_ANON_KEY) if CLIENT == "anon" else None
)

app = FastAPI()
log.info("sessions client: %s", CLIENT)


def client_for(jwt: str) -> Client:
    if anon_client is not None:
        return anon_client
    return create_client(
        SUPABASE_URL,
        SUPABASE_ANON_KEY,
        ClientOptions(headers={"Authorization": f"Bearer {jwt}"}),
    )


def unauthorized(message: str) -> JSONResponse:
    return JSONResponse(
        {"error": f"Unauthorized: {message}"},
        status_code=401,
        headers={"WWW-Authenticate": "Bearer"},
    )


def unavailable(what: str) -> JSONResponse:
    return JSONResponse(
        {"error": f"{what} is unavailable. Try again shortly."},
        status_code=503,
        headers={"Retry-After": "5"},
    )


def is_outage(sqlstate: str) -> bool:
    return len(sqlstate) == 5 and sqlstate[:2] in ("08", "53", "57")


@app.get("/health")
def health() -> dict:
    return {"ok": True}


@app.post("/api/session/create")
def create_session(request: Request):
    header = request.headers.get("authorization", "")
    if not header.startswith("Bearer ") or not header.removeprefix("Bearer ").strip():
        log.info("refused: no Bearer token in the Authorization header")
        return unauthorized("No valid Bearer token found in Authorization header.")
    jwt = header.removeprefix("Bearer ").strip()
    supabase = client_for(jwt)

    try:
        response = supabase.auth.get_user(jwt)
    except AuthRetryableError as error:
        log.error("the auth server could not answer: %s", error)
        return unavailable("The auth server")
    except AuthApiError as error:
        # supabase-py raises AuthRetryableError for 502-504 only: a 500 (its database gone,
        # say) is the auth server failing, not the token.
        if error.status >= 500:
            log.error("the auth server failed: %s %s", error.status, error.message)
            return unavailable("The auth server")
        log.info("refused: the auth server rejected the token (%s %s)", error.status, error.code)
        return unauthorized("Invalid token.")
    user = response.user if response else None
    if user is None:
        return unauthorized("Invalid token.")

    log.info("Client authenticated for user %s. Creating session...", user.id)
    try:
        result = (
            supabase.table("sessions").insert({"user_id": user.id, "turn_count": 0}).execute()
        )
    except httpx.HTTPError as error:
        log.error("the data API could not be reached: %s", type(error).__name__)
        return unavailable("The database")
    except APIError as error:
        # PostgREST names every error it makes (PGRST000-003: the database is unreachable);
        # an error with no code was made by the gateway in front of it (upstream down). The
        # rest are PostgreSQL's SQLSTATEs, and classes 08 (connection), 53 (resources) and 57
        # (operator intervention: a restart's 57P01 ends the request's backend) are outages
        # too, which PostgREST answers with 503.
        if error.code is None or error.code.startswith("PGRST00") or is_outage(error.code):
            log.error("the data API could not answer: %s", error.message)
            return unavailable("The database")
        log.error("the insert was refused: %s (%s)", error.message, error.code)
        return JSONResponse(
            {"error": f"Failed to create session: {error.message}"}, status_code=500
        )

    if not result.data:
        log.error("the insert returned no row")
        return JSONResponse(
            {"error": "Failed to create session: the insert returned no session id."},
            status_code=500,
        )
    session_id = result.data[0]["id"]
    log.info("SUCCESS: Session %s created for user %s.", session_id, user.id)
    return {"sessionId": session_id}
