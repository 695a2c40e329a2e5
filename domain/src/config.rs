//! Engine settings that come from the server's configuration.

use crate::crypto::MasterKey;
use crate::mail::MailSettings;

#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Base of issuers and of links in mail, without a trailing slash.
    pub public_url: String,
    pub master_key: MasterKey,
    /// Where mail goes (the dev outbox unless SMTP is configured).
    pub mail: MailSettings,
    /// Where rate-limit and lockout counters live: Redis when `RAMPART_REDIS_URL` is set,
    /// else (`None`) the store.
    pub counters: Option<crate::limits::Limiter>,
    /// The internal networks webhooks may reach besides the public Internet
    /// (`RAMPART_OUTBOUND_ALLOWED_NETWORKS`; none by default).
    pub outbound_reachable: crate::net::Reachable,
}
