//! An app's end-users moved out and in as JSON lines (`rampart export` / `rampart import`,
//! `GET|POST /api/v1/apps/{slug}/end-users/export|import`): the format, the line splitter
//! both ways of reading share, and the export. The import is `transfer_import.rs`.
//!
//! The file is one optional header line, then one user per line; what `export` writes,
//! `import` reads back (README, "Moving users in and out").

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::audit::actor_of;
use super::{now, Access, Caller, Engine};
use crate::audit::{Actor, Event};
use crate::model::{ContactKind, UserCursor};
use crate::permissions::OWNER;
use crate::{Error, Result};

/// The header line's `format`.
pub const FORMAT: &str = "rampart.end-users";
pub const VERSION: u32 = 1;
/// Users read from the store per page of an export.
const EXPORT_PAGE: u32 = 500;
/// The longest line read; a longer one is reported and skipped, never held in memory.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// The optional first line of a file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub format: String,
    pub version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exported_at: Option<DateTime<Utc>>,
    /// The Firebase project's hash parameters, for lines with `password_format: firebase-scrypt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firebase_scrypt: Option<FirebaseHashConfig>,
}

/// Firebase's "password hash parameters", as its console shows them.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirebaseHashConfig {
    pub signer_key: String,
    pub salt_separator: String,
    pub rounds: u32,
    pub mem_cost: u32,
}

impl std::fmt::Debug for FirebaseHashConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FirebaseHashConfig {{ rounds: {}, mem_cost: {}, .. }}", self.rounds, self.mem_cost)
    }
}

/// One user.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserLine {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// `active` (the default) or `suspended`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The app role's name; the app's `signup_default_role` when missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub emails: Vec<EmailLine>,
    #[serde(default)]
    pub phones: Vec<PhoneLine>,
    #[serde(default)]
    pub password_hash: Option<String>,
    /// Only with `password_format: firebase-scrypt`: the user's base64 salt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_salt: Option<String>,
    /// `firebase-scrypt` for a Firebase export's bare base64 hash; every other format is
    /// recognised from the hash itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_format: Option<String>,
    #[serde(default)]
    pub organizations: Vec<OrgLine>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailLine {
    pub address: String,
    #[serde(default)]
    pub verified: bool,
    #[serde(default)]
    pub primary: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhoneLine {
    pub number: String,
    #[serde(default)]
    pub verified: bool,
}

/// A membership: the organization by id, else by slug, else made from its name; created in
/// the app when it has none of them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgLine {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The member's org role (one of the app's roles); `member` when missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// A line as read from a stream of bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum LineItem {
    Line(String),
    TooLong,
    NotUtf8,
}

/// Splits a byte stream into lines as it arrives, holding at most one line
/// (`MAX_LINE_BYTES`) and the chunk being split.
#[derive(Default)]
pub struct LineSplitter {
    buf: Vec<u8>,
    /// In a line already reported too long: dropped up to its end.
    skipping: bool,
}

impl LineSplitter {
    pub fn push(&mut self, mut chunk: &[u8]) -> Vec<LineItem> {
        let mut items = Vec::new();
        while let Some(end) = chunk.iter().position(|b| *b == b'\n') {
            if self.skipping {
                self.skipping = false;
            } else if self.buf.len() + end > MAX_LINE_BYTES {
                items.push(LineItem::TooLong);
            } else {
                self.buf.extend_from_slice(&chunk[..end]);
                items.push(Self::item(std::mem::take(&mut self.buf)));
            }
            self.buf.clear();
            chunk = &chunk[end + 1..];
        }
        if !self.skipping {
            if self.buf.len() + chunk.len() > MAX_LINE_BYTES {
                self.buf = Vec::new();
                self.skipping = true;
                items.push(LineItem::TooLong);
            } else {
                self.buf.extend_from_slice(chunk);
            }
        }
        items
    }

    /// The last line, when the stream does not end with a newline.
    pub fn finish(self) -> Option<LineItem> {
        (!self.skipping && !self.buf.is_empty()).then(|| Self::item(self.buf))
    }

    fn item(mut bytes: Vec<u8>) -> LineItem {
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
        String::from_utf8(bytes).map_or(LineItem::NotUtf8, LineItem::Line)
    }
}

/// Where an export is: the users after `after` are still to be written.
pub struct Export {
    app_id: Uuid,
    header: Option<Header>,
    after: Option<UserCursor>,
    done: bool,
    pub users: u64,
}

impl Engine {
    /// Exports and imports are for the app's owners: a file of every user's password hash
    /// is more than any other permission hands out. API keys are refused.
    pub(super) async fn authorize_owner(&self, caller: &Caller, slug: &str) -> Result<Access> {
        let access = self.authorize(caller, slug, "user.read").await?;
        match &access.role {
            Some(role) if role.is_system && role.name == OWNER => Ok(access),
            _ => Err(Error::Forbidden("Only the app's owners may export or import its users".into())),
        }
    }

