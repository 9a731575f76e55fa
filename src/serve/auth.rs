//! Who may connect to `lakemart serve`: the users file (names, salted password
//! hashes, roles) and the PostgreSQL startup handshake that checks a password against it.
//!
//! ```toml
//! allow_anonymous = false            # default; true lets unlisted users in without a password, masked
//!
//! [[users]]
//! name = "analyst"
//! password = "pbkdf2-sha256$100000$…$…"   # lakemart serve --hash-password
//! roles = []                          # "pii": pii columns in clear
//! ```
//!
//! Hashes are PBKDF2-HMAC-SHA256 (RFC 8018) with a 16-byte random salt:
//! `pbkdf2-sha256$<iterations>$<salt hex>$<key hex>`, the same as Python's
//! `hashlib.pbkdf2_hmac("sha256", password, salt, iterations).hex()`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion_postgres::pgwire::api::auth::{
    DefaultServerParameterProvider, StartupHandler, finish_authentication, protocol_negotiation,
    save_startup_parameters_to_metadata,
};
use datafusion_postgres::pgwire::api::{
    ClientInfo, ConnectionGuard, ConnectionHandle, ConnectionManager, METADATA_USER, PgWireConnectionState,
    PidSecretKeyGenerator, RandomPidSecretKeyGenerator,
};
use datafusion_postgres::pgwire::error::{PgWireError, PgWireResult};
use datafusion_postgres::pgwire::messages::startup::Authentication;
use datafusion_postgres::pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use futures::{Sink, SinkExt};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The role that sees `pii = true` columns in clear.
pub const PII_ROLE: &str = "pii";
/// Roles a users file may grant.
const KNOWN_ROLES: [&str; 1] = [PII_ROLE];
/// PBKDF2 iterations of new hashes.
pub const DEFAULT_ITERATIONS: u32 = 100_000;
const SCHEME: &str = "pbkdf2-sha256";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UsersFile {
    #[serde(default)]
    allow_anonymous: bool,
    #[serde(default)]
    users: Vec<UserEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserEntry {
    name: String,
    password: String,
    #[serde(default)]
    roles: Vec<String>,
}

/// The users of the server, read from the users file.
#[derive(Debug, Clone, Default)]
pub struct Users {
    /// Let users not in the file in, without a password and without roles.
    pub allow_anonymous: bool,
    users: BTreeMap<String, User>,
}

#[derive(Debug, Clone)]
struct User {
    password: PasswordHash,
    roles: BTreeSet<String>,
}

/// What a connection was granted at login, kept in its session extensions (never in
/// its metadata, which a client can write through startup parameters).
#[derive(Debug, Clone)]
pub struct Grant {
    pub user: String,
    /// Sees pii columns in clear.
    pub pii: bool,
}

impl Users {
    /// Read and check a users file: every hash well formed, names unique, roles known.
    pub fn load(path: &Path) -> Result<Users> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let file: UsersFile = toml::from_str(&text).map_err(|e| Error::config(path, e.message().trim()))?;
        let mut users = BTreeMap::new();
        for u in file.users {
            let password = PasswordHash::parse(&u.password).map_err(|m| {
                Error::config(
                    path,
                    format!(
                        "user '{}': {m} (make one with `lakemart serve --hash-password`)",
                        u.name
                    ),
                )
            })?;
            if let Some(role) = u.roles.iter().find(|r| !KNOWN_ROLES.contains(&r.as_str())) {
                return Err(Error::config(
                    path,
                    format!(
                        "user '{}': unknown role '{role}' (known roles: {})",
                        u.name,
                        KNOWN_ROLES.join(", ")
                    ),
                ));
            }
            let user = User {
                password,
                roles: u.roles.into_iter().collect(),
            };
            if users.insert(u.name.clone(), user).is_some() {
                return Err(Error::config(path, format!("user '{}' is listed twice", u.name)));
            }
        }
        Ok(Users {
            allow_anonymous: file.allow_anonymous,
            users,
        })
    }

    /// How many users the file lists.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// The grant of `user` logging in with `password`, or `None` when refused.
    pub fn login(&self, user: &str, password: &str) -> Option<Grant> {
        match self.users.get(user) {
            Some(u) if u.password.verify(password) => Some(Grant {
                user: user.to_string(),
                pii: u.roles.contains(PII_ROLE),
            }),
            Some(_) => None,
            None => {
                // As long as for a real user, so timing does not tell which names exist.
                let _ = PasswordHash::dummy().verify(password);
                None
            }
        }
    }

    /// The grant of a user let in without a password, if the file allows it.
    fn anonymous(&self, user: &str) -> Option<Grant> {
        (self.allow_anonymous && !self.users.contains_key(user)).then(|| Grant {
            user: user.to_string(),
            pii: false,
        })
    }
}

