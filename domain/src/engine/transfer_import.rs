//! The import of `transfer.rs`'s format, in bounded memory: lines are checked as they
//! arrive, gathered into batches of `BATCH`, resolved against the store (the user by id, else
//! by primary email; taken usernames and contacts; organizations) and written one batch per
//! transaction, each user with its audit event. A line either is written whole or fails
//! with a code; a batch whose transaction is refused (a race with a live change) is written
//! again line by line, so one line's conflict fails that line only.
//!
//! A rerun of the same file changes nothing (`unchanged`): users are found again by id or
//! email, and only what differs is written. The run remembers 12 bytes per key (a keyed
//! hash of each id, email, phone and username it has seen, with the line: `transfer_seen`),
//! about 40 bytes per user, to refuse a file that names one user twice; nothing else it
//! holds grows with the file.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::audit::{actor_of, user_kind};
use super::cache::Change;
use super::contacts::parse_phone;
use super::transfer::{FirebaseHashConfig, Header, LineItem, OrgLine, UserLine, FORMAT, VERSION};
use super::transfer_seen::SeenKeys;
use super::{now, Access, Caller, Engine};
use crate::audit::{Actor, Event};
use crate::model::{App, Contact, ContactKind, Organization, Role, Status, User};
use crate::password::{self, foreign, FirebaseParams, Scheme};
use crate::permissions::MEMBER;
use crate::store::StoreError;
use crate::types::{DisplayName, Email, Slug, Username};
use crate::{Error, Result};

/// Lines per transaction.
pub const BATCH: usize = 500;
/// Failures listed in a summary, at most (all are counted, and the CLI prints each).
const FAILURES_LISTED: usize = 1000;

/// One line that was not imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LineFailure {
    pub line: u64,
    pub code: String,
    pub message: String,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ImportSummary {
    /// User lines read (the header and blank lines are not counted).
    pub lines: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub failed_count: u64,
    /// The first `FAILURES_LISTED` failures.
    pub failed: Vec<LineFailure>,
}

fn failure(line: u64, code: &str, message: impl Into<String>) -> LineFailure {
    LineFailure { line, code: code.into(), message: message.into() }
}

/// A field the line gives that no user may have (a bad email, phone, username, name).
fn invalid_field(line: u64, e: &Error) -> LineFailure {
    failure(line, "INVALID_LINE", e.to_string())
}

/// A contact as a line gives it, checked.
struct NewContact {
    kind: ContactKind,
    value: String,
    verified: bool,
    primary: bool,
}

/// A membership as a line gives it, checked.
struct NewMembership {
    id: Option<Uuid>,
    slug: String,
    name: String,
    role: Role,
}

/// A line checked on its own, before the store is asked anything.
struct Prepared {
    line: u64,
    id: Option<Uuid>,
    username: String,
    display_name: String,
    status: Status,
    role: Role,
    /// Which of display name, status and role the line gave: an existing user's others
    /// stay as they are (a line without `status` never lifts a suspension).
    given: Given,
    created_at: DateTime<Utc>,
    contacts: Vec<NewContact>,
    password: Option<(String, Scheme)>,
    orgs: Vec<NewMembership>,
}

#[derive(Clone, Copy)]
struct Given {
    display_name: bool,
    status: bool,
    role: bool,
}

/// One write of a planned line.
enum Op {
    InsertUser(User),
    UpdateUser(User),
    RevokeSessions,
    SetPassword(String),
    InsertContact(Contact),
    VerifyContact(Uuid),
    SetPrimary(Uuid),
    InsertOrg(Organization),
    AddToOrg(Uuid, Uuid),
    SetOrgRole(Uuid, Uuid),
}

/// What a line will write, and what its audit event says.
struct Plan {
    line: u64,
    user_id: Uuid,
    created: bool,
    ops: Vec<Op>,
    changes: Vec<&'static str>,
    scheme: Option<Scheme>,
}

