use super::*;
use crate::signing::jwk::tests::fixture;
use crate::signing::{CLI_KID, KeyAlgorithm, KeyState, PUBLISHABLE_KEY, SECRET_KEY};

const ISSUER: &str = "http://127.0.0.1:54321/auth/v1";
const CLI_ANON_KEY: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0";
/// base64url of the CLI's JWT secret's bytes.
const SECRET_K: &str = "c3VwZXItc2VjcmV0LWp3dC10b2tlbi13aXRoLWF0LWxlYXN0LTMyLWNoYXJhY3RlcnMtbG9uZw";

fn names(env: &[(String, String)]) -> Vec<&str> {
    env.iter().map(|(name, _)| name.as_str()).collect()
}

fn value<'a>(env: &'a [(String, String)], name: &str) -> &'a str {
    &env.iter().find(|(n, _)| n == name).unwrap().1
}

#[test]
fn the_cli_profile_is_what_supabase_start_configures() {
    let keys = ProjectKeys::cli();
    let env = keys.auth_env(ISSUER);
    assert_eq!(
        names(&env),
        [
            "GOTRUE_JWT_SECRET",
            "GOTRUE_JWT_KEYS",
            "GOTRUE_JWT_VALIDMETHODS",
            "GOTRUE_JWT_VALID_METHODS",
            "GOTRUE_JWT_ISSUER"
        ]
    );
    assert_eq!(value(&env, "GOTRUE_JWT_SECRET"), JWT_SECRET);
    assert_eq!(
        value(&env, "GOTRUE_JWT_KEYS"),
        format!(
            "[{}]",
            serde_json::to_string(&SigningJwk::cli_default()).unwrap()
        )
    );
    assert_eq!(value(&env, "GOTRUE_JWT_VALID_METHODS"), "HS256,RS256,ES256");
    assert_eq!(value(&env, "GOTRUE_JWT_ISSUER"), ISSUER);
    assert_eq!(keys.anon_key(), CLI_ANON_KEY);
    assert_eq!(keys.publishable_key(), Some(PUBLISHABLE_KEY));
    assert_eq!(keys.secret_key(), Some(SECRET_KEY));
    assert_eq!(
        keys.output_env(),
        [
            ("PUBLISHABLE_KEY".to_owned(), PUBLISHABLE_KEY.to_owned()),
            ("SECRET_KEY".to_owned(), SECRET_KEY.to_owned())
        ]
    );
    assert_eq!(
        keys.postgrest_jwt_secret(),
        format!(
            r#"{{"keys":[{{"kty":"EC","kid":"{CLI_KID}","use":"sig","key_ops":["verify"],"alg":"ES256","ext":true,"crv":"P-256","x":"M5Sjqn5zwC9Kl1zVfUUGvv9boQjCGd45G8sdopBExB4","y":"P6IXMvA2WYXSHSOMTBH2jsw_9rrzGy89FjPf6oOsIxQ"}},{{"kty":"oct","k":"{SECRET_K}"}}]}}"#
        )
    );
}

