"""Verifies a JWT the way a Python service does with PyJWT: the key comes from the auth server's
JWKS through PyJWKClient, picked by the token's kid.

usage: pyjwt_verify.py JWKS_URL TOKEN AUDIENCE
prints {"claims": {...}} when the token verifies, {"error": "Type: message"} when it does not;
exits non-zero only when the script itself cannot run.
"""

import json
import sys

import jwt


def main() -> None:
    jwks_url, token, audience = sys.argv[1:4]
    try:
        client = jwt.PyJWKClient(jwks_url, cache_jwk_set=False)
        key = client.get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token, key.key, algorithms=["ES256", "RS256"], audience=audience
        )
        print(json.dumps({"claims": claims}))
    except jwt.PyJWTError as error:
        print(json.dumps({"error": f"{type(error).__name__}: {error}"}))


if __name__ == "__main__":
    main()