/// An import under way; feed it lines with [`Import::feed`], then [`Import::finish`].
pub struct Import<'e> {
    engine: &'e Engine,
    app: App,
    actor: Actor,
    roles: HashMap<String, Role>,
    default_role: Role,
    firebase: Option<FirebaseParams>,
    /// Given by the operator's flags: a header's parameters do not replace them.
    firebase_fixed: bool,
    seen: SeenKeys,
    keyer: RandomState,
    pending: Vec<Prepared>,
    line_no: u64,
    header_possible: bool,
    summary: ImportSummary,
    /// Failures not yet handed to [`Import::drain_failures`].
    fresh: Vec<LineFailure>,
    /// Users written when the planner's statistics are next refreshed (`STATISTICS_FIRST`,
    /// then each time the count doubles), and when they were last.
    statistics_at: u64,
    statistics_written: u64,
}

/// Users written before the store's statistics are first refreshed.
const STATISTICS_FIRST: u64 = 10_000;

impl Engine {
    /// `POST /api/v1/apps/{slug}/end-users/import`, owners only.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn start_import(&self, caller: &Caller, slug: &str) -> Result<Import<'_>> {
        let Access { app, .. } = self.authorize_owner(caller, slug).await?;
        self.import_into(app, actor_of(caller), None).await
    }

    /// `rampart import --app slug`, recorded as the system's; `firebase` from its flags.
    pub async fn start_import_as_operator(
        &self,
        slug: &str,
        firebase: Option<FirebaseHashConfig>,
    ) -> Result<Import<'_>> {
        let app = self.fresh_app(slug).await?;
        let firebase = firebase.map(|f| firebase_params(&f)).transpose()?;
        self.import_into(app, Actor::system(), firebase).await
    }

    async fn import_into(&self, app: App, actor: Actor, firebase: Option<FirebaseParams>) -> Result<Import<'_>> {
        let roles: HashMap<String, Role> =
            self.store.roles(app.id).await?.into_iter().map(|r| (r.name.clone(), r)).collect();
        let default_role = roles
            .get(&app.config.signup_default_role)
            .cloned()
            .ok_or_else(|| Error::internal(anyhow::anyhow!("signup_default_role is missing in app {}", app.slug)))?;
        Ok(Import {
            engine: self,
            app,
            actor,
            roles,
            default_role,
            firebase_fixed: firebase.is_some(),
            firebase,
            seen: SeenKeys::default(),
            keyer: RandomState::new(),
            pending: Vec::with_capacity(BATCH),
            line_no: 0,
            header_possible: true,
            summary: ImportSummary::default(),
            fresh: Vec::new(),
            statistics_at: STATISTICS_FIRST,
            statistics_written: 0,
        })
    }
}

fn firebase_params(f: &FirebaseHashConfig) -> Result<FirebaseParams> {
    FirebaseParams::parse(&f.signer_key, &f.salt_separator, f.rounds, f.mem_cost)
        .map_err(|r| Error::invalid(format!("firebase_scrypt: {}", r.message)))
}

