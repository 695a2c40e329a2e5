//! Waitlists (seed 004): an end-user joins, checks and leaves a feature's waitlist "in the
//! token account context" (the organization its token acts in, or its own); admins count,
//! page through and export each list, and let people in, which mails them.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, TimeZone, Utc};
use serde::Deserialize;
use serde_json::json;
use shared::waitlists::{is_feature_name, MyWaitlistView, WaitlistEntryView, WaitlistPage, WaitlistSummary};
use uuid::Uuid;

use super::audit::{actor_of, user_actor};
use super::caller::Caller;
use super::{now, Engine, Principal};
use crate::audit::Event;
use crate::mail::render::{render, MailKind, Vars};
use crate::model::{App, WaitlistEntry, WaitlistListing};
use crate::{Error, Result};

/// Entries a page shows by default, and at most; entries one admission lets in at most.
const PAGE_DEFAULT: u32 = 50;
const PAGE_MAX: u32 = 200;
pub const ADMIT_MAX: usize = 500;

/// Whom to let in: these entries, or the `count` who have waited longest.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Admission {
    #[serde(default)]
    pub ids: Option<Vec<String>>,
    #[serde(default)]
    pub count: Option<u32>,
}

fn status_of(entry: &WaitlistEntry) -> &'static str {
    if entry.admitted_at.is_some() {
        "admitted"
    } else {
        "waiting"
    }
}

fn my_view(feature: &str, org: Option<Uuid>, entry: Option<&WaitlistEntry>) -> MyWaitlistView {
    MyWaitlistView {
        feature: feature.to_owned(),
        joined: entry.is_some(),
        status: entry.map(|e| status_of(e).to_owned()),
        organization_id: org,
        joined_at: entry.map(|e| e.created_at),
        admitted_at: entry.and_then(|e| e.admitted_at),
    }
}

fn entry_view(l: WaitlistListing) -> WaitlistEntryView {
    WaitlistEntryView {
        id: l.entry.id,
        status: status_of(&l.entry).to_owned(),
        feature: l.entry.feature,
        user_id: l.entry.user_id,
        username: l.username,
        display_name: l.display_name,
        email: l.email,
        organization_id: l.entry.org_id,
        organization_name: l.org_name,
        joined_at: l.entry.created_at,
        admitted_at: l.entry.admitted_at,
    }
}

fn encode_cursor(entry: &WaitlistEntry) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}.{}", entry.created_at.timestamp_micros(), entry.id))
}

fn decode_cursor(raw: &str) -> Result<(DateTime<Utc>, Uuid)> {
    let bad = || Error::invalid("cursor is not one this API gave out");
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?).map_err(|_| bad())?;
    let (micros, id) = text.split_once('.').ok_or_else(bad)?;
    let at = Utc.timestamp_micros(micros.parse().map_err(|_| bad())?).single().ok_or_else(bad)?;
    Ok((at, Uuid::parse_str(id).map_err(|_| bad())?))
}

/// A cell of the export: quoted when it must be, and never read as a formula by a
/// spreadsheet (names and emails are the users' own words).
fn csv_cell(raw: &str) -> String {
    let cell = if raw.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{raw}") } else { raw.to_owned() };
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell
    }
}

/// A feature name from a URL: well formed, else no such waitlist.
fn feature_name(raw: &str) -> Result<&str> {
    is_feature_name(raw).then_some(raw).ok_or(Error::NotFound("Waitlist"))
}

impl Engine {
    /// The context of the caller's waitlist entries: the organization its token acts in.
    fn waitlist_context(me: &Principal) -> Option<Uuid> {
        me.active_org_id()
    }

    /// `GET me/waitlists`: the caller's entries in its token's context.
    pub async fn my_waitlists(&self, me: &Principal) -> Result<Vec<MyWaitlistView>> {
        let org = Self::waitlist_context(me);
        let entries = self.store.waitlist_entries_of(me.app.id, me.user_id, org).await?;
        Ok(entries.iter().map(|e| my_view(&e.feature, org, Some(e))).collect())
    }

    /// `GET me/waitlists/{feature}`: whether the caller is on it. A feature the app does not
    /// list is a 404, unless the caller is still on its list.
    pub async fn my_waitlist(&self, me: &Principal, feature: &str) -> Result<MyWaitlistView> {
        let feature = feature_name(feature)?;
        let org = Self::waitlist_context(me);
        let entry = self.store.waitlist_entry(me.app.id, feature, me.user_id, org).await?;
        if entry.is_none() && !me.app.config.waitlists.iter().any(|f| f == feature) {
            return Err(Error::NotFound("Waitlist"));
        }
        Ok(my_view(feature, org, entry.as_ref()))
    }

