//! Signed tokens (HS256 JWTs), shaped like djangorestframework-simplejwt's.

use crate::config::JwtSecret;
use crate::error::ApiError;
use hearth_domain::UserId;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Which kind of token a JWT is; one kind is refused where the other is expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    Access,
    Refresh,
}

/// The claims of every Hearth token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub token_type: TokenKind,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub user_id: i64,
}

/// Issues and checks tokens with one secret.
#[derive(Clone)]
pub struct TokenService {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    access_ttl: Duration,
    refresh_ttl: Duration,
}

impl TokenService {
    pub fn new(secret: &JwtSecret, access_ttl: Duration, refresh_ttl: Duration) -> Self {
        // Only HS256 is accepted: `alg: none` and every other algorithm fail validation.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.validate_exp = true;
        Self {
            encoding: EncodingKey::from_secret(secret.bytes()),
            decoding: DecodingKey::from_secret(secret.bytes()),
            validation,
            access_ttl,
            refresh_ttl,
        }
    }

    pub fn access_ttl(&self) -> Duration {
        self.access_ttl
    }

    pub fn refresh_ttl(&self) -> Duration {
        self.refresh_ttl
    }

    /// A new token of `kind` for `user`.
    pub fn issue(&self, user: UserId, kind: TokenKind) -> Result<String, ApiError> {
        let ttl = match kind {
            TokenKind::Access => self.access_ttl,
            TokenKind::Refresh => self.refresh_ttl,
        };
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            token_type: kind,
            exp: now.saturating_add(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX)),
            iat: now,
            jti: uuid::Uuid::new_v4().simple().to_string(),
            user_id: user.0,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ApiError::Internal(format!("cannot sign a token: {e}")))
    }

    /// The user a valid, unexpired token of `kind` names.
    pub fn verify(&self, token: &str, kind: TokenKind) -> Result<UserId, ApiError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                ApiError::unauthorized(match e.kind() {
                    ErrorKind::ExpiredSignature => "Token is expired",
                    ErrorKind::InvalidSignature => "Token signature is invalid",
                    ErrorKind::InvalidAlgorithm => "Token algorithm is not accepted",
                    _ => "Token is invalid",
                })
            })?;
        if data.claims.token_type != kind {
            return Err(ApiError::unauthorized(match kind {
                TokenKind::Access => "Token has wrong type: an access token is required",
                TokenKind::Refresh => "Token has wrong type: a refresh token is required",
            }));
        }
        Ok(UserId(data.claims.user_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(ttl_secs: u64) -> TokenService {
        TokenService::new(
            &JwtSecret::new(b"test-secret-test-secret-test-secret".to_vec()),
            Duration::from_secs(ttl_secs),
            Duration::from_secs(3600),
        )
    }

    #[test]
    fn issued_tokens_verify_for_their_kind_only() -> Result<(), ApiError> {
        let tokens = service(60);
        let access = tokens.issue(UserId(42), TokenKind::Access)?;
        let refresh = tokens.issue(UserId(42), TokenKind::Refresh)?;
        assert_eq!(tokens.verify(&access, TokenKind::Access)?, UserId(42));
        assert_eq!(tokens.verify(&refresh, TokenKind::Refresh)?, UserId(42));
        assert!(tokens.verify(&access, TokenKind::Refresh).is_err());
        assert!(tokens.verify(&refresh, TokenKind::Access).is_err());
        Ok(())
    }

    #[test]
    fn tokens_from_another_secret_are_refused() -> Result<(), ApiError> {
        let other = TokenService::new(
            &JwtSecret::new(b"another-secret".to_vec()),
            Duration::from_secs(60),
            Duration::from_secs(60),
        );
        let token = other.issue(UserId(1), TokenKind::Access)?;
        assert!(service(60).verify(&token, TokenKind::Access).is_err());
        Ok(())
    }

    #[test]
    fn expired_tokens_are_refused() -> Result<(), ApiError> {
        let tokens = service(0);
        let token = tokens.issue(UserId(1), TokenKind::Access)?;
        std::thread::sleep(Duration::from_millis(1100));
        assert!(tokens.verify(&token, TokenKind::Access).is_err());
        Ok(())
    }

    #[test]
    fn garbage_is_refused() {
        assert!(service(60).verify("not.a.jwt", TokenKind::Access).is_err());
        assert!(service(60).verify("", TokenKind::Access).is_err());
    }
}
