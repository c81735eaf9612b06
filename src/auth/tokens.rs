//! Signed session tokens (HS256 JWTs). Each purpose has its own audience, so a student token is
//! never accepted where a staff token is expected, and each carries the subject's security
//! stamp so that changing the stamp revokes every token issued before.

use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode,
};
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

/// A signing key and its id, which every token it signs names in its `kid` header.
struct SigningKey {
    id: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl SigningKey {
    fn derive(secret: &str) -> Self {
        let derived = Sha256::digest(format!("tellwise-jwt-v1:{secret}").as_bytes());
        // The id tells keys apart without revealing anything about them.
        let fingerprint = Sha256::digest([b"tellwise-kid:".as_slice(), &derived].concat());
        let id = fingerprint[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>();
        Self {
            id: format!("v1-{id}"),
            encoding: EncodingKey::from_secret(&derived),
            decoding: DecodingKey::from_secret(&derived),
        }
    }
}

/// The token keys: the current one signs, and during a rotation the previous one still
/// verifies the tokens it signed, chosen by their `kid`, until they expire.
pub struct Keys {
    current: SigningKey,
    previous: Option<SigningKey>,
}

impl Keys {
    /// Derived from the instance's secret key, so every app server sharing that key accepts
    /// the same tokens.
    pub fn from_secret(secret: &str) -> Self {
        Self::rotating(secret, None)
    }

    /// The current secret key and, while a rotation is under way, the one it replaces.
    pub fn rotating(current: &str, previous: Option<&str>) -> Self {
        Self {
            current: SigningKey::derive(current),
            previous: previous.filter(|p| *p != current).map(SigningKey::derive),
        }
    }

    /// The id of the key that signs new tokens.
    pub fn current_id(&self) -> &str {
        &self.current.id
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
        let header = Header {
            kid: Some(self.current.id.clone()),
            ..Header::new(Algorithm::HS256)
        };
        encode(&header, claims, &self.current.encoding)
            .map_err(|e| format!("cannot sign token: {e}"))
    }

    /// Checks signature, algorithm, expiry and audience.
    pub fn verify(&self, audience: Audience, token: &str) -> Option<Claims> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[audience.as_str()]);
        validation.set_required_spec_claims(&["exp", "aud", "sub"]);
        validation.leeway = 5;
        // Tokens from before key ids existed name none: the current key checks them.
        let key = match decode_header(token).ok()?.kid {
            None => &self.current,
            Some(id) if id == self.current.id => &self.current,
            Some(id) => self.previous.as_ref().filter(|p| p.id == id)?,
        };
        decode::<Claims>(token, &key.decoding, &validation)
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

    #[test]
    fn a_rotation_keeps_the_previous_keys_tokens_valid_by_their_key_id() {
        let old = Keys::from_secret("old");
        let token = old.issue(Audience::Api, "7", "s").expect("token");
        let header = decode_header(&token).expect("header");
        assert_eq!(header.kid.as_deref(), Some(old.current_id()));
        let rotated = Keys::rotating("new", Some("old"));
        assert_ne!(rotated.current_id(), old.current_id());
        assert!(rotated.verify(Audience::Api, &token).is_some());
        let fresh = rotated.issue(Audience::Api, "7", "s").expect("token");
        assert_eq!(
            decode_header(&fresh).expect("header").kid.as_deref(),
            Some(rotated.current_id())
        );
        assert!(old.verify(Audience::Api, &fresh).is_none());
        // Once the rotation is over, the old key's tokens are refused.
        assert!(
            Keys::from_secret("new")
                .verify(Audience::Api, &token)
                .is_none()
        );
        // A token that names the current key's id but was signed by another is refused.
        let forged = Keys::rotating("attacker", None);
        let claims = rotated.verify(Audience::Api, &fresh).expect("valid");
        let forged_token = encode(
            &Header {
                kid: Some(rotated.current_id().to_string()),
                ..Header::new(Algorithm::HS256)
            },
            &claims,
            &forged.current.encoding,
        )
        .expect("signed");
        assert!(rotated.verify(Audience::Api, &forged_token).is_none());
    }
}