/// A stored password: PBKDF2-HMAC-SHA256 of it with a salt.
#[derive(Debug, Clone)]
struct PasswordHash {
    iterations: u32,
    salt: Vec<u8>,
    key: Vec<u8>,
}

impl PasswordHash {
    fn parse(text: &str) -> std::result::Result<PasswordHash, String> {
        let parts: Vec<&str> = text.split('$').collect();
        let [scheme, iterations, salt, key] = parts.as_slice() else {
            return Err(format!(
                "password is not a hash like {SCHEME}$<iterations>$<salt hex>$<hash hex>"
            ));
        };
        if *scheme != SCHEME {
            return Err(format!("unknown password hash scheme '{scheme}' (expected {SCHEME})"));
        }
        let iterations: u32 = iterations
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("'{iterations}' is not an iteration count"))?;
        let salt = from_hex(salt).ok_or("the salt is not hex")?;
        let key = from_hex(key)
            .filter(|k| k.len() == 32)
            .ok_or("the hash is not 64 hex digits")?;
        Ok(PasswordHash { iterations, salt, key })
    }

    /// Stands in for an unknown user.
    fn dummy() -> PasswordHash {
        PasswordHash {
            iterations: DEFAULT_ITERATIONS,
            salt: vec![0; 16],
            key: vec![0; 32],
        }
    }

    fn verify(&self, password: &str) -> bool {
        let key = pbkdf2_sha256(password.as_bytes(), &self.salt, self.iterations);
        // Constant time: look at every byte whatever the first difference.
        key.len() == self.key.len() && key.iter().zip(&self.key).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }
}

/// A new hash of `password` for the users file, with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    random_bytes(&mut salt)?;
    Ok(hash_with_salt(password, &salt, DEFAULT_ITERATIONS))
}

fn hash_with_salt(password: &str, salt: &[u8], iterations: u32) -> String {
    let key = pbkdf2_sha256(password.as_bytes(), salt, iterations);
    format!("{SCHEME}${iterations}${}${}", to_hex(salt), to_hex(&key))
}

fn random_bytes(buf: &mut [u8]) -> Result<()> {
    use std::io::Read;
    let path = Path::new("/dev/urandom");
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(buf))
        .map_err(|e| Error::io(path, e))
}

/// PBKDF2-HMAC-SHA256 with a 32-byte output (one block).
fn pbkdf2_sha256(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut key = [0u8; BLOCK];
    if password.len() > BLOCK {
        key[..32].copy_from_slice(&Sha256::digest(password));
    } else {
        key[..password.len()].copy_from_slice(password);
    }
    let pad = |byte: u8| {
        let mut h = Sha256::new();
        h.update(key.map(|k| k ^ byte));
        h
    };
    let (inner, outer) = (pad(0x36), pad(0x5c));
    let hmac = |message: &[&[u8]]| -> [u8; 32] {
        let mut i = inner.clone();
        for m in message {
            i.update(m);
        }
        let mut o = outer.clone();
        o.update(i.finalize());
        o.finalize().into()
    };
    let mut u = hmac(&[salt, &1u32.to_be_bytes()]);
    let mut out = u;
    for _ in 1..iterations {
        u = hmac(&[&u]);
        out.iter_mut().zip(u).for_each(|(o, x)| *o ^= x);
    }
    out
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

/// The startup handshake: a cleartext password checked against the users file
/// (anonymous users, where allowed, are let in without one). The grant is stored
/// in the connection's session extensions.
pub(crate) struct PasswordStartup {
    users: Arc<Users>,
    parameters: DefaultServerParameterProvider,
    keys: RandomPidSecretKeyGenerator,
    connections: Arc<ConnectionManager>,
}

impl PasswordStartup {
    pub(crate) fn new(users: Arc<Users>, connections: Arc<ConnectionManager>) -> PasswordStartup {
        let mut parameters = DefaultServerParameterProvider::default();
        parameters.default_transaction_read_only = true;
        parameters.is_superuser = false;
        PasswordStartup {
            users,
            parameters,
            keys: RandomPidSecretKeyGenerator::default(),
            connections,
        }
    }

    async fn admit<C>(&self, client: &mut C, grant: Grant) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        tracing::info!(user = %grant.user, pii = grant.pii, "connection admitted");
        client.session_extensions().insert(grant);
        let (pid, secret_key) = self.keys.generate(client);
        client.set_pid_and_secret_key(pid, secret_key.clone());
        // What pgwire's own handlers do, so that cancel requests reach this connection.
        let (handle, guard) = self.connections.register(pid, secret_key);
        client.session_extensions().insert::<Arc<ConnectionHandle>>(handle);
        client.session_extensions().insert::<ConnectionGuard>(guard);
        finish_authentication(client, &self.parameters).await
    }
}