    /// `PUT me/waitlists/{feature}`: puts the caller on the list, once; a repeat answers the
    /// same entry.
    #[tracing::instrument(skip_all, fields(app = %me.app.slug))]
    pub async fn join_waitlist(&self, me: &Principal, feature: &str) -> Result<MyWaitlistView> {
        let feature = feature_name(feature)?;
        if !me.app.config.waitlists.iter().any(|f| f == feature) {
            return Err(Error::NotFound("Waitlist"));
        }
        let org = Self::waitlist_context(me);
        let entry = WaitlistEntry {
            id: Uuid::now_v7(),
            app_id: me.app.id,
            feature: feature.to_owned(),
            user_id: me.user_id,
            org_id: org,
            created_at: now(),
            admitted_at: None,
        };
        let mut tx = self.write().await?;
        if tx.join_waitlist(&entry).await? {
            tx.record(
                me.app.id,
                Event::new("waitlist.joined", user_actor(&me.app.slug, me.user_id))
                    .subject("waitlist_entry", entry.id)
                    .details(json!({"feature": feature, "organization_id": org})),
            );
            tx.commit().await?;
            return Ok(my_view(feature, org, Some(&entry)));
        }
        drop(tx);
        let found = self.store.waitlist_entry(me.app.id, feature, me.user_id, org).await?;
        Ok(my_view(feature, org, found.as_ref()))
    }

    /// `DELETE me/waitlists/{feature}`: takes the caller off the list; done if it was not on it.
    #[tracing::instrument(skip_all, fields(app = %me.app.slug))]
    pub async fn leave_waitlist(&self, me: &Principal, feature: &str) -> Result<()> {
        let feature = feature_name(feature)?;
        let org = Self::waitlist_context(me);
        let mut tx = self.write().await?;
        if let Some(id) = tx.leave_waitlist(me.app.id, feature, me.user_id, org).await? {
            tx.record(
                me.app.id,
                Event::new("waitlist.left", user_actor(&me.app.slug, me.user_id))
                    .subject("waitlist_entry", id)
                    .details(json!({"feature": feature, "organization_id": org})),
            );
            tx.commit().await?;
        }
        Ok(())
    }

    /// Every feature the app lists or that has entries, with its counts.
    pub async fn waitlists(&self, caller: &Caller, slug: &str) -> Result<Vec<WaitlistSummary>> {
        let app = self.authorize(caller, slug, "waitlist.read").await?.app;
        self.summaries(&app).await
    }

    async fn summaries(&self, app: &App) -> Result<Vec<WaitlistSummary>> {
        let counts = self.store.waitlist_counts(app.id).await?;
        let mut out: Vec<WaitlistSummary> = app
            .config
            .waitlists
            .iter()
            .map(|feature| {
                let count = counts.iter().find(|c| &c.feature == feature);
                WaitlistSummary {
                    feature: feature.clone(),
                    configured: true,
                    waiting: count.map_or(0, |c| c.waiting),
                    admitted: count.map_or(0, |c| c.admitted),
                }
            })
            .collect();
        for c in counts {
            if !app.config.waitlists.contains(&c.feature) {
                out.push(WaitlistSummary {
                    feature: c.feature,
                    configured: false,
                    waiting: c.waiting,
                    admitted: c.admitted,
                });
            }
        }
        Ok(out)
    }

    async fn summary(&self, app: &App, feature: &str) -> Result<WaitlistSummary> {
        let feature = feature_name(feature)?;
        self.summaries(app).await?.into_iter().find(|s| s.feature == feature).ok_or(Error::NotFound("Waitlist"))
    }

    /// A page of one feature's entries, oldest first; `status` is `waiting`, `admitted` or
    /// `all` (the default).
    pub async fn waitlist_page(
        &self,
        caller: &Caller,
        slug: &str,
        feature: &str,
        status: Option<&str>,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<WaitlistPage> {
        let app = self.authorize(caller, slug, "waitlist.read").await?.app;
        let summary = self.summary(&app, feature).await?;
        let admitted = match status.unwrap_or("all") {
            "all" => None,
            "waiting" => Some(false),
            "admitted" => Some(true),
            _ => return Err(Error::invalid("status must be waiting, admitted or all")),
        };
        let limit = limit.unwrap_or(PAGE_DEFAULT);
        if !(1..=PAGE_MAX).contains(&limit) {
            return Err(Error::invalid(format!("limit must be between 1 and {PAGE_MAX}")));
        }
        let after = cursor.map(decode_cursor).transpose()?;
        let mut rows = self.store.waitlist_page(app.id, &summary.feature, admitted, after, limit + 1).await?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor = if more { rows.last().map(|l| encode_cursor(&l.entry)) } else { None };
        Ok(WaitlistPage { summary, entries: rows.into_iter().map(entry_view).collect(), next_cursor })
    }

    /// The whole list of a feature as CSV, oldest first.
    pub async fn export_waitlist(&self, caller: &Caller, slug: &str, feature: &str) -> Result<String> {
        let app = self.authorize(caller, slug, "waitlist.read").await?.app;
        let summary = self.summary(&app, feature).await?;
        let mut csv = String::from("id,feature,user_id,username,display_name,email,organization_id,organization_name,status,joined_at,admitted_at\n");
        let mut after = None;
        loop {
            let rows = self.store.waitlist_page(app.id, &summary.feature, None, after, PAGE_MAX).await?;
            let full = rows.len() == PAGE_MAX as usize;
            after = rows.last().map(|l| (l.entry.created_at, l.entry.id));
            for row in rows {
                let v = entry_view(row);
                let cells = [
                    v.id.to_string(),
                    v.feature,
                    v.user_id.to_string(),
                    v.username,
                    v.display_name,
                    v.email.unwrap_or_default(),
                    v.organization_id.map(|id| id.to_string()).unwrap_or_default(),
                    v.organization_name.unwrap_or_default(),
                    v.status,
                    shared::time_format::format(&v.joined_at),
                    v.admitted_at.as_ref().map(shared::time_format::format).unwrap_or_default(),
                ];
                csv.push_str(&cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","));
                csv.push('\n');
            }
            if !full {
                return Ok(csv);
            }
        }
    }