    /// `GET /api/v1/apps/{slug}/end-users/export`, owners only.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn start_export(&self, caller: &Caller, slug: &str) -> Result<Export> {
        let Access { app, .. } = self.authorize_owner(caller, slug).await?;
        self.export_of(&app, actor_of(caller)).await
    }

    /// `rampart export --app slug`: the operator's, recorded as the system's.
    pub async fn start_export_as_operator(&self, slug: &str) -> Result<Export> {
        let app = self.fresh_app(slug).await?;
        self.export_of(&app, Actor::system()).await
    }

    /// Recorded before the first line is written: a file that leaves is on the log even if
    /// its reader stops half-way.
    async fn export_of(&self, app: &crate::model::App, actor: Actor) -> Result<Export> {
        let at = now();
        let mut tx = self.write().await?;
        tx.record(
            app.id,
            Event::new("end_users.exported", actor).details(json!({"format": FORMAT, "version": VERSION})),
        );
        tx.commit().await?;
        let header = Header {
            format: FORMAT.into(),
            version: VERSION,
            app: Some(app.slug.clone()),
            exported_at: Some(at),
            firebase_scrypt: None,
        };
        Ok(Export { app_id: app.id, header: Some(header), after: None, done: false, users: 0 })
    }

    /// The next lines of an export (the header first), `None` at the end. Users are read a
    /// page at a time, so an export of any size holds one page.
    pub async fn export_chunk(&self, export: &mut Export) -> Result<Option<Vec<u8>>> {
        let mut out = Vec::new();
        if let Some(header) = export.header.take() {
            serde_json::to_writer(&mut out, &header).map_err(Error::internal)?;
            out.push(b'\n');
            return Ok(Some(out));
        }
        if export.done {
            return Ok(None);
        }
        let page = self.store.users_page(export.app_id, None, false, export.after, EXPORT_PAGE).await?;
        if page.len() < EXPORT_PAGE as usize {
            export.done = true;
        }
        let Some(last) = page.last() else { return Ok(None) };
        export.after = Some(UserCursor { created_at: last.user.created_at, id: last.user.id });
        for profile in page {
            let line = self.export_line(export.app_id, profile).await?;
            serde_json::to_writer(&mut out, &line).map_err(Error::internal)?;
            out.push(b'\n');
            export.users += 1;
        }
        Ok(Some(out))
    }

    async fn export_line(&self, app_id: Uuid, profile: crate::model::UserProfile) -> Result<UserLine> {
        let user = profile.user;
        let contacts = self.store.contacts_of(app_id, user.id).await?;
        let orgs = self.store.organizations_of(app_id, user.id).await?;
        let emails = contacts
            .iter()
            .filter(|c| c.kind == ContactKind::Email)
            .map(|c| EmailLine { address: c.value.clone(), verified: c.verified_at.is_some(), primary: c.is_primary })
            .collect();
        let phones = contacts
            .iter()
            .filter(|c| c.kind == ContactKind::Phone)
            .map(|c| PhoneLine { number: c.value.clone(), verified: c.verified_at.is_some() })
            .collect();
        let organizations = orgs
            .into_iter()
            .map(|m| OrgLine {
                id: Some(m.org.id),
                slug: Some(m.org.slug),
                name: Some(m.org.name),
                role: Some(m.role_name),
            })
            .collect();
        Ok(UserLine {
            id: Some(user.id),
            username: Some(user.username),
            display_name: Some(user.display_name),
            status: Some(user.status.as_str().to_owned()),
            role: Some(profile.role_name),
            created_at: Some(user.created_at),
            emails,
            phones,
            password_hash: user.password_hash,
            password_salt: None,
            password_format: None,
            organizations,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]]) -> Vec<LineItem> {
        let mut s = LineSplitter::default();
        let mut items: Vec<LineItem> = chunks.iter().flat_map(|c| s.push(c)).collect();
        items.extend(s.finish());
        items
    }

    #[test]
    fn lines_across_chunks_crlf_and_no_final_newline() {
        let items = split(&[b"{\"a\"", b":1}\r\n{}\n", b"\nlast"]);
        let line = |s: &str| LineItem::Line(s.into());
        assert_eq!(items, [line("{\"a\":1}"), line("{}"), line(""), line("last")]);
    }

    #[test]
    fn long_lines_and_bad_utf8_are_reported_not_kept() {
        let long = vec![b'x'; MAX_LINE_BYTES + 1];
        let mut s = LineSplitter::default();
        let mut items = s.push(&long[..10]);
        items.extend(s.push(&long[10..]));
        assert!(s.buf.is_empty(), "nothing of the long line is kept");
        items.extend(s.push(b"xxx\nok\n\xff\xfe\n"));
        items.extend(s.finish());
        assert_eq!(items, [LineItem::TooLong, LineItem::Line("ok".into()), LineItem::NotUtf8]);
    }
}
