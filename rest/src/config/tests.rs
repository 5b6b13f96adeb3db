use super::*;

const SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters";

fn parse(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    Config::from_pairs(pairs.iter().map(|(k, v)| (*k, *v)))
}

#[test]
fn defaults_are_postgrest_defaults() {
    let c = parse(&[]).unwrap();
    assert_eq!(c.db_uri, "postgresql://");
    assert_eq!(c.db_schemas, ["public"]);
    assert_eq!(c.db_anon_role, None);
    assert_eq!(c.db_pool, 10);
    assert_eq!(c.db_pool_acquisition_timeout, Duration::from_secs(10));
    assert_eq!(c.db_extra_search_path, ["public"]);
    assert_eq!(c.db_max_rows, None);
    assert_eq!(c.db_channel, "pgrst");
    assert!(c.db_channel_enabled);
    assert!(c.db_config);
    assert!(c.jwt_keys.is_none());
    assert_eq!(c.jwt_role_claim_key, JsPath::role());
    assert_eq!(c.server_host, "0.0.0.0");
    assert_eq!(c.server_port, 3000);
    assert_eq!(c.admin_server_port, None);
    assert_eq!(c.log_level, LogLevel::Error);
    assert_eq!(c.server_cors_allowed_origins, None);
    assert_eq!(c.openapi_mode, OpenApiMode::FollowPrivileges);
}

#[test]
fn reads_every_supported_variable() {
    let c = parse(&[
        (
            "PGRST_DB_URI",
            "postgres://authenticator:pw@db:5432/postgres",
        ),
        ("PGRST_DB_SCHEMAS", "public, storage,graphql_public"),
        ("PGRST_DB_ANON_ROLE", "anon"),
        ("PGRST_DB_POOL", "3"),
        ("PGRST_DB_POOL_ACQUISITION_TIMEOUT", "2"),
        ("PGRST_DB_EXTRA_SEARCH_PATH", "public,extensions"),
        ("PGRST_DB_MAX_ROWS", "1000"),
        ("PGRST_DB_CHANNEL", "other"),
        ("PGRST_DB_CHANNEL_ENABLED", "false"),
        ("PGRST_DB_CONFIG", "false"),
        ("PGRST_JWT_SECRET", SECRET),
        ("PGRST_JWT_AUD", "authenticated"),
        ("PGRST_JWT_ROLE_CLAIM_KEY", ".app.role"),
        ("PGRST_SERVER_HOST", "127.0.0.1"),
        ("PGRST_SERVER_PORT", "3001"),
        ("PGRST_ADMIN_SERVER_PORT", "3002"),
        ("PGRST_LOG_LEVEL", "info"),
        (
            "PGRST_SERVER_CORS_ALLOWED_ORIGINS",
            "http://a.test, http://b.test",
        ),
        ("PGRST_OPENAPI_MODE", "disabled"),
        ("PGRST_APP_SETTINGS_JWT_EXP", "3600"),
        ("PGRST_DB_USE_LEGACY_GUCS", "false"),
    ])
    .unwrap();
    assert_eq!(c.db_schemas, ["public", "storage", "graphql_public"]);
    assert_eq!(c.db_anon_role.as_deref(), Some("anon"));
    assert_eq!(c.db_pool, 3);
    assert_eq!(c.db_pool_acquisition_timeout, Duration::from_secs(2));
    assert_eq!(c.db_extra_search_path, ["public", "extensions"]);
    assert_eq!(c.db_max_rows, Some(1000));
    assert_eq!(c.db_channel, "other");
    assert!(!c.db_channel_enabled);
    assert!(!c.db_config);
    assert_eq!(c.jwt_keys.as_ref().map(KeySet::len), Some(1));
    assert_eq!(c.jwt_aud.as_deref(), Some("authenticated"));
    assert_eq!(c.jwt_role_claim_key, JsPath::parse(".app.role").unwrap());
    assert_eq!(c.listen_address(), "127.0.0.1:3001");
    assert_eq!(c.admin_server_port, Some(3002));
    assert_eq!(c.log_level, LogLevel::Info);
    assert_eq!(
        c.server_cors_allowed_origins,
        Some(vec!["http://a.test".to_owned(), "http://b.test".to_owned()])
    );
    assert_eq!(c.openapi_mode, OpenApiMode::Disabled);
    assert_eq!(c.app_settings, [("jwt_exp".to_owned(), "3600".to_owned())]);
}

#[test]
fn empty_values_count_as_unset() {
    let c = parse(&[
        ("PGRST_DB_ANON_ROLE", ""),
        ("PGRST_JWT_SECRET", ""),
        ("PGRST_DB_POOL", ""),
    ])
    .unwrap();
    assert_eq!(c.db_anon_role, None);
    assert!(c.jwt_keys.is_none());
    assert_eq!(c.db_pool, 10);
    // Except the extra search path, which may be emptied.
    let c = parse(&[("PGRST_DB_EXTRA_SEARCH_PATH", "")]).unwrap();
    assert!(c.db_extra_search_path.is_empty());
}

