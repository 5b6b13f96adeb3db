//! Password rules and hashing: GoTrue's length limits and bcrypt at cost 10.
//!
//! bcrypt is deliberately slow, so hashing and checking run on the blocking pool instead of
//! stalling the runtime's worker threads.

use crate::error::ApiError;

/// bcrypt ignores bytes past 72, so GoTrue refuses longer passwords outright.
pub const MAX_LEN: usize = 72;
const COST: u32 = 10;

/// The 400 for over-long passwords, and the 422 weak_password for short ones.
pub fn check_strength(password: &str, min_len: usize) -> Result<(), ApiError> {
    if password.len() > MAX_LEN {
        return Err(ApiError::Validation(format!(
            "Password cannot be longer than {MAX_LEN} characters"
        )));
    }
    if password.len() < min_len {
        return Err(ApiError::WeakPassword {
            message: format!("Password should be at least {min_len} characters."),
            reasons: vec!["length"],
        });
    }
    Ok(())
}

pub async fn hash(password: &str) -> Result<String, ApiError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || bcrypt::hash(password, COST))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// False for a wrong password and for users without one.
pub async fn matches(password: &str, hash: Option<&str>) -> bool {
    let Some(hash) = hash.filter(|h| !h.is_empty()).map(str::to_owned) else {
        return false;
    };
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash).unwrap_or(false))
        .await
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strength_messages_are_gotrue_s() {
        let err = check_strength("12345", 6).unwrap_err();
        assert_eq!(err.to_string(), "Password should be at least 6 characters.");
        assert!(
            matches!(err, ApiError::WeakPassword { ref reasons, .. } if reasons == &["length"])
        );
        assert_eq!(
            check_strength(&"x".repeat(73), 6).unwrap_err().to_string(),
            "Password cannot be longer than 72 characters"
        );
        check_strength("123456", 6).unwrap();
        check_strength(&"x".repeat(72), 6).unwrap();
    }

    #[tokio::test]
    async fn hashes_are_bcrypt_cost_10() {
        let h = hash("hunter22").await.unwrap();
        assert!(h.starts_with("$2b$10$"), "{h}");
        assert!(matches("hunter22", Some(&h)).await);
        assert!(!matches("hunter23", Some(&h)).await);
        assert!(!matches("hunter22", None).await);
    }
}