#[async_trait]
impl StartupHandler for PasswordStartup {
    async fn on_startup<C>(&self, client: &mut C, message: PgWireFrontendMessage) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        match message {
            PgWireFrontendMessage::Startup(ref startup) => {
                protocol_negotiation(client, startup).await?;
                save_startup_parameters_to_metadata(client, startup);
                let user = client.metadata().get(METADATA_USER).cloned().unwrap_or_default();
                if let Some(grant) = self.users.anonymous(&user) {
                    return self.admit(client, grant).await;
                }
                client.set_state(PgWireConnectionState::AuthenticationInProgress);
                client
                    .send(PgWireBackendMessage::Authentication(Authentication::CleartextPassword))
                    .await?;
            }
            PgWireFrontendMessage::PasswordMessageFamily(password) => {
                let password = password.into_password()?;
                let user = client.metadata().get(METADATA_USER).cloned().unwrap_or_default();
                match self.users.login(&user, &password.password) {
                    Some(grant) => self.admit(client, grant).await?,
                    None => {
                        tracing::warn!(user = %user, "password authentication failed");
                        return Err(PgWireError::InvalidPassword(user));
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pbkdf2_matches_the_rfc_7914_vectors() {
        assert_eq!(
            to_hex(&pbkdf2_sha256(b"password", b"salt", 1)),
            "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b"
        );
        assert_eq!(
            to_hex(&pbkdf2_sha256(b"password", b"salt", 4096)),
            "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a"
        );
        // A password longer than the HMAC block is hashed first (checked with Python's hashlib).
        assert_eq!(
            to_hex(&pbkdf2_sha256(
                "passwordPASSWORDpassword".repeat(3).as_bytes(),
                b"saltSALTsaltSALTsaltSALTsaltSALTsalt",
                2
            )),
            "e55f7af8d45a2721b48d87195bebbbc9e30555f46677693aff35e0ea4939fb2c"
        );
    }

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hash = PasswordHash::parse(&hash_with_salt("s3cret", b"0123456789abcdef", 10)).unwrap();
        assert!(hash.verify("s3cret"));
        assert!(!hash.verify("s3cret "));
        assert!(!hash.verify(""));
        let fresh = hash_password("s3cret").unwrap();
        assert!(fresh.starts_with("pbkdf2-sha256$100000$"), "{fresh}");
        assert_ne!(fresh, hash_password("s3cret").unwrap(), "salts differ");
    }

    #[test]
    fn the_users_file_grants_roles_and_refuses_bad_entries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.toml");
        let analyst = hash_with_salt("a", b"salt-of-analyst!", 5);
        let officer = hash_with_salt("o", b"salt-of-officer!", 5);
        std::fs::write(
            &path,
            format!(
                "[[users]]\nname = \"analyst\"\npassword = \"{analyst}\"\n\n\
                 [[users]]\nname = \"officer\"\npassword = \"{officer}\"\nroles = [\"pii\"]\n"
            ),
        )
        .unwrap();
        let users = Users::load(&path).unwrap();
        assert!(!users.login("analyst", "a").unwrap().pii);
        assert!(users.login("officer", "o").unwrap().pii);
        assert!(users.login("officer", "a").is_none());
        assert!(users.login("nobody", "a").is_none());
        assert!(
            users.anonymous("nobody").is_none(),
            "anonymous access is off by default"
        );

        std::fs::write(&path, "[[users]]\nname = \"x\"\npassword = \"secret\"\n").unwrap();
        let err = Users::load(&path).unwrap_err().to_string();
        assert!(err.contains("user 'x'") && err.contains("--hash-password"), "{err}");

        std::fs::write(
            &path,
            format!("[[users]]\nname = \"x\"\npassword = \"{analyst}\"\nroles = [\"pli\"]\n"),
        )
        .unwrap();
        let err = Users::load(&path).unwrap_err().to_string();
        assert!(err.contains("unknown role 'pli'"), "{err}");

        std::fs::write(&path, "allow_anonymous = true\n").unwrap();
        let users = Users::load(&path).unwrap();
        assert!(!users.anonymous("guest").unwrap().pii);
    }
}
