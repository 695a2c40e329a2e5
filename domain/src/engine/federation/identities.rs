//! A user's identities at the app's providers: listing them and unlinking one (never the
//! user's last way to sign in).

use serde_json::json;
use shared::IdentityView;
use uuid::Uuid;

use super::super::audit::{user_actor, user_kind};
use super::super::{Engine, Principal};
use crate::audit::Event;
use crate::model::Unlinked;
use crate::{Error, Result};

impl Engine {
    /// The signed-in user's identities, oldest first, with their providers' names.
    pub async fn my_identities(&self, me: &Principal) -> Result<Vec<IdentityView>> {
        let app = &me.app;
        let providers = self.store.oauth_providers(app.id).await?;
        let identities = self.store.identities_of(app.id, me.user_id).await?;
        Ok(identities
            .into_iter()
            .filter_map(|i| {
                let provider = providers.iter().find(|p| p.id == i.provider_id)?;
                Some(IdentityView {
                    id: i.id.to_string(),
                    provider: provider.name.clone(),
                    provider_name: provider.display_name.clone(),
                    email: i.email,
                    linked_at: i.created_at,
                    last_used_at: i.last_used_at,
                })
            })
            .collect())
    }

    /// Unlinks one of the signed-in user's identities, unless the user would be left with no
    /// way to sign in (no password, no other identity): `409` then.
    #[tracing::instrument(skip_all)]
    pub async fn unlink_my_identity(&self, me: &Principal, id: &str) -> Result<()> {
        let app = &me.app;
        let id = Uuid::parse_str(id.trim()).map_err(|_| Error::NotFound("Identity"))?;
        let identity = self.store.identities_of(app.id, me.user_id).await?.into_iter().find(|i| i.id == id);
        let identity = identity.ok_or(Error::NotFound("Identity"))?;
        let provider = self.store.oauth_providers(app.id).await?.into_iter().find(|p| p.id == identity.provider_id);
        let mut tx = self.write().await?;
        match tx.unlink_identity(app.id, me.user_id, id).await? {
            Unlinked::Removed => {}
            Unlinked::NotFound => return Err(Error::NotFound("Identity")),
            Unlinked::LastMethod => {
                return Err(Error::Conflict(
                    "This is your only way to sign in: set a password or link another provider first".into(),
                ));
            }
        }
        let kind = user_kind(&app.slug);
        tx.record(
            app.id,
            Event::new("identity.unlinked", user_actor(&app.slug, me.user_id))
                .subject(kind, me.user_id)
                .session(me.session_id)
                .details(json!({"identity_id": id, "provider": provider.map(|p| p.name)})),
        );
        tx.commit().await
    }
}