impl Import<'_> {
    /// The summary so far.
    pub fn summary(&self) -> &ImportSummary {
        &self.summary
    }

    /// The failures since the last call, for a caller that reports them as they happen.
    pub fn drain_failures(&mut self) -> Vec<LineFailure> {
        std::mem::take(&mut self.fresh)
    }

    fn fail(&mut self, f: LineFailure) {
        self.summary.failed_count += 1;
        if self.summary.failed.len() < FAILURES_LISTED {
            self.summary.failed.push(f.clone());
        }
        self.fresh.push(f);
    }

    /// The next line of the file. Errs only when the store does (the run stops there; what
    /// was committed stays, and a rerun picks it up as unchanged).
    pub async fn feed(&mut self, item: LineItem) -> Result<()> {
        self.line_no += 1;
        let line = self.line_no;
        let text = match item {
            LineItem::TooLong => {
                self.summary.lines += 1;
                let max = super::transfer::MAX_LINE_BYTES;
                self.fail(failure(line, "LINE_TOO_LONG", format!("a line may be at most {max} bytes")));
                return Ok(());
            }
            LineItem::NotUtf8 => {
                self.summary.lines += 1;
                self.fail(failure(line, "INVALID_JSON", "the line is not UTF-8"));
                return Ok(());
            }
            LineItem::Line(text) => text,
        };
        let text = text.trim();
        if text.is_empty() {
            return Ok(());
        }
        if std::mem::take(&mut self.header_possible) && self.header(line, text) {
            return Ok(());
        }
        self.summary.lines += 1;
        let parsed = serde_json::from_str::<UserLine>(text).map_err(|e| {
            let code = if e.is_data() { "INVALID_LINE" } else { "INVALID_JSON" };
            failure(line, code, e.to_string())
        });
        match parsed.and_then(|user| self.prepare(line, user)).and_then(|p| self.first_sight(p)) {
            Ok(prepared) => self.pending.push(prepared),
            Err(f) => self.fail(f),
        }
        if self.pending.len() >= BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    /// Takes the first line as the header if it is one (an object with `format`).
    fn header(&mut self, line: u64, text: &str) -> bool {
        let Ok(serde_json::Value::Object(fields)) = serde_json::from_str::<serde_json::Value>(text) else {
            return false;
        };
        if !fields.contains_key("format") {
            return false;
        }
        let header = match serde_json::from_value::<Header>(serde_json::Value::Object(fields)) {
            Ok(h) if h.format == FORMAT && h.version == VERSION => h,
            Ok(_) => {
                self.fail(failure(
                    line,
                    "INVALID_HEADER",
                    format!("the header must say format {FORMAT}, version {VERSION}"),
                ));
                return true;
            }
            Err(e) => {
                self.fail(failure(line, "INVALID_HEADER", e.to_string()));
                return true;
            }
        };
        if let (Some(f), false) = (&header.firebase_scrypt, self.firebase_fixed) {
            match firebase_params(f) {
                Ok(p) => self.firebase = Some(p),
                Err(e) => self.fail(failure(line, "INVALID_HEADER", e.to_string())),
            }
        }
        true
    }

    /// Everything about a line that needs no store.
    fn prepare(&self, line: u64, user: UserLine) -> Result<Prepared, LineFailure> {
        let bad = |e: Error| invalid_field(line, &e);
        let mut contacts = Vec::new();
        let primaries = user.emails.iter().filter(|e| e.primary).count();
        if primaries > 1 {
            return Err(failure(line, "INVALID_LINE", "at most one email may be primary"));
        }
        for (i, email) in user.emails.iter().enumerate() {
            let parsed = Email::parse(&email.address).map_err(bad)?;
            contacts.push(NewContact {
                kind: ContactKind::Email,
                value: parsed.as_str().to_owned(),
                verified: email.verified,
                primary: email.primary || (primaries == 0 && i == 0),
            });
        }
        for phone in &user.phones {
            let value = parse_phone(&phone.number).map_err(bad)?;
            contacts.push(NewContact { kind: ContactKind::Phone, value, verified: phone.verified, primary: false });
        }
        let mut values: Vec<(ContactKind, String)> =
            contacts.iter().map(|c| (c.kind, c.value.to_lowercase())).collect();
        values.sort_unstable_by(|a, b| (a.0.as_str(), &a.1).cmp(&(b.0.as_str(), &b.1)));
        if values.windows(2).any(|w| w[0] == w[1]) {
            return Err(failure(line, "INVALID_LINE", "the same contact is given twice"));
        }
        let primary = contacts.iter().find(|c| c.primary).map(|c| c.value.clone());
        if user.id.is_none() && primary.is_none() {
            return Err(failure(line, "INVALID_LINE", "a user needs an id or an email"));
        }
        let username = match &user.username {
            Some(name) => Username::parse(name).map_err(bad)?.as_str().to_owned(),
            None => derived_username(primary.as_deref(), user.id),
        };
        let display_name = match &user.display_name {
            Some(name) => DisplayName::parse(name, "display_name").map_err(bad)?.as_str().to_owned(),
            None => username.clone(),
        };
        let status = match user.status.as_deref() {
            None => Status::Active,
            Some(s) => Status::parse(s)
                .ok_or_else(|| failure(line, "INVALID_LINE", "status must be 'active' or 'suspended'"))?,
        };
        let role = self.role(line, user.role.as_deref())?;
        let given = Given {
            display_name: user.display_name.is_some(),
            status: user.status.is_some(),
            role: user.role.is_some(),
        };
        let password = self.password(line, &user)?;
        let mut orgs = Vec::new();
        for org in &user.organizations {
            orgs.push(self.membership(line, org)?);
        }
        Ok(Prepared {
            line,
            id: user.id,
            username,
            display_name,
            status,
            role,
            given,
            created_at: user.created_at.unwrap_or_else(now),
            contacts,
            password,
            orgs,
        })
    }

    fn role(&self, line: u64, name: Option<&str>) -> Result<Role, LineFailure> {
        match name {
            None => Ok(self.default_role.clone()),
            Some(name) => self.roles.get(name.trim()).cloned().ok_or_else(|| {
                failure(
                    line,
                    "UNKNOWN_ROLE",
                    format!("no role '{}' in this app; create it before importing", name.trim()),
                )
            }),
        }
    }

    fn password(&self, line: u64, user: &UserLine) -> Result<Option<(String, Scheme)>, LineFailure> {
        let Some(hash) = user.password_hash.as_deref() else {
            return Ok(None);
        };
        let refused = |r: foreign::Refused| failure(line, r.code, r.message);
        match user.password_format.as_deref() {
            None | Some("auto") => {
                if user.password_salt.is_some() {
                    return Err(failure(
                        line,
                        "INVALID_LINE",
                        "password_salt goes with password_format firebase-scrypt",
                    ));
                }
                let scheme = foreign::accept(hash).map_err(refused)?;
                Ok(Some((hash.to_owned(), scheme)))
            }
            Some("firebase-scrypt") => {
                let params = self.firebase.as_ref().ok_or_else(|| {
                    failure(line, "MISSING_FIREBASE_PARAMS", "firebase-scrypt hashes need the project's hash parameters (header firebase_scrypt, or the CLI's --firebase-* flags)")
                })?;
                let salt = user
                    .password_salt
                    .as_deref()
                    .ok_or_else(|| failure(line, "INVALID_LINE", "a firebase-scrypt hash needs password_salt"))?;
                Ok(Some((params.stored(hash, salt).map_err(refused)?, Scheme::FirebaseScrypt)))
            }
            Some(other) => Err(failure(
                line,
                "UNKNOWN_HASH_FORMAT",
                format!("password_format '{other}' is not one Rampart imports"),
            )),
        }
    }

    fn membership(&self, line: u64, org: &OrgLine) -> Result<NewMembership, LineFailure> {
        let bad = |e: Error| invalid_field(line, &e);
        let name = org.name.as_deref().map(|n| DisplayName::parse(n, "organizations.name")).transpose().map_err(bad)?;
        let slug = match (&org.slug, &name) {
            (Some(slug), _) => Slug::parse(slug.trim()).map_err(bad)?.as_str().to_owned(),
            (None, Some(name)) => super::orgs::slug_for(name.as_str()).map_err(bad)?,
            (None, None) if org.id.is_some() => String::new(),
            (None, None) => return Err(failure(line, "INVALID_LINE", "an organization needs an id, a slug or a name")),
        };
        let name = name.map_or_else(|| slug.clone(), |n| n.as_str().to_owned());
        let role = self.role(line, Some(org.role.as_deref().unwrap_or(MEMBER)))?;
        Ok(NewMembership { id: org.id, slug, name, role })
    }

    /// Refuses a line naming a user (by id, email or username) an earlier line named.
    fn first_sight(&mut self, p: Prepared) -> Result<Prepared, LineFailure> {
        let mut keys = vec![("username", p.username.to_lowercase())];
        keys.extend(p.id.map(|id| ("id", id.to_string())));
        keys.extend(p.contacts.iter().map(|c| (c.kind.as_str(), c.value.to_lowercase())));
        let hashed: Vec<(u64, &str, &str)> =
            keys.iter().map(|(what, v)| (self.keyer.hash_one((what, v)), *what, v.as_str())).collect();
        if let Some((_, what, value, earlier)) =
            hashed.iter().find_map(|(h, what, v)| self.seen.get(*h).map(|l| (h, what, v, l)))
        {
            return Err(failure(p.line, "DUPLICATE_IN_FILE", format!("{what} {value} is also on line {earlier}")));
        }
        for (h, _, _) in hashed {
            self.seen.insert(h, p.line);
        }
        Ok(p)
    }

    /// Writes the lines read so far (`finish` does too).
    pub async fn flush(&mut self) -> Result<()> {
        let batch = std::mem::take(&mut self.pending);
        if batch.is_empty() {
            return Ok(());
        }
        let mut plans = Vec::with_capacity(batch.len());
        let mut new_orgs: HashMap<String, Organization> = HashMap::new();
        let mut planned = Vec::with_capacity(batch.len());
        for p in &batch {
            match self.plan(p, &mut new_orgs).await? {
                Ok(plan) => {
                    plans.push(plan);
                    planned.push(p.line);
                }
                Err(f) => self.fail(f),
            }
        }
        match self.write(&plans).await? {
            Ok(()) => self.count(&plans),
            // A live change took a username, a contact or an organization meanwhile: each
            // line again on its own, so only the lines it concerns fail.
            Err(conflict) => {
                tracing::info!(error = %conflict, "import batch refused; writing its lines one by one");
                for p in batch.iter().filter(|p| planned.contains(&p.line)) {
                    let mut own = HashMap::new();
                    let plan = match self.plan(p, &mut own).await? {
                        Ok(plan) => plan,
                        Err(f) => {
                            self.fail(f);
                            continue;
                        }
                    };
                    match self.write(std::slice::from_ref(&plan)).await? {
                        Ok(()) => self.count(std::slice::from_ref(&plan)),
                        Err(_) => self.fail(failure(
                            p.line,
                            "CONFLICT",
                            "a username, contact or organization of this line was taken while importing",
                        )),
                    }
                }
            }
        }
        if self.written() >= self.statistics_at {
            self.statistics_at = self.written().saturating_mul(2);
            self.refresh_statistics().await;
        }
        Ok(())
    }

    /// The tables this run grows are read by its own next lines (and by every sign-in after
    /// it) through plans made from their statistics; a failure costs speed, not the import.
    async fn refresh_statistics(&mut self) {
        self.statistics_written = self.written();
        if let Err(e) = self.engine.store.refresh_statistics().await {
            tracing::warn!(error = %e, "could not refresh the store's statistics after import batches");
        }
    }

    /// Users this run created or updated.
    fn written(&self) -> u64 {
        self.summary.created + self.summary.updated
    }

    fn count(&mut self, plans: &[Plan]) {
        for plan in plans {
            match (plan.created, plan.ops.is_empty()) {
                (true, _) => self.summary.created += 1,
                (false, true) => self.summary.unchanged += 1,
                (false, false) => self.summary.updated += 1,
            }
        }
    }

    /// Ends the run: the last batch, and the run's own audit event.
    pub async fn finish(mut self) -> Result<ImportSummary> {
        self.flush().await?;
        if self.written() > self.statistics_written {
            self.refresh_statistics().await;
        }
        let s = &self.summary;
        let mut tx = self.engine.write().await?;
        tx.record(
            self.app.id,
            Event::new("end_users.imported", self.actor.clone()).details(json!({
                "lines": s.lines, "created": s.created, "updated": s.updated,
                "unchanged": s.unchanged, "failed": s.failed_count,
            })),
        );
        tx.commit().await?;
        Ok(self.summary)
    }

    /// The user a line names, and what writing it takes. `Ok(Err)`: the line fails.
    async fn plan(
        &self,
        p: &Prepared,
        new_orgs: &mut HashMap<String, Organization>,
    ) -> Result<Result<Plan, LineFailure>> {
        let store = &self.engine.store;
        let app_id = self.app.id;
        let existing = match p.id {
            Some(id) => store.user_by_id(app_id, id).await?,
            None => None,
        };
        let existing = match existing {
            Some(user) => Some(user),
            None => match self.by_primary_email(p).await? {
                Ok(user) => user,
                Err(f) => return Ok(Err(f)),
            },
        };
        let at = now();
        let mut ops = Vec::new();
        let mut changes = Vec::new();
        let (user_id, created, contacts, memberships) = match existing {
            None => {
                if store.user_by_username(app_id, &p.username).await?.is_some() {
                    let message = format!("username {} is taken in this app", p.username);
                    return Ok(Err(failure(p.line, "USERNAME_TAKEN", message)));
                }
                // The file's id when no app has it (a move between servers keeps tokens' `sub`).
                let id = match p.id {
                    Some(id) if !store.user_id_taken(id).await? => id,
                    _ => Uuid::now_v7(),
                };
                ops.push(Op::InsertUser(User {
                    id,
                    app_id,
                    username: p.username.clone(),
                    display_name: p.display_name.clone(),
                    password_hash: p.password.as_ref().map(|(h, _)| h.clone()),
                    role_id: p.role.id,
                    status: p.status,
                    created_at: p.created_at,
                    updated_at: at,
                }));
                (id, true, Vec::new(), Vec::new())
            }
            Some(user) => {
                let mut next = user.clone();
                if p.given.display_name {
                    next.display_name.clone_from(&p.display_name);
                }
                if p.given.role {
                    next.role_id = p.role.id;
                }
                if p.given.status {
                    next.status = p.status;
                }
                if next.display_name != user.display_name || next.role_id != user.role_id || next.status != user.status
                {
                    changes.push("profile");
                    next.updated_at = at;
                    let suspends = next.status == Status::Suspended && user.status != Status::Suspended;
                    ops.push(Op::UpdateUser(next));
                    if suspends {
                        ops.push(Op::RevokeSessions);
                    }
                }
                if let Some((hash, _)) = &p.password {
                    if Self::replaces(user.password_hash.as_deref(), hash) {
                        changes.push("password");
                        ops.push(Op::SetPassword(hash.clone()));
                    }
                }
                let contacts = store.contacts_of(app_id, user.id).await?;
                let memberships = store.organizations_of(app_id, user.id).await?;
                (user.id, false, contacts, memberships)
            }
        };
        for c in &p.contacts {
            if c.verified {
                let holder = store.user_by_verified_contact(app_id, c.kind, &c.value.to_lowercase()).await?;
                if holder.is_some_and(|h| h.id != user_id) {
                    let message = format!("{} {} is another user's verified {0}", c.kind.as_str(), c.value);
                    return Ok(Err(failure(p.line, "CONTACT_TAKEN", message)));
                }
            }
            let known = contacts.iter().find(|k| k.kind == c.kind && k.value.eq_ignore_ascii_case(&c.value));
            match known {
                None => {
                    changes.push("contacts");
                    let contact = Contact {
                        id: Uuid::now_v7(),
                        app_id,
                        user_id,
                        kind: c.kind,
                        value: c.value.clone(),
                        // A new user's primary email is primary from the start; an existing
                        // user's becomes primary below, once inserted.
                        is_primary: created && c.primary,
                        verified_at: c.verified.then_some(at),
                        created_at: if created { p.created_at } else { at },
                    };
                    let id = contact.id;
                    ops.push(Op::InsertContact(contact));
                    if c.primary && !created {
                        ops.push(Op::SetPrimary(id));
                    }
                }
                Some(k) => {
                    if c.verified && k.verified_at.is_none() {
                        changes.push("contacts");
                        ops.push(Op::VerifyContact(k.id));
                    }
                    if c.primary && !k.is_primary {
                        changes.push("contacts");
                        ops.push(Op::SetPrimary(k.id));
                    }
                }
            }
        }
        for m in &p.orgs {
            let org = match self.organization(m, new_orgs).await? {
                Ok((org, fresh)) => {
                    if fresh {
                        ops.push(Op::InsertOrg(org.clone()));
                    }
                    org
                }
                Err(message) => return Ok(Err(failure(p.line, "INVALID_LINE", message))),
            };
            match memberships.iter().find(|k| k.org.id == org.id) {
                None => {
                    changes.push("organizations");
                    ops.push(Op::AddToOrg(org.id, m.role.id));
                }
                Some(k) if k.role_id != m.role.id => {
                    changes.push("organizations");
                    ops.push(Op::SetOrgRole(org.id, m.role.id));
                }
                Some(_) => {}
            }
        }
        changes.dedup();
        Ok(Ok(Plan { line: p.line, user_id, created, ops, changes, scheme: p.password.as_ref().map(|(_, s)| *s) }))
    }

    /// The one user whose email the line's primary one is: its verified holder; else an
    /// unverified holder only when it is this line's own earlier import (the same password
    /// hash, or none on both sides). Anyone can sign up with an address they do not own and
    /// leave it unverified: matching them would hand the imported user's profile, verified
    /// address and organizations to whoever signed up first.
    async fn by_primary_email(&self, p: &Prepared) -> Result<Result<Option<User>, LineFailure>> {
        let Some(primary) = p.contacts.iter().find(|c| c.primary) else { return Ok(Ok(None)) };
        let holders = self.engine.store.email_contacts(self.app.id, &primary.value.to_lowercase()).await?;
        if let Some(verified) = holders.iter().find(|c| c.verified_at.is_some()) {
            return Ok(Ok(self.engine.store.user_by_id(self.app.id, verified.user_id).await?));
        }
        let mut users: Vec<Uuid> = holders.iter().map(|c| c.user_id).collect();
        users.sort_unstable();
        users.dedup();
        let line_hash = p.password.as_ref().map(|(h, _)| h.as_str());
        let mut own = None;
        for id in users {
            if let Some(user) = self.engine.store.user_by_id(self.app.id, id).await? {
                if user.password_hash.as_deref() == line_hash && own.replace(user).is_some() {
                    let message =
                        format!("{} is an unverified email of several users; give the line an id", primary.value);
                    return Ok(Err(failure(p.line, "AMBIGUOUS_EMAIL", message)));
                }
            }
        }
        match own {
            Some(user) => Ok(Ok(Some(user))),
            None if holders.is_empty() => Ok(Ok(None)),
            None => Ok(Err(failure(
                p.line,
                "EMAIL_HELD_UNVERIFIED",
                format!(
                    "{} is an unverified email of a user this file did not create; give the line that user's id, or remove that user",
                    primary.value
                ),
            ))),
        }
    }

    /// Whether the file's hash replaces the stored one: only a stored hash that is itself
    /// an import not yet used (one that needs rehashing). A password set or used in Rampart
    /// since (its own argon2id) is never replaced, so rerunning an old file cannot bring back
    /// a password the user changed or reset away from.
    fn replaces(stored: Option<&str>, hash: &str) -> bool {
        match stored {
            None => true,
            Some(s) if s == hash => false,
            Some(s) => password::needs_rehash(s),
        }
    }

    /// The organization of a membership, and whether this line creates it. `Err`: the id
    /// names another app's organization by a slug this app uses for another.
    async fn organization(
        &self,
        m: &NewMembership,
        new_orgs: &mut HashMap<String, Organization>,
    ) -> Result<Result<(Organization, bool), String>> {
        let store = &self.engine.store;
        let app_id = self.app.id;
        if let Some(id) = m.id {
            if let Some(org) = store.organization(app_id, id).await? {
                return Ok(Ok((org, false)));
            }
        }
        if m.slug.is_empty() {
            return Ok(Err("no organization of this app has that id; give its slug or name to create it".into()));
        }
        if let Some(org) = store.organization_by_slug(app_id, &m.slug).await? {
            return Ok(Ok((org, false)));
        }
        if let Some(org) = new_orgs.get(&m.slug) {
            return Ok(Ok((org.clone(), false)));
        }
        let id = match m.id {
            Some(id) if !store.organization_id_taken(id).await? => id,
            _ => Uuid::now_v7(),
        };
        let at = now();
        let org = Organization {
            id,
            app_id,
            slug: m.slug.clone(),
            name: m.name.clone(),
            metadata: json!({}),
            created_by: None,
            created_at: at,
            updated_at: at,
        };
        new_orgs.insert(m.slug.clone(), org.clone());
        Ok(Ok((org, true)))
    }

    /// Writes the plans in one transaction with their audit events. `Ok(Err)`: a constraint
    /// refused a write (nothing of the batch is written).
    async fn write(&self, plans: &[Plan]) -> Result<Result<(), StoreError>> {
        if plans.iter().all(|p| p.ops.is_empty()) {
            return Ok(Ok(()));
        }
        let app_id = self.app.id;
        let kind = user_kind(&self.app.slug);
        let at = now();
        let mut tx = self.engine.write().await?;
        for plan in plans.iter().filter(|p| !p.ops.is_empty()) {
            let user_id = plan.user_id;
            for op in &plan.ops {
                let done = match op {
                    Op::InsertUser(user) => tx.insert_user(user).await,
                    Op::UpdateUser(user) => tx.update_user(user).await,
                    Op::RevokeSessions => tx.revoke_user_sessions(app_id, user_id, at).await.map(drop),
                    Op::SetPassword(hash) => tx.set_password_hash(app_id, user_id, hash, at).await.map(drop),
                    Op::InsertContact(contact) => tx.insert_contact(contact).await,
                    Op::VerifyContact(id) => tx.verify_contact(app_id, *id, at).await.map(drop),
                    Op::SetPrimary(id) => tx.set_primary_email(app_id, user_id, *id).await.map(drop),
                    Op::InsertOrg(org) => {
                        let done = tx.insert_organization(org).await;
                        if done.is_ok() {
                            tx.record(
                                app_id,
                                Event::new("org.created", self.actor.clone())
                                    .subject("organization", org.id)
                                    .details(json!({"slug": org.slug, "name": org.name, "by": "import"})),
                            );
                        }
                        done
                    }
                    Op::AddToOrg(org, role) => tx.insert_org_member(app_id, *org, user_id, *role, at).await,
                    Op::SetOrgRole(org, role) => tx.set_org_member_role(app_id, *org, user_id, *role).await.map(drop),
                };
                match done {
                    Ok(()) => {}
                    Err(e @ (StoreError::Unique { .. } | StoreError::ForeignKey)) => return Ok(Err(e)),
                    Err(e) => return Err(e.into()),
                }
            }
            if !plan.created {
                tx.changed(Change::User(user_id));
            }
            tx.record(
                app_id,
                Event::new(format!("{kind}.imported"), self.actor.clone()).subject(kind, user_id).details(json!({
                    "action": if plan.created { "created" } else { "updated" },
                    "changes": plan.changes,
                    "password_scheme": plan.scheme.map(Scheme::as_str),
                    "line": plan.line,
                })),
            );
        }
        tx.commit().await?;
        Ok(Ok(()))
    }
}

