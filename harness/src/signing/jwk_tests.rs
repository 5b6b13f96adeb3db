use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::*;

pub(crate) fn fixture(name: &str) -> String {
    let path = format!(
        "{}/testdata/signing_keys/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn bytes(field: &Option<String>) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(field.as_deref().expect("field present"))
        .unwrap()
}

#[test]
fn the_cli_key_serialises_as_supabase_start_passes_it_to_gotrue() {
    let key = SigningJwk::cli_default();
    assert_eq!(key.kid(), CLI_KID);
    assert_eq!(
        serde_json::to_string(&key).unwrap(),
        r#"{"kty":"EC","kid":"b81269f1-21d8-4f2e-b719-c2240a840d90","use":"sig","key_ops":["sign","verify"],"alg":"ES256","ext":true,"d":"dIhR8wywJlqlua4y_yMq2SLhlFXDZJBCvFrY1DCHyVU","crv":"P-256","x":"M5Sjqn5zwC9Kl1zVfUUGvv9boQjCGd45G8sdopBExB4","y":"P6IXMvA2WYXSHSOMTBH2jsw_9rrzGy89FjPf6oOsIxQ"}"#
    );
    let signer = key.signer().unwrap();
    assert_eq!(signer.alg(), jsonwebtoken::Algorithm::ES256);
    assert_eq!(signer.kid(), Some(CLI_KID));
}

#[test]
fn generated_keys_look_like_gen_signing_key_output_and_sign() {
    let es = SigningJwk::generate(KeyAlgorithm::Es256).unwrap();
    assert!(uuid::Uuid::parse_str(es.kid()).is_ok(), "{}", es.kid());
    assert_eq!(
        (es.kty.as_str(), es.crv.as_deref(), es.alg.as_deref()),
        ("EC", Some("P-256"), Some("ES256"))
    );
    assert_eq!(es.key_ops, ["sign", "verify"]);
    assert_eq!((es.use_.as_deref(), es.ext), (Some("sig"), Some(true)));
    assert_eq!(bytes(&es.x).len(), 32);
    assert_eq!(bytes(&es.d).len(), 32);
    es.signer().unwrap();

    let rs = SigningJwk::generate(KeyAlgorithm::Rs256).unwrap();
    assert_eq!(rs.kty, "RSA");
    assert_eq!(bytes(&rs.n).len(), 256, "2048 bits");
    assert_eq!(bytes(&rs.e), [1, 0, 1]);
    for field in [&rs.d, &rs.p, &rs.q, &rs.dp, &rs.dq, &rs.qi] {
        assert!(
            field.is_some(),
            "every private parameter, as the CLI writes them"
        );
    }
    assert_eq!(rs.signer().unwrap().alg(), jsonwebtoken::Algorithm::RS256);
    assert_ne!(
        es.kid(),
        SigningJwk::generate(KeyAlgorithm::Es256).unwrap().kid()
    );
}

#[test]
fn the_public_form_is_the_clis_to_public_jwk() {
    let public = SigningJwk::cli_default().public();
    assert_eq!(
        serde_json::to_string(&public).unwrap(),
        r#"{"kty":"EC","kid":"b81269f1-21d8-4f2e-b719-c2240a840d90","use":"sig","key_ops":["verify"],"alg":"ES256","ext":true,"crv":"P-256","x":"M5Sjqn5zwC9Kl1zVfUUGvv9boQjCGd45G8sdopBExB4","y":"P6IXMvA2WYXSHSOMTBH2jsw_9rrzGy89FjPf6oOsIxQ"}"#
    );
    let rs = SigningJwk::generate(KeyAlgorithm::Rs256).unwrap().public();
    assert!(rs.d.is_none() && rs.p.is_none() && rs.qi.is_none());
    assert!(rs.n.is_some() && rs.e.is_some());
}

#[test]
fn the_public_key_pem_is_spki() {
    let pem = SigningJwk::cli_default().public_key_pem().unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");
    let rsa = SigningJwk::generate(KeyAlgorithm::Rs256)
        .unwrap()
        .public_key_pem()
        .unwrap();
    assert!(rsa.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{rsa}");
    assert!(rsa.len() > pem.len());
}

#[test]
fn signing_keys_files_are_read_as_the_cli_reads_them() {
    let keys = parse_signing_keys(&fixture("in_use_and_standby.json"), "keys.json").unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[1].alg.as_deref(), Some("RS256"));
    // Fields the CLI's struct does not have are dropped, as Go's encoding/json drops them.
    let extra = r#"[{"kty":"EC","kid":"k","alg":"ES256","crv":"P-256","x":"a","y":"b","d":"c","x5c":["…"]}]"#;
    let parsed = parse_signing_keys(extra, "extra.json").unwrap();
    assert!(!serde_json::to_string(&parsed).unwrap().contains("x5c"));
}

#[test]
fn oct_keys_and_broken_files_are_refused_with_the_file_named() {
    let error = parse_signing_keys(&fixture("oct.json"), "supabase/signing_keys.json")
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("supabase/signing_keys.json: failed to decode signing keys: key 1"),
        "{error}"
    );
    assert!(error.contains("must be one of [RS256 ES256]"), "{error}");
    let error = parse_signing_keys(&fixture("oct_without_alg.json"), "f.json")
        .unwrap_err()
        .to_string();
    assert!(error.contains("an oct key"), "{error}");
    let error = parse_signing_keys(&fixture("not_json.txt"), "f.json")
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("f.json: failed to decode signing keys: "),
        "{error}"
    );
}

#[test]
fn debug_output_never_shows_private_parameters() {
    let shown = format!("{:?}", SigningJwk::cli_default());
    assert!(!shown.contains("dIhR8wyw"), "{shown}");
    assert!(shown.contains(CLI_KID));
}
