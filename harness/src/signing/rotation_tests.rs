use super::*;
use crate::signing::CLI_KID;

fn kids(keys: &KeySet, state: KeyState) -> Vec<String> {
    keys.in_state(state).map(|k| k.kid().to_owned()).collect()
}

fn array(keys: &KeySet) -> Vec<Value> {
    serde_json::from_str(&keys.gotrue_jwt_keys()).unwrap()
}

fn jwks_kids(keys: &KeySet) -> Vec<String> {
    keys.jwks().unwrap()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_rotation_walks_standby_in_use_previously_used_revoked() {
    let cli = SigningJwk::cli_default();
    let old = cli.kid().to_owned();
    let mut keys = KeySet::new(cli);
    assert_eq!(
        array(&keys)[0]["key_ops"],
        serde_json::json!(["sign", "verify"])
    );

    let new = keys.add_standby(KeyAlgorithm::Es256).unwrap();
    assert_eq!(keys.state(&new), Some(KeyState::Standby));
    let listed = array(&keys);
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[1]["key_ops"], serde_json::json!(["verify"]));
    assert_eq!(
        jwks_kids(&keys),
        [old.clone(), new.clone()],
        "standby is published"
    );
    assert_eq!(keys.in_use().unwrap().kid(), old);

    keys.promote(&new).unwrap();
    assert_eq!(keys.in_use().unwrap().kid(), new);
    assert_eq!(
        kids(&keys, KeyState::PreviouslyUsed),
        std::slice::from_ref(&old)
    );
    let listed = array(&keys);
    assert_eq!(listed[0]["key_ops"], serde_json::json!(["verify"]));
    assert_eq!(listed[1]["key_ops"], serde_json::json!(["sign", "verify"]));
    assert_eq!(
        jwks_kids(&keys).len(),
        2,
        "previously used is still published"
    );

    keys.revoke(&old).unwrap();
    assert_eq!(keys.state(&old), Some(KeyState::Revoked));
    assert_eq!(array(&keys).len(), 1);
    assert!(!keys.gotrue_jwt_keys().contains(&old));
    assert_eq!(jwks_kids(&keys), [new]);
    assert_eq!(kids(&keys, KeyState::Revoked), [old]);
}

#[test]
fn each_state_is_an_array_gotrue_starts_with() {
    let mut keys = KeySet::new(SigningJwk::cli_default());
    let new = keys.add_standby(KeyAlgorithm::Rs256).unwrap();
    let states = [
        keys.clone(),
        {
            keys.promote(&new).unwrap();
            keys.clone()
        },
        {
            keys.revoke(CLI_KID).unwrap();
            keys.clone()
        },
    ];
    for state in states {
        let gotrue = auth::jwt_keys::JwtKeys::from_settings(
            "secret",
            None,
            Some(&state.gotrue_jwt_keys()),
            None,
        )
        .unwrap();
        assert_eq!(
            serde_json::to_value(gotrue.jwks()).unwrap(),
            state.jwks().unwrap(),
            "the auth server publishes exactly the JWKS the key set predicts"
        );
    }
}

#[test]
fn transitions_out_of_order_are_refused_saying_why() {
    let mut keys = KeySet::new(SigningJwk::cli_default());
    let error = keys.revoke(CLI_KID).unwrap_err().to_string();
    assert_eq!(
        error,
        format!("cannot revoke key \"{CLI_KID}\": it is in use, only a previously used key can be")
    );
    assert!(matches!(
        keys.promote(CLI_KID),
        Err(SigningError::WrongState { .. })
    ));
    assert!(matches!(
        keys.promote("nope"),
        Err(SigningError::UnknownKid(_))
    ));
    assert!(matches!(
        keys.add_standby_key(SigningJwk::cli_default()),
        Err(SigningError::DuplicateKid(_))
    ));
    let mut no_kid = SigningJwk::generate(KeyAlgorithm::Es256).unwrap();
    no_kid.kid = None;
    assert!(matches!(
        keys.add_standby_key(no_kid),
        Err(SigningError::NoKid)
    ));
}

#[test]
fn a_files_keys_keep_their_key_ops_and_states_follow_sign() {
    let text = super::super::jwk::tests::fixture("in_use_and_standby.json");
    let parsed = super::super::jwk::parse_signing_keys(&text, "f").unwrap();
    let keys = KeySet::from_keys(parsed.clone());
    assert_eq!(keys.state(parsed[0].kid()), Some(KeyState::InUse));
    assert_eq!(keys.state(parsed[1].kid()), Some(KeyState::Standby));
    assert_eq!(
        keys.gotrue_jwt_keys(),
        serde_json::to_string(&parsed).unwrap()
    );
    assert!(KeySet::empty().is_empty());
    assert_eq!(KeySet::empty().gotrue_jwt_keys(), "[]");
}