#[test]
fn bad_values_name_the_variable() {
    for (var, value) in [
        ("PGRST_DB_POOL", "many"),
        ("PGRST_DB_POOL", "0"),
        ("PGRST_SERVER_PORT", "70000"),
        ("PGRST_DB_CHANNEL_ENABLED", "sometimes"),
        ("PGRST_LOG_LEVEL", "loud"),
        ("PGRST_OPENAPI_MODE", "open"),
        ("PGRST_DB_TX_END", "maybe"),
        ("PGRST_JWT_ROLE_CLAIM_KEY", "role"),
        ("PGRST_DB_SCHEMAS", "public,pg_catalog"),
        ("PGRST_DB_MAX_ROWS", "-1"),
    ] {
        let err = parse(&[(var, value)]).unwrap_err();
        match &err {
            ConfigError::Invalid { var: v, .. } => assert_eq!(v, var, "{err}"),
            other => panic!("{var}={value}: expected Invalid, got {other:?}"),
        }
        assert!(err.to_string().contains(var), "{err}");
    }
}

#[test]
fn unimplemented_settings_refuse_to_start_unless_default() {
    let err = parse(&[("PGRST_DB_PRE_REQUEST", "public.check")]).unwrap_err();
    assert_eq!(
        err,
        ConfigError::Unsupported {
            var: "PGRST_DB_PRE_REQUEST".into(),
            value: "public.check".into()
        }
    );
    assert!(err.to_string().contains("PGRST_DB_PRE_REQUEST"));
    parse(&[
        ("PGRST_DB_AGGREGATES_ENABLED", "false"),
        ("PGRST_DB_PLAN_ENABLED", "false"),
    ])
    .unwrap();
    assert!(matches!(
        parse(&[("PGRST_DB_AGGREGATES_ENABLED", "true")]),
        Err(ConfigError::Unsupported { .. })
    ));
    assert!(matches!(
        parse(&[("PGRST_SERVER_TIMING_ENABLED", "true")]),
        Err(ConfigError::Unsupported { .. })
    ));
}

#[test]
fn short_passphrase_is_refused_without_echoing_it() {
    let err = parse(&[("PGRST_JWT_SECRET", "too-short")]).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("PGRST_JWT_SECRET") && text.contains("32"),
        "{text}"
    );
    assert!(!text.contains("too-short"), "{text}");
}

#[test]
fn secret_forms() {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(SECRET);
    let c = parse(&[
        ("PGRST_JWT_SECRET", &b64),
        ("PGRST_JWT_SECRET_IS_BASE64", "true"),
    ])
    .unwrap();
    assert_eq!(c.jwt_keys.unwrap().0[0].family, KeyFamily::Hmac);

    let k = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(SECRET);
    let jwks = format!(
        r#"{{"keys":[{{"kty":"oct","k":"{k}","kid":"legacy"}},
        {{"kty":"EC","crv":"P-256","kid":"ec1",
          "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
          "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}}]}}"#
    );
    let keys = parse(&[("PGRST_JWT_SECRET", &jwks)])
        .unwrap()
        .jwt_keys
        .unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys.0[0].kid.as_deref(), Some("legacy"));
    assert_eq!(keys.0[1].family, KeyFamily::Ec);

    let dir = std::env::temp_dir().join(format!("rest-secret-{}", std::process::id()));
    std::fs::write(&dir, SECRET).unwrap();
    let at = format!("@{}", dir.display());
    assert!(
        parse(&[("PGRST_JWT_SECRET", &at)])
            .unwrap()
            .jwt_keys
            .is_some()
    );
    std::fs::remove_file(&dir).unwrap();

    let err = parse(&[("PGRST_JWT_SECRET", "{not json")]).unwrap_err();
    assert!(err.to_string().contains("PGRST_JWT_SECRET"));
}

#[test]
fn in_database_settings_override_the_environment() {
    let base = parse(&[("PGRST_JWT_SECRET", SECRET), ("PGRST_DB_ANON_ROLE", "anon")]).unwrap();
    let other = "another-secret-that-is-at-least-32-characters";
    let c = base
        .with_db_settings(&[
            ("jwt_secret".into(), other.into()),
            ("db_anon_role".into(), "web_anon".into()),
            ("jwt_aud".into(), "app".into()),
            ("db_schemas".into(), "api,public".into()),
            ("jwt_role_claim_key".into(), ".r".into()),
            ("unknown_thing".into(), "x".into()),
        ])
        .unwrap();
    assert_eq!(c.db_anon_role.as_deref(), Some("web_anon"));
    assert_eq!(c.jwt_aud.as_deref(), Some("app"));
    assert_eq!(c.db_schemas, ["api", "public"]);
    assert_eq!(c.jwt_role_claim_key, JsPath::parse(".r").unwrap());
    // A bad in-database value is refused like a bad environment value.
    assert!(
        base.with_db_settings(&[("jwt_secret".into(), "short".into())])
            .is_err()
    );
}
