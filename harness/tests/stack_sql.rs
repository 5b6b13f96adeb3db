//! The database a stack boots is the supabase/postgres one: its roles, the auth helpers that read
//! PostgREST's claims GUC, and the app's row-level security, exercised through real connections.

use harness::Stack;
use sqlx::{Connection, Executor, PgConnection, Row};
use uuid::Uuid;

const RLS_VIOLATION: &str = r#"new row violates row-level security policy for table "sessions""#;

async fn superuser(stack: &Stack) -> PgConnection {
    PgConnection::connect(stack.db_url())
        .await
        .expect("connect as supabase_admin")
}

/// Seeds a confirmed user the way GoTrue stores one (its token columns must be '', not NULL).
async fn insert_user(conn: &mut PgConnection, email: &str) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query(
        "insert into auth.users (instance_id, id, aud, role, email, encrypted_password,
             confirmation_token, recovery_token, email_change_token_new, email_change,
             email_confirmed_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
         values ('00000000-0000-0000-0000-000000000000', $1, 'authenticated', 'authenticated', $2,
             '', '', '', '', '', now(), '{\"provider\":\"email\",\"providers\":[\"email\"]}', '{}',
             now(), now())",
    )
    .bind(id)
    .bind(email)
    .execute(conn)
    .await
    .expect("insert a user into auth.users");
    id
}

/// Opens a transaction as PostgREST does for a request: the role, then the claims.
async fn act_as(conn: &mut PgConnection, role: &str, sub: Option<Uuid>) {
    let claims = match sub {
        Some(sub) => serde_json::json!({ "sub": sub, "role": role, "aud": "authenticated" }),
        None => serde_json::json!({ "role": role }),
    };
    conn.execute("begin").await.unwrap();
    sqlx::query("select set_config('role', $1, true), set_config('request.jwt.claims', $2, true)")
        .bind(role)
        .bind(claims.to_string())
        .execute(&mut *conn)
        .await
        .expect("switch role and set claims");
}

fn sqlstate_and_message(err: &sqlx::Error) -> (String, String) {
    let db = err
        .as_database_error()
        .unwrap_or_else(|| panic!("expected a database error, got {err}"));
    (
        db.code().unwrap_or_default().into_owned(),
        db.message().to_owned(),
    )
}

