use serde_json::{Value, json};

use super::*;

fn fixture(name: &str) -> Vec<Value> {
    let path = format!("{}/testdata/jwt_keys/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn first(name: &str) -> Value {
    fixture(name).remove(0)
}

/// `value` with `field` removed or replaced.
fn with(mut value: Value, field: &str, replacement: Option<Value>) -> Value {
    let object = value.as_object_mut().unwrap();
    match replacement {
        Some(v) => object.insert(field.into(), v),
        None => object.remove(field),
    };
    value
}

fn problem(value: Value) -> JwkProblem {
    Jwk::parse(&value).unwrap_err()
}

fn signer_problem(value: Value) -> JwkProblem {
    Jwk::parse(&value).unwrap().signer().unwrap_err()
}

#[test]
fn each_fixture_key_parses_with_its_kid_alg_and_type() {
    let keys: Vec<Jwk> = fixture("asymmetric.json")
        .iter()
        .map(|v| Jwk::parse(v).unwrap())
        .collect();
    assert_eq!(
        keys.iter()
            .map(|k| (k.kid(), k.alg(), k.kty(), k.signs()))
            .collect::<Vec<_>>(),
        [
            ("hs-legacy-0001", "HS256", "oct", false),
            ("6894a1d1-c95e-431c-b09c-fca6dc1003fe", "ES256", "EC", true),
        ]
    );
    let rsa = Jwk::parse(&first("gen_signing_key_rs256.json")).unwrap();
    assert_eq!((rsa.kty(), rsa.alg(), rsa.signs()), ("RSA", "RS256", true));
    let ed = Jwk::parse(&first("eddsa.json")).unwrap();
    assert_eq!((ed.kty(), ed.alg()), ("OKP", "EdDSA"));
}

#[test]
fn the_public_form_is_the_key_minus_private_parts_with_use_and_key_ops_forced_keys_sorted() {
    let cli = Jwk::parse(&first("cli_default.json")).unwrap();
    assert_eq!(
        serde_json::to_string(&cli.public_jwk().unwrap()).unwrap(),
        r#"{"alg":"ES256","crv":"P-256","ext":true,"key_ops":["verify"],"kid":"b81269f1-21d8-4f2e-b719-c2240a840d90","kty":"EC","use":"sig","x":"M5Sjqn5zwC9Kl1zVfUUGvv9boQjCGd45G8sdopBExB4","y":"P6IXMvA2WYXSHSOMTBH2jsw_9rrzGy89FjPf6oOsIxQ"}"#
    );
    let rsa = Jwk::parse(&first("gen_signing_key_rs256.json"))
        .unwrap()
        .public_jwk()
        .unwrap();
    let names: Vec<&str> = rsa.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["alg", "e", "ext", "key_ops", "kid", "kty", "n", "use"]
    );
    let ed = Jwk::parse(&first("eddsa.json"))
        .unwrap()
        .public_jwk()
        .unwrap();
    assert!(!ed.contains_key("d") && ed.contains_key("x"), "{ed:?}");
    // A KMS key's ARN is not published.
    let kms = with(
        first("cli_default.json"),
        "aws:kms:arn",
        Some(json!("arn:x")),
    );
    assert!(
        !Jwk::parse(&kms)
            .unwrap()
            .public_jwk()
            .unwrap()
            .contains_key("aws:kms:arn")
    );
}

#[test]
fn oct_keys_have_no_public_form_and_verify_with_their_bytes() {
    let oct = Jwk::parse(&first("oct.json")).unwrap();
    assert!(oct.public_jwk().is_none());
    let VerifyingKey::Secret(bytes) = oct.verifying_key() else {
        panic!("an oct key verifies with its bytes")
    };
    assert_eq!(bytes, b"an-oct-signing-key-that-is-32-bytes!");
}

#[test]
fn missing_required_fields_are_named_as_jwx_names_them() {
    // Without "d" an EC key is a public key, complete without it; the others are required.
    let ec = first("cli_default.json");
    for field in ["crv", "x", "y"] {
        assert_eq!(
            problem(with(ec.clone(), field, None)),
            JwkProblem::MissingField(field)
        );
    }
    let rsa = first("gen_signing_key_rs256.json");
    assert_eq!(
        problem(with(rsa.clone(), "n", None)),
        JwkProblem::MissingField("n")
    );
    assert_eq!(problem(with(rsa, "e", None)), JwkProblem::MissingField("e"));
    assert_eq!(
        problem(with(first("oct.json"), "k", None)),
        JwkProblem::MissingField("k")
    );
    assert_eq!(
        problem(with(first("eddsa.json"), "x", None)),
        JwkProblem::MissingField("x")
    );
    assert_eq!(
        problem(json!({"k": "abc"})),
        JwkProblem::InvalidKeyType("".into())
    );
    assert_eq!(
        problem(first("unknown_kty.json")).to_string(),
        "invalid key type from JSON (XYZ)"
    );
    assert_eq!(problem(json!("a string")), JwkProblem::NotAnObject);
}

