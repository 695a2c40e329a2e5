//! The types the server and the browser both build: one definition each, used by the engine,
//! the REST API and the console. Nothing here may depend on the database or on Leptos.

pub mod audit;
pub mod config;
pub mod credentials;
pub mod federation;
pub mod licenses;
pub mod mail;
pub mod members;
pub mod oidc;
pub mod time_format;
pub mod users;
pub mod waitlists;

pub use audit::{AuditEventView, AuditPageView, Verification};
pub use config::{AuthConfig, ConfigError};
pub use credentials::{CreatedCredential, CredentialView, RotatedCredential};
pub use federation::{IdentityView, ProviderInput, ProviderPatch, ProviderView};
pub use licenses::{ActivationView, IssuedLicense, LicenseDetail, LicensePage, LicenseView};
pub use mail::{InviteView, MailPage, MailView};
pub use members::{MemberInviteInfo, MemberRole, MemberView};
pub use oidc::{CreatedOidcClient, NewOidcClient, OidcClientPatch, OidcClientView};
pub use users::{PrimaryEmail, SessionView, Status, UserPage, UserView};
pub use waitlists::{MyWaitlistView, WaitlistEntryView, WaitlistPage, WaitlistSummary};
