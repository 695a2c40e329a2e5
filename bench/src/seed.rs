//! Seeding: the account and apps through the API, as a user would make them; the many
//! end-users straight into the store (10,000 argon2 sign-ups would take minutes and measure
//! nothing), all sharing one real argon2id hash of the bench password.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use chrono::Utc;
use domain::model::{Contact, ContactKind, Status, User};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use serde_json::{json, Value};
use uuid::Uuid;

pub const PASSWORD: &str = "CorrectHorseBatteryStaple";

/// A pair as sign-up, sign-in and refresh answer it.
pub struct Pair {
    pub access: String,
    pub refresh: String,
}

#[derive(Clone)]
pub struct Api {
    client: reqwest::Client,
    base: String,
}

async fn expect(response: reqwest::Response, what: &str) -> Result<Value> {
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("{what}: {status} {body}");
    }
    Ok(body)
}

fn pair_of(body: &Value) -> Result<Pair> {
    match (body["access_token"].as_str(), body["refresh_token"].as_str()) {
        (Some(a), Some(r)) => Ok(Pair { access: a.to_owned(), refresh: r.to_owned() }),
        _ => bail!("not a token pair: {body}"),
    }
}

impl Api {
    pub fn new(base: &str) -> Result<Api> {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?;
        Ok(Api { client, base: base.to_owned() })
    }

    pub async fn account(&self, username: &str) -> Result<Pair> {
        let body = json!({ "email": format!("{username}@bench.example"), "username": username, "password": PASSWORD });
        let r = self.client.post(format!("{}/api/v1/auth/signup", self.base)).json(&body).send().await?;
        pair_of(&expect(r, "account sign-up").await?)
    }

    /// Creates the app with its rate limits out of reach and no lockout: the bench sends
    /// thousands of sign-ins a second from one address to a few accounts, which is what the
    /// limits exist to refuse. The counters still count every attempt, so their cost stays in
    /// the figures.
    pub async fn create_app(&self, owner: &str, slug: &str, alg: &str) -> Result<()> {
        let body = json!({ "slug": slug, "displayName": slug, "signing_alg": alg });
        let r = self.client.post(format!("{}/api/v1/apps", self.base)).bearer_auth(owner).json(&body).send().await?;
        expect(r, &format!("create app {slug}")).await?;
        let unlimited = json!({
            "rate_limit_signin_per_ip": 1_000_000,
            "rate_limit_signin_per_identifier": 1_000_000,
            "rate_limit_redeem_per_ip": 1_000_000,
            "lockout_threshold": 0,
        });
        let r = self
            .client
            .patch(format!("{}/api/v1/apps/{slug}/config", self.base))
            .bearer_auth(owner)
            .json(&unlimited)
            .send()
            .await?;
        expect(r, &format!("lift the rate limits of {slug}")).await.map(|_| ())
    }

    /// `count` more apps, `filler-<from>` onwards, a few at a time.
    pub async fn filler_apps(&self, owner: &str, from: usize, count: usize) -> Result<()> {
        stream::iter(from..from + count)
            .map(|i| async move { self.create_app(owner, &format!("filler-{i:04}"), "EdDSA").await })
            .buffer_unordered(8)
            .try_collect::<()>()
            .await
    }

    /// Signs in `count` distinct seeded users (`user00000` …), `parallel` at a time.
    pub async fn signins(&self, slug: &str, count: usize, parallel: usize) -> Result<Vec<Pair>> {
        stream::iter(0..count)
            .map(|i| async move {
                let body = json!({ "identifier": format!("user{i:05}"), "password": PASSWORD });
                let r = self.client.post(format!("{}/{slug}/v1/auth/signin", self.base)).json(&body).send().await?;
                pair_of(&expect(r, &format!("sign in user{i:05} to {slug}")).await?)
            })
            .buffer_unordered(parallel)
            .try_collect()
            .await
    }
}

/// Inserts end-users `user<from>` … `user<to - 1>` of `slug` with verified emails and the
/// `member` role, in transactions of 500.
pub async fn users(database_url: &str, slug: &str, from: usize, to: usize, hash: &str) -> Result<()> {
    let store = domain::store::connect(database_url).await.context("open the store to seed users")?;
    let app = store.app_by_slug(slug).await?.with_context(|| format!("no app {slug}"))?;
    let role = store.role_by_name(app.id, "member").await?.context("no member role")?;
    let mut i = from;
    while i < to {
        let mut tx = store.begin().await?;
        for n in i..(i + 500).min(to) {
            let at = Utc::now();
            let user = User {
                id: Uuid::new_v4(),
                app_id: app.id,
                username: format!("user{n:05}"),
                display_name: format!("Bench User {n}"),
                password_hash: Some(hash.to_owned()),
                role_id: role.id,
                status: Status::Active,
                created_at: at,
                updated_at: at,
            };
            tx.insert_user(&user).await?;
            tx.insert_contact(&Contact {
                id: Uuid::new_v4(),
                app_id: app.id,
                user_id: user.id,
                kind: ContactKind::Email,
                value: format!("user{n:05}@bench.example"),
                is_primary: true,
                verified_at: Some(at),
                created_at: at,
            })
            .await?;
        }
        tx.commit().await?;
        i = (i + 500).min(to);
    }
    Ok(())
}