#[tokio::test]
async fn roles_have_the_supabase_attributes() {
    let stack = Stack::start().await.expect("stack starts");
    let mut conn = superuser(&stack).await;
    let rows = sqlx::query(
        "select rolname, rolcanlogin, rolinherit, rolbypassrls, rolsuper from pg_roles
         where rolname in ('anon', 'authenticated', 'service_role', 'authenticator',
                           'supabase_auth_admin', 'postgres', 'supabase_admin')
         order by rolname",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let attrs: Vec<(String, bool, bool, bool, bool)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect();
    let expected = [
        // name, login, inherit, bypassrls, superuser
        ("anon", false, true, false, false),
        ("authenticated", false, true, false, false),
        ("authenticator", true, false, false, false),
        ("postgres", true, true, true, false),
        ("service_role", false, true, true, false),
        ("supabase_admin", true, true, true, true),
        ("supabase_auth_admin", true, false, false, false),
    ];
    let expected: Vec<_> = expected
        .iter()
        .map(|(n, a, b, c, d)| (n.to_string(), *a, *b, *c, *d))
        .collect();
    assert_eq!(attrs, expected);

    let members: Vec<String> = sqlx::query_scalar(
        "select r.rolname::text from pg_auth_members m
           join pg_roles r on r.oid = m.roleid join pg_roles u on u.oid = m.member
         where u.rolname = 'authenticator' order by 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(members, ["anon", "authenticated", "service_role"]);

    let owner: String = sqlx::query_scalar(
        "select nspowner::regrole::text from pg_namespace where nspname = 'auth'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(owner, "supabase_auth_admin");
    let config: Vec<String> = sqlx::query_scalar(
        "select unnest(rolconfig) from pg_roles where rolname = 'supabase_auth_admin'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert!(
        config.contains(&"search_path=auth".to_owned()),
        "{config:?}"
    );
}

#[tokio::test]
async fn login_roles_authenticate_with_the_password_postgres() {
    let stack = Stack::start().await.expect("stack starts");
    for role in [
        "supabase_admin",
        "postgres",
        "authenticator",
        "supabase_auth_admin",
    ] {
        let mut conn = PgConnection::connect(&stack.role_db_url(role))
            .await
            .unwrap_or_else(|e| panic!("{role} logs in over TCP with the password postgres: {e}"));
        let user: String = sqlx::query_scalar("select current_user::text")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(user, role);
    }
    let wrong = stack.db_url().replace(":postgres@", ":wrong@");
    let err = PgConnection::connect(&wrong)
        .await
        .expect_err("a wrong password is refused");
    assert_eq!(sqlstate_and_message(&err).0, "28P01");
}

#[tokio::test]
async fn auth_helpers_read_the_request_claims() {
    let stack = Stack::start().await.expect("stack starts");
    let mut conn = PgConnection::connect(&stack.authenticator_db_url())
        .await
        .unwrap();
    let user = Uuid::new_v4();
    act_as(&mut conn, "authenticated", Some(user)).await;
    let row =
        sqlx::query("select auth.uid(), auth.role(), auth.jwt() ->> 'sub', current_user::text")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(row.get::<Option<Uuid>, _>(0), Some(user));
    assert_eq!(
        row.get::<Option<String>, _>(1).as_deref(),
        Some("authenticated")
    );
    assert_eq!(row.get::<Option<String>, _>(2), Some(user.to_string()));
    assert_eq!(row.get::<String, _>(3), "authenticated");
    conn.execute("commit").await.unwrap();

    // After the transaction the role and claims are gone, as between PostgREST requests, and
    // authenticator itself may not even look into schema auth.
    let row = sqlx::query("select current_user::text, current_setting('request.jwt.claims', true)")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(row.get::<String, _>(0), "authenticator");
    assert_eq!(row.get::<Option<String>, _>(1).unwrap_or_default(), "");
    let err = sqlx::query("select auth.uid()")
        .fetch_one(&mut conn)
        .await
        .expect_err("no USAGE on auth");
    assert_eq!(
        sqlstate_and_message(&err),
        (
            "42501".to_owned(),
            "permission denied for schema auth".to_owned()
        )
    );
}

#[tokio::test]
async fn users_insert_and_read_only_their_own_sessions() {
    let stack = Stack::start().await.expect("stack starts");
    let mut admin = superuser(&stack).await;
    let a = insert_user(&mut admin, "a@example.com").await;
    let b = insert_user(&mut admin, "b@example.com").await;
    sqlx::query("insert into public.sessions (user_id) values ($1)")
        .bind(b)
        .execute(&mut admin)
        .await
        .unwrap();

    let mut conn = PgConnection::connect(&stack.authenticator_db_url())
        .await
        .unwrap();
    act_as(&mut conn, "authenticated", Some(a)).await;
    for _ in 0..2 {
        sqlx::query("insert into public.sessions (user_id) values ($1)")
            .bind(a)
            .execute(&mut conn)
            .await
            .expect("A inserts A's session");
    }
    let owners: Vec<Uuid> = sqlx::query_scalar("select user_id from public.sessions")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(owners, [a, a], "A sees exactly A's two rows, not B's");

    let err = sqlx::query("insert into public.sessions (user_id) values ($1)")
        .bind(b)
        .execute(&mut conn)
        .await
        .expect_err("A cannot insert a session for B");
    assert_eq!(
        sqlstate_and_message(&err),
        ("42501".to_owned(), RLS_VIOLATION.to_owned())
    );
    conn.execute("rollback").await.unwrap();
}

#[tokio::test]
async fn anon_sees_nothing_and_cannot_insert() {
    let stack = Stack::start().await.expect("stack starts");
    let mut admin = superuser(&stack).await;
    let a = insert_user(&mut admin, "a@example.com").await;
    sqlx::query("insert into public.sessions (user_id) values ($1)")
        .bind(a)
        .execute(&mut admin)
        .await
        .unwrap();

    let mut conn = PgConnection::connect(&stack.authenticator_db_url())
        .await
        .unwrap();
    act_as(&mut conn, "anon", None).await;
    let visible: i64 = sqlx::query_scalar("select count(*) from public.sessions")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(visible, 0);
    let err = sqlx::query("insert into public.sessions (user_id) values ($1)")
        .bind(a)
        .execute(&mut conn)
        .await
        .expect_err("anon cannot insert");
    assert_eq!(
        sqlstate_and_message(&err),
        ("42501".to_owned(), RLS_VIOLATION.to_owned())
    );
}