/// A username for a line without one: its primary email's local part (what a username may
/// hold of it) and 6 hex digits of the address's hash, so that it is the same on a rerun and
/// two addresses with one local part differ. Without an email, from the id.
fn derived_username(email: Option<&str>, id: Option<Uuid>) -> String {
    let (base, seed) = match (email, id) {
        (Some(email), _) => {
            let local = email.split('@').next().unwrap_or_default();
            (local.to_lowercase(), email.to_lowercase())
        }
        (None, Some(id)) => ("user".to_owned(), id.to_string()),
        (None, None) => ("user".to_owned(), String::new()),
    };
    let mut name: String =
        base.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')).take(32).collect();
    name = name.trim_matches(|c: char| !c.is_ascii_alphanumeric()).to_owned();
    if name.is_empty() {
        name = "user".into();
    }
    let digest = Sha256::digest(seed.as_bytes());
    format!("{name}-{:02x}{:02x}{:02x}", digest[0], digest[1], digest[2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_usernames_are_valid_and_stable() {
        for email in ["ada@example.com", "..weird+tag@example.com", "名前@example.com", "a@b.co"] {
            let name = derived_username(Some(email), None);
            assert!(Username::parse(&name).is_ok(), "{email} -> {name}");
            assert_eq!(name, derived_username(Some(&email.to_uppercase()), None));
        }
        assert_ne!(derived_username(Some("ada@one.example"), None), derived_username(Some("ada@two.example"), None));
        assert!(Username::parse(&derived_username(None, Some(Uuid::new_v4()))).is_ok());
    }
}