    /// Lets people in from a feature's list: the entries named, or the `count` who have
    /// waited longest. Each one let in gets a mail (at its primary email), in the same
    /// transaction; entries already let in, or gone, are skipped, so two admins admitting the
    /// same people mail each once. Answers the entries this call let in.
    #[tracing::instrument(skip_all, fields(app = slug))]
    pub async fn admit_waitlist(
        &self,
        caller: &Caller,
        slug: &str,
        feature: &str,
        admission: Admission,
    ) -> Result<Vec<WaitlistEntryView>> {
        let app = self.authorize(caller, slug, "waitlist.update").await?.app;
        let summary = self.summary(&app, feature).await?;
        let feature = summary.feature.as_str();
        let candidates: Vec<WaitlistListing> = match (admission.ids, admission.count) {
            (Some(ids), None) => {
                if ids.is_empty() || ids.len() > ADMIT_MAX {
                    return Err(Error::invalid(format!("ids must hold 1 to {ADMIT_MAX} entry ids")));
                }
                let ids: Vec<Uuid> = ids
                    .iter()
                    .map(|id| {
                        Uuid::parse_str(id).map_err(|_| Error::invalid(format!("ids: '{id}' is not an entry id")))
                    })
                    .collect::<Result<_>>()?;
                // The waiting entries among them (a page at a time, oldest first).
                let mut found = Vec::new();
                let mut after = None;
                loop {
                    let rows = self.store.waitlist_page(app.id, feature, Some(false), after, PAGE_MAX).await?;
                    let full = rows.len() == PAGE_MAX as usize;
                    after = rows.last().map(|l| (l.entry.created_at, l.entry.id));
                    found.extend(rows.into_iter().filter(|l| ids.contains(&l.entry.id)));
                    if !full || found.len() == ids.len() {
                        break;
                    }
                }
                found
            }
            (None, Some(count)) => {
                if count == 0 || count as usize > ADMIT_MAX {
                    return Err(Error::invalid(format!("count must be between 1 and {ADMIT_MAX}")));
                }
                self.store.waitlist_page(app.id, feature, Some(false), None, count).await?
            }
            _ => {
                return Err(Error::invalid(
                    "Give either ids (the entries to let in) or count (how many, longest waiting first)",
                ))
            }
        };
        let at = now();
        let mut tx = self.write().await?;
        let mut admitted = Vec::new();
        for listing in candidates {
            let Some(entry) = tx.admit_waitlist_entry(app.id, feature, listing.entry.id, at).await? else {
                continue;
            };
            if let Some(email) = &listing.email {
                let rendered = render(
                    MailKind::WaitlistAdmitted,
                    &Vars {
                        app: app.display_name.clone(),
                        name: Some(listing.display_name.clone()),
                        feature: Some(feature.to_owned()),
                        ..Vars::default()
                    },
                    &app.config,
                );
                tx.mail(&app, email, MailKind::WaitlistAdmitted, rendered)?;
            }
            tx.record(
                app.id,
                Event::new("waitlist.admitted", actor_of(caller))
                    .subject("waitlist_entry", entry.id)
                    .details(json!({"feature": feature, "user_id": entry.user_id, "organization_id": entry.org_id})),
            );
            admitted.push(entry_view(WaitlistListing { entry, ..listing }));
        }
        tx.commit().await?;
        Ok(admitted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_never_formulas() {
        assert_eq!(csv_cell("ada"), "ada");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("@cmd"), "'@cmd");
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let entry = WaitlistEntry {
            id: Uuid::now_v7(),
            app_id: Uuid::nil(),
            feature: "beta".into(),
            user_id: Uuid::nil(),
            org_id: None,
            created_at: now(),
            admitted_at: None,
        };
        assert_eq!(decode_cursor(&encode_cursor(&entry)).unwrap(), (entry.created_at, entry.id));
        assert!(decode_cursor("nope").is_err());
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode("x.y")).is_err());
    }
}