#[test]
fn curves_and_lengths_are_checked() {
    let ec = first("cli_default.json");
    let short_x = URL_SAFE_NO_PAD.encode([7u8; 31]);
    assert_eq!(
        problem(with(ec.clone(), "x", Some(short_x.into()))).to_string(),
        r#"invalid "x" length (31) for curve "P-256""#
    );
    assert_eq!(
        problem(with(ec.clone(), "crv", Some("P-999".into()))).to_string(),
        r#"invalid curve algorithm "P-999""#
    );
    assert!(matches!(
        problem(with(ec.clone(), "crv", Some("P-521".into()))),
        JwkProblem::UnsupportedCurve(_)
    ));
    assert_eq!(
        problem(with(ec.clone(), "x", Some("not*base64".into()))),
        JwkProblem::NotBase64("x")
    );
    assert_eq!(
        problem(with(ec.clone(), "kid", Some(5.into()))),
        JwkProblem::NotAString("kid")
    );
    assert_eq!(
        problem(with(ec, "key_ops", Some("sign".into()))),
        JwkProblem::BadKeyOps
    );
    let small = with(
        first("gen_signing_key_rs256.json"),
        "n",
        Some(URL_SAFE_NO_PAD.encode([0xffu8; 128]).into()),
    );
    assert_eq!(problem(small), JwkProblem::RsaSize { bits: 1024 });
}

#[test]
fn each_algorithm_signs_and_its_own_public_key_verifies() {
    for name in [
        "cli_default.json",
        "gen_signing_key_rs256.json",
        "eddsa.json",
        "oct.json",
    ] {
        let key = Jwk::parse(&first(name)).unwrap();
        let signer = key.signer().unwrap();
        assert_eq!(signer.kid(), Some(key.kid()), "{name}");
        let signature = signer.sign(b"header.payload").unwrap();
        let raw = URL_SAFE_NO_PAD.decode(&signature).unwrap();
        let alg = format!("{:?}", signer.alg());
        crate::signature::verify(&alg, &key.verifying_key(), b"header.payload", &raw)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            crate::signature::verify(&alg, &key.verifying_key(), b"header.other", &raw).is_err(),
            "{name}: another message must not verify"
        );
    }
}

#[test]
fn a_key_that_cannot_sign_is_refused_with_the_reason() {
    let ec = first("cli_default.json");
    assert_eq!(
        signer_problem(first("signing_key_without_d.json")),
        JwkProblem::NotPrivate
    );
    // GetSigningAlg falls back to HS256 for a missing or unknown alg; an EC key cannot HMAC.
    let message = signer_problem(with(ec.clone(), "alg", None)).to_string();
    assert!(
        message.starts_with(r#"signs with HS256 (alg "") but is a EC key"#),
        "{message}"
    );
    assert!(matches!(
        signer_problem(with(ec.clone(), "alg", Some("RS256".into()))),
        JwkProblem::WrongKeyForMethod {
            method: "RS256",
            ..
        }
    ));
    assert_eq!(
        signer_problem(with(ec.clone(), "alg", Some("ES512".into()))),
        JwkProblem::Es512
    );
    let other_d = URL_SAFE_NO_PAD.encode([9u8; 32]);
    assert!(matches!(
        signer_problem(with(ec, "d", Some(other_d.into()))),
        JwkProblem::Mismatch(_)
    ));
    let rsa = first("gen_signing_key_rs256.json");
    assert_eq!(
        signer_problem(with(with(rsa.clone(), "p", None), "q", None)),
        JwkProblem::RsaWithoutPrimes
    );
    let wrong_d = URL_SAFE_NO_PAD.encode([3u8; 200]);
    assert!(matches!(
        signer_problem(with(rsa, "d", Some(wrong_d.into()))),
        JwkProblem::Mismatch(_)
    ));
    let ed = first("eddsa.json");
    assert!(matches!(
        signer_problem(with(
            ed,
            "d",
            Some(URL_SAFE_NO_PAD.encode([1u8; 32]).into())
        )),
        JwkProblem::Mismatch(_)
    ));
}

#[test]
fn padded_and_standard_base64_are_accepted_and_published_canonically() {
    let ec = first("cli_default.json");
    let x = ec["x"].as_str().unwrap().to_owned();
    let padded = with(ec, "x", Some(format!("{x}=").into()));
    let public = Jwk::parse(&padded).unwrap().public_jwk().unwrap();
    assert_eq!(public["x"], x.as_str());
}
