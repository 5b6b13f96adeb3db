//! The gateway's route table: the self-hosted `kong.yml`'s routes for the two services the stack
//! runs, each with `strip_path: true`, so `/rest/v1/todos?x` reaches the data API as `/todos?x`
//! and `/auth/v1/user` the auth server as `/user`.
//!
//! Prefixes match literally and the longest wins, as in Kong: `/rest/v1` without its slash
//! matches nothing. What matches nothing gets Kong's own 404 (`no Route matched with those
//! values`) instead of the self-hosted catch-all's dashboard basic-auth 401, which would tell a
//! mistyped URL as bad credentials.

/// Which server a route proxies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// The GoTrue-compatible auth server.
    Auth,
    /// The PostgREST-compatible data API.
    Rest,
}

impl Service {
    pub fn name(self) -> &'static str {
        match self {
            Service::Auth => "auth",
            Service::Rest => "rest",
        }
    }
}

/// One route of `kong.yml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub name: &'static str,
    pub prefix: &'static str,
    pub service: Service,
    /// The service URL's path, which the rest of the request path is appended to.
    pub service_path: &'static str,
    /// key-auth and the ACL (groups `admin` and `anon`) run on this route.
    pub keyed: bool,
}

/// Open routes first: an email link or an OAuth redirect carries no key, and a JWKS is public.
const ROUTES: &[Route] = &[
    open("auth-v1-open", "/auth/v1/verify", "/verify"),
    open("auth-v1-open-callback", "/auth/v1/callback", "/callback"),
    open("auth-v1-open-authorize", "/auth/v1/authorize", "/authorize"),
    open(
        "auth-v1-open-jwks",
        "/auth/v1/.well-known/jwks.json",
        "/.well-known/jwks.json",
    ),
    Route {
        name: "auth-v1-all",
        prefix: "/auth/v1/",
        service: Service::Auth,
        service_path: "/",
        keyed: true,
    },
    Route {
        name: "rest-v1-all",
        prefix: "/rest/v1/",
        service: Service::Rest,
        service_path: "/",
        keyed: true,
    },
];

const fn open(name: &'static str, prefix: &'static str, service_path: &'static str) -> Route {
    Route {
        name,
        prefix,
        service: Service::Auth,
        service_path,
        keyed: false,
    }
}

/// A matched route and the path the upstream sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    pub route: Route,
    pub upstream_path: String,
}

/// The route for `path` (without its query), longest prefix first; None when nothing matches.
pub fn route(path: &str) -> Option<Matched> {
    let route = ROUTES
        .iter()
        .filter(|route| path.starts_with(route.prefix))
        .max_by_key(|route| route.prefix.len())?;
    let rest = &path[route.prefix.len()..];
    let upstream_path = match (route.service_path.ends_with('/'), rest.strip_prefix('/')) {
        (true, Some(trimmed)) => format!("{}{trimmed}", route.service_path),
        _ => format!("{}{rest}", route.service_path),
    };
    Some(Matched {
        route: *route,
        upstream_path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_stripped_and_the_longest_wins() {
        let cases = [
            ("/rest/v1/sessions", Some(("rest-v1-all", "/sessions"))),
            ("/rest/v1/", Some(("rest-v1-all", "/"))),
            (
                "/rest/v1/rpc/add_them",
                Some(("rest-v1-all", "/rpc/add_them")),
            ),
            ("/auth/v1/user", Some(("auth-v1-all", "/user"))),
            ("/auth/v1/verify", Some(("auth-v1-open", "/verify"))),
            (
                "/auth/v1/verify/extra",
                Some(("auth-v1-open", "/verify/extra")),
            ),
            (
                "/auth/v1/.well-known/jwks.json",
                Some(("auth-v1-open-jwks", "/.well-known/jwks.json")),
            ),
            ("/rest/v1", None),
            ("/rest/v2/sessions", None),
            ("/api/session/create", None),
            ("/", None),
        ];
        for (path, expected) in cases {
            let got = route(path).map(|m| (m.route.name, m.upstream_path));
            let expected = expected.map(|(name, upstream)| (name, upstream.to_owned()));
            assert_eq!(got, expected, "{path}");
        }
    }

    #[test]
    fn only_the_open_auth_routes_skip_the_key() {
        assert!(!route("/auth/v1/callback").unwrap().route.keyed);
        assert!(!route("/auth/v1/authorize").unwrap().route.keyed);
        assert!(route("/auth/v1/token").unwrap().route.keyed);
        assert!(route("/rest/v1/x").unwrap().route.keyed);
        assert_eq!(route("/rest/v1/x").unwrap().route.service, Service::Rest);
    }
}