#[test]
fn the_legacy_profile_has_the_secret_and_nothing_else() {
    let keys = ProjectKeys::legacy();
    let env = keys.auth_env(ISSUER);
    assert_eq!(names(&env), ["GOTRUE_JWT_SECRET", "GOTRUE_JWT_ISSUER"]);
    assert!(keys.key_set().is_empty());
    assert_eq!(keys.anon_key(), CLI_ANON_KEY);
    assert_eq!(keys.publishable_key(), None);
    assert!(keys.output_env().is_empty());
    assert_eq!(
        keys.postgrest_jwt_secret(),
        format!(r#"{{"keys":[{{"kty":"oct","k":"{SECRET_K}"}}]}}"#)
    );
}

#[test]
fn a_signing_keys_file_signs_the_api_keys_and_leaves_the_secret_out_of_postgrest() {
    let text = fixture("in_use_and_standby.json");
    let keys =
        ProjectKeys::from_signing_keys_json(&text, "signing_keys.json", 1_700_000_000).unwrap();
    let parsed = crate::signing::parse_signing_keys(&text, "f").unwrap();
    let env = keys.auth_env(ISSUER);
    assert_eq!(
        value(&env, "GOTRUE_JWT_KEYS"),
        serde_json::to_string(&parsed).unwrap(),
        "the CLI re-serialises the file compactly"
    );
    let header = jsonwebtoken::decode_header(keys.anon_key()).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
    assert_eq!(header.kid.as_deref(), Some(parsed[0].kid()));
    let jwks: serde_json::Value = serde_json::from_str(&keys.postgrest_jwt_secret()).unwrap();
    let kinds: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kty"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["EC", "RSA"], "no oct key with a signing-keys file");
    assert_eq!(
        keys.key_set().state(parsed[1].kid()),
        Some(KeyState::Standby)
    );
    assert_eq!(keys.publishable_key(), Some(PUBLISHABLE_KEY));
}

#[test]
fn a_file_gotrue_would_refuse_is_refused_when_loaded() {
    let error = ProjectKeys::from_signing_keys_json(
        &fixture("appended_twice.json"),
        "signing_keys.json",
        0,
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.starts_with("signing_keys.json: GoTrue would not start with these keys: multiple signing keys detected"),
        "{error}"
    );
    let missing = std::path::Path::new("/nonexistent/signing_keys.json");
    let error = ProjectKeys::from_signing_keys_file(missing, 0)
        .unwrap_err()
        .to_string();
    assert!(error.contains("/nonexistent/signing_keys.json"), "{error}");
}

#[test]
fn profiles_parse_from_their_names_or_a_path() {
    assert_eq!(KeyProfile::parse("cli"), KeyProfile::Cli);
    assert_eq!(KeyProfile::parse("legacy"), KeyProfile::Legacy);
    assert_eq!(
        KeyProfile::parse("supabase/signing_keys.json"),
        KeyProfile::SigningKeysFile("supabase/signing_keys.json".into())
    );
    assert_eq!(
        KeyProfile::Cli.load(0).unwrap().anon_key(),
        ProjectKeys::cli().anon_key()
    );
    let path = format!(
        "{}/testdata/signing_keys/es256.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let from_file = KeyProfile::parse(&path).load(1_700_000_000).unwrap();
    let in_use = from_file.key_set().in_use().unwrap();
    assert_eq!(in_use.alg.as_deref(), Some("ES256"));
    assert_eq!(
        jsonwebtoken::decode_header(from_file.service_role_key())
            .unwrap()
            .kid
            .as_deref(),
        Some(in_use.kid())
    );
}

#[test]
fn a_rotated_key_set_changes_what_gotrue_and_postgrest_get() {
    let keys = ProjectKeys::cli();
    let mut set = keys.key_set().clone();
    let next = set.add_standby(KeyAlgorithm::Es256).unwrap();
    set.promote(&next).unwrap();
    set.revoke(CLI_KID).unwrap();
    let rotated = keys.with_key_set(set);
    let env = rotated.auth_env(ISSUER);
    assert!(!value(&env, "GOTRUE_JWT_KEYS").contains(CLI_KID));
    assert!(value(&env, "GOTRUE_JWT_KEYS").contains(&next));
    assert!(!rotated.postgrest_jwt_secret().contains(CLI_KID));
    assert_eq!(
        rotated.anon_key(),
        CLI_ANON_KEY,
        "API keys do not rotate with signing keys"
    );
}

#[test]
fn profiles_have_names_and_parse_back() {
    assert_eq!(KeyProfile::parse("cli").name(), "cli");
    assert_eq!(KeyProfile::parse("legacy").to_string(), "legacy");
    let file = KeyProfile::parse("supabase/signing_keys.json");
    assert_eq!(file.name(), "file");
    assert_eq!(file.to_string(), "file supabase/signing_keys.json");
    assert_eq!(KeyProfile::default(), KeyProfile::Cli);
}

#[test]
fn each_profile_says_which_algorithm_it_issues_and_gotrues_words_for_a_bad_signature() {
    let cli = ProjectKeys::cli();
    assert_eq!(
        (cli.issued_alg(), cli.issued_bad_signature()),
        ("ES256", "crypto/ecdsa: verification error")
    );
    let legacy = ProjectKeys::legacy();
    assert_eq!(
        (legacy.issued_alg(), legacy.issued_bad_signature()),
        ("HS256", "signature is invalid")
    );
    let rsa = KeySet::new(SigningJwk::generate(KeyAlgorithm::Rs256).unwrap());
    let rsa = ProjectKeys::cli().with_key_set(rsa);
    assert_eq!(rsa.issued_bad_signature(), "crypto/rsa: verification error");
}

#[test]
fn a_legacy_projects_first_rotation_starts_from_its_secret_as_a_key() {
    let legacy = ProjectKeys::legacy();
    let mut set = legacy.rotatable_key_set();
    let secret = set.in_use().unwrap().clone();
    assert_eq!(
        (secret.kty.as_str(), secret.alg.as_deref()),
        ("oct", Some("HS256"))
    );
    assert_eq!(
        secret.k.as_deref(),
        Some(SECRET_K),
        "the secret's own bytes"
    );
    assert!(
        set.jwks().unwrap()["keys"].as_array().unwrap().is_empty(),
        "never published"
    );
    let next = set.add_standby(KeyAlgorithm::Es256).unwrap();
    set.promote(&next).unwrap();
    let upgraded = legacy.with_key_set(set);
    assert_eq!(upgraded.issued_alg(), "ES256");
    // GoTrue starts with it: exactly one signing key, the secret verify-only beside it.
    auth::jwt_keys::JwtKeys::from_settings(
        upgraded.jwt_secret(),
        None,
        Some(&upgraded.key_set().gotrue_jwt_keys()),
        Some(CLI_VALID_METHODS),
    )
    .unwrap();
    // PostgREST keeps the imported secret's kid (it matches kids), and the kid-less secret.
    let jwks: serde_json::Value = serde_json::from_str(&upgraded.postgrest_jwt_secret()).unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 3, "{jwks}");
    assert_eq!(
        keys[0],
        serde_json::json!({"kty": "oct", "kid": secret.kid(), "k": SECRET_K})
    );
    assert_eq!(keys[1]["kid"], next.as_str());
    assert_eq!(keys[2], serde_json::json!({"kty": "oct", "k": SECRET_K}));
    // A project that has keys rotates them as they are.
    assert_eq!(
        ProjectKeys::cli()
            .rotatable_key_set()
            .in_use()
            .unwrap()
            .kid(),
        CLI_KID
    );
}
