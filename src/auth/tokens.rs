//! Signed session tokens (HS256 JWTs). Each purpose has its own audience, so a student token is
//! never accepted where a staff token is expected, and each carries the subject's security
//! stamp so that changing the stamp revokes every token issued before.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Staff,
    Student,
    Api,
    Setup,
}

impl Audience {
    fn as_str(self) -> &'static str {
        match self {
            Audience::Staff => "tellwise:staff",
            Audience::Student => "tellwise:student",
            Audience::Api => "tellwise:api",
            Audience::Setup => "tellwise:setup",
        }
    }

    /// How long a token lives: a working day for staff and the API, a school day for students.
    pub fn lifetime_secs(self) -> i64 {
        match self {
            Audience::Staff | Audience::Api => 12 * 3600,
            Audience::Student => 10 * 3600,
            Audience::Setup => 24 * 3600,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub stamp: String,
}

pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl Keys {
    /// Derived from the instance's secret key, so every app server sharing that key accepts
    /// the same tokens.
    pub fn from_secret(secret: &str) -> Self {
        let derived = Sha256::digest(format!("tellwise-jwt-v1:{secret}").as_bytes());
        Self {
            encoding: EncodingKey::from_secret(&derived),
            decoding: DecodingKey::from_secret(&derived),
        }
    }

    pub fn issue(&self, audience: Audience, subject: &str, stamp: &str) -> Result<String, String> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: subject.to_string(),
            aud: audience.as_str().to_string(),
            iat: now,
            exp: now + audience.lifetime_secs(),
            stamp: stamp.to_string(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| format!("cannot sign token: {e}"))
    }

    /// Checks signature, algorithm, expiry and audience.
    pub fn verify(&self, audience: Audience, token: &str) -> Option<Claims> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[audience.as_str()]);
        validation.set_required_spec_claims(&["exp", "aud", "sub"]);
        validation.leeway = 5;
        decode::<Claims>(token, &self.decoding, &validation)
            .ok()
            .map(|data| data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_round_trips_only_for_its_audience_and_key() {
        let keys = Keys::from_secret("a");
        let token = keys.issue(Audience::Staff, "7", "stamp").expect("token");
        let claims = keys.verify(Audience::Staff, &token).expect("valid");
        assert_eq!((claims.sub.as_str(), claims.stamp.as_str()), ("7", "stamp"));
        assert!(keys.verify(Audience::Student, &token).is_none());
        assert!(
            Keys::from_secret("b")
                .verify(Audience::Staff, &token)
                .is_none()
        );
        assert!(keys.verify(Audience::Staff, &format!("{token}x")).is_none());
    }

    #[test]
    fn unsigned_tokens_are_refused() {
        let keys = Keys::from_secret("a");
        // {"alg":"none"} header with valid-looking claims and no signature.
        let header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";
        let body = "eyJzdWIiOiIxIiwiYXVkIjoidGVsbHdpc2U6c3RhZmYiLCJpYXQiOjAsImV4cCI6OTk5OTk5OTk5OSwic3RhbXAiOiJ4In0";
        assert!(
            keys.verify(Audience::Staff, &format!("{header}.{body}."))
                .is_none()
        );
    }
}
