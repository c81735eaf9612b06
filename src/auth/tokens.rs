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
    /// A one-time password reset link made by an administrator.
    Reset,
}

impl Audience {
    fn as_str(self) -> &'static str {
        match self {
            Audience::Staff => "tellwise:staff",
            Audience::Student => "tellwise:student",
            Audience::Api => "tellwise:api",
            Audience::Setup => "tellwise:setup",
            Audience::Reset => "tellwise:reset",
        }
    }

    /// How long a token lives: a working day for the API, a school day for students. Staff
    /// sessions have their own idle and absolute limits (`StaffLifetime`).
    pub fn lifetime_secs(self) -> i64 {
        match self {
            Audience::Staff | Audience::Api => 12 * 3600,
            Audience::Student => 10 * 3600,
            Audience::Setup | Audience::Reset => 24 * 3600,
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
    /// When the staff member signed in: a renewed session keeps it, so that renewing never
    /// stretches a session past its absolute limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
}

/// A staff session ends after `idle_secs` without a request, and `max_secs` after signing in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaffLifetime {
    pub idle_secs: i64,
    pub max_secs: i64,
}

impl StaffLifetime {
    /// When a session that began at `auth_time` and is used at `now` expires.
    pub fn expires_at(self, auth_time: i64, now: i64) -> i64 {
        (now + self.idle_secs).min(auth_time + self.max_secs)
    }

    /// Renew the cookie at most once a minute, so most requests set no cookie.
    pub fn due_for_renewal(self, claims: &Claims, now: i64) -> bool {
        now - claims.iat >= 60.min(self.idle_secs / 2)
    }
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
        self.sign(&Claims {
            sub: subject.to_string(),
            aud: audience.as_str().to_string(),
            iat: now,
            exp: now + audience.lifetime_secs(),
            stamp: stamp.to_string(),
            auth_time: None,
        })
    }

    /// A staff session token for someone who signed in at `auth_time` and is active `now`.
    pub fn issue_staff(
        &self,
        subject: &str,
        stamp: &str,
        auth_time: i64,
        now: i64,
        lifetime: StaffLifetime,
    ) -> Result<String, String> {
        self.sign(&Claims {
            sub: subject.to_string(),
            aud: Audience::Staff.as_str().to_string(),
            iat: now,
            exp: lifetime.expires_at(auth_time, now),
            stamp: stamp.to_string(),
            auth_time: Some(auth_time),
        })
    }

    /// Signs any claims with HS256 (tests use it to forge expired or stale tokens).
    pub fn sign(&self, claims: &Claims) -> Result<String, String> {
        encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
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
