"""What a Python backend does with supabase-py against a project URL, given only the new API keys:
the publishable key for users (sign up, sign in, a request-scoped insert through the data API),
the secret key for the admin API.

usage: supabase_py_flow.py API_URL PUBLISHABLE_KEY SECRET_KEY EMAIL PASSWORD
prints one JSON object of what each call returned; any failure raises (non-zero exit, traceback
on stderr), so the calling test shows supabase-py's own error.
"""

import json
import sys

from supabase import create_client


def main() -> None:
    api_url, publishable, secret, email, password = sys.argv[1:6]
    out = {}

    users = create_client(api_url, publishable)
    signed_up = users.auth.sign_up({"email": email, "password": password})
    out["signed_up"] = signed_up.user.id
    signed_in = users.auth.sign_in_with_password({"email": email, "password": password})
    user_id = signed_in.user.id
    out["access_token"] = signed_in.session.access_token
    # After sign-in the client sends the user's token, not the key: RLS sees the user.
    inserted = users.table("sessions").insert({"user_id": user_id}).execute()
    out["inserted"] = inserted.data
    out["own_rows"] = users.table("sessions").select("id,user_id").execute().data
    out["get_user"] = users.auth.get_user().user.email

    anonymous = create_client(api_url, publishable)
    out["anon_rows"] = anonymous.table("sessions").select("id").execute().data

    admin = create_client(api_url, secret)
    out["admin_listed"] = [user.email for user in admin.auth.admin.list_users()]
    out["admin_get"] = admin.auth.admin.get_user_by_id(user_id).user.email
    rows = admin.table("sessions").select("user_id").eq("user_id", user_id).execute()
    out["service_rows"] = rows.data
    admin.auth.admin.delete_user(user_id)
    out["deleted"] = user_id
    print(json.dumps(out))


if __name__ == "__main__":
    main()
