//! The languages Rampart speaks to end-users, and its message catalogue: Fluent files under
//! `domain/locales/{lang}/`, built into the binary, which a translator edits without touching
//! Rust. The hosted pages use it (and the mail renderer will).

use std::borrow::Cow;
use std::collections::HashMap;

use fluent_bundle::FluentValue;
use fluent_templates::{langid, LanguageIdentifier, Loader};

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // No Unicode isolation marks around values: pages and mail are left-to-right, and
        // the marks would show up in copied text and plain-text mail.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// A language of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Language {
    #[default]
    En,
    Fr,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::En, Language::Fr];

    /// The language's tag, as `<html lang>` and `?lang=` write it.
    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Fr => "fr",
        }
    }

    /// The language's own name, for a link that switches to it.
    pub fn name(self) -> &'static str {
        match self {
            Language::En => "English",
            Language::Fr => "Français",
        }
    }

    /// A language tag (`fr`, `fr-CA`, `FR`): its primary subtag, if the catalogue has it.
    pub fn parse(tag: &str) -> Option<Language> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Language::ALL.into_iter().find(|l| l.code() == primary)
    }

    /// The page's language: `?lang=` when it names one of ours, else the first of
    /// `Accept-Language` (by q-value, ties in order; `q=0` means "not this one") that we
    /// have, else English.
    pub fn pick(query: Option<&str>, accept_language: Option<&str>) -> Language {
        if let Some(language) = query.and_then(Language::parse) {
            return language;
        }
        accept_language.and_then(Language::from_accept_language).unwrap_or_default()
    }

    fn from_accept_language(header: &str) -> Option<Language> {
        let mut ranges: Vec<(f32, usize, &str)> = header
            .split(',')
            .take(32)
            .enumerate()
            .filter_map(|(i, part)| {
                let mut pieces = part.split(';');
                let tag = pieces.next()?.trim();
                let mut q = 1.0f32;
                for param in pieces {
                    if let Some(value) = param.trim().strip_prefix("q=") {
                        q = value.trim().parse().ok().filter(|q: &f32| (0.0..=1.0).contains(q))?;
                    }
                }
                (!tag.is_empty() && q > 0.0).then_some((q, i, tag))
            })
            .collect();
        ranges.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        ranges.into_iter().find_map(|(_, _, tag)| Language::parse(tag))
    }

    fn id(self) -> LanguageIdentifier {
        match self {
            Language::En => langid!("en"),
            Language::Fr => langid!("fr"),
        }
    }

    /// The message `key` in this language (English when this one lacks it; the key itself
    /// when no language has it, which the tests below keep from happening).
    pub fn text(self, key: &str) -> String {
        LOCALES.try_lookup(&self.id(), key).unwrap_or_else(|| key.to_owned())
    }

    /// The message `key` with its `{ $name }` placeholders filled in from `args`.
    pub fn text_with(self, key: &str, args: &[(&'static str, Arg)]) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue<'_>> = args
            .iter()
            .map(|(name, value)| {
                let value = match value {
                    Arg::Text(text) => FluentValue::from(text.as_str()),
                    Arg::Number(n) => FluentValue::from(*n),
                };
                (Cow::Borrowed(*name), value)
            })
            .collect();
        LOCALES.try_lookup_with_args(&self.id(), key, &args).unwrap_or_else(|| key.to_owned())
    }
}

/// A value for a message's placeholder.
#[derive(Debug, Clone)]
pub enum Arg {
    Text(String),
    Number(i64),
}

impl From<&str> for Arg {
    fn from(text: &str) -> Self {
        Arg::Text(text.to_owned())
    }
}

impl From<String> for Arg {
    fn from(text: String) -> Self {
        Arg::Text(text)
    }
}

impl From<i64> for Arg {
    fn from(n: i64) -> Self {
        Arg::Number(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message_ids(source: &str) -> std::collections::BTreeSet<String> {
        let resource = fluent_bundle::FluentResource::try_new(source.to_owned())
            .unwrap_or_else(|(_, errors)| panic!("the catalogue does not parse: {errors:?}"));
        resource
            .entries()
            .filter_map(|entry| match entry {
                fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_owned()),
                _ => None,
            })
            .collect()
    }

    /// A message in one language and not the other would show English on a French page (or
    /// the key itself): the catalogues must name the same messages.
    #[test]
    fn every_language_has_every_message() {
        let en = message_ids(include_str!("../locales/en/hosted.ftl"));
        let fr = message_ids(include_str!("../locales/fr/hosted.ftl"));
        assert!(en.len() > 50, "{en:?}");
        assert_eq!(en.difference(&fr).collect::<Vec<_>>(), Vec::<&String>::new(), "missing in fr");
        assert_eq!(fr.difference(&en).collect::<Vec<_>>(), Vec::<&String>::new(), "missing in en");
        // Every placeholder a page fills in: a message asking for another one fails here.
        let names = [
            "page", "app", "count", "email", "name", "username", "device", "contact", "rule", "org", "client",
            "provider",
        ];
        let args: Vec<(&'static str, Arg)> = names.iter().map(|n| (*n, Arg::from("x"))).collect();
        for key in &en {
            for language in Language::ALL {
                assert_ne!(&language.text_with(key, &args), key, "{key} in {language:?}");
            }
        }
    }

    /// The same for mail: every message and duration in every language, with the
    /// placeholders Rampart fills in.
    #[test]
    fn every_language_has_every_mail_message() {
        let en = message_ids(include_str!("../locales/en/mail.ftl"));
        let fr = message_ids(include_str!("../locales/fr/mail.ftl"));
        assert!(en.len() > 20, "{en:?}");
        assert_eq!(en.difference(&fr).collect::<Vec<_>>(), Vec::<&String>::new(), "missing in fr");
        assert_eq!(fr.difference(&en).collect::<Vec<_>>(), Vec::<&String>::new(), "missing in en");
        let args: Vec<(&'static str, Arg)> =
            ["app", "name", "lasts", "code", "contact", "old", "new", "role", "feature", "org", "url"]
                .iter()
                .map(|n| (*n, Arg::from("x")))
                .chain([("n", Arg::from(2))])
                .collect();
        for key in &en {
            for language in Language::ALL {
                let text = language.text_with(key, &args);
                assert!(text != *key && !text.contains('{'), "{key} in {language:?}: {text}");
            }
        }
        assert_eq!(Language::Fr.text_with("duration-days", &[("n", 3.into())]), "3 jours");
        assert_eq!(Language::Fr.text_with("duration-hours", &[("n", 1.into())]), "1 heure");
    }

    #[test]
    fn the_query_then_accept_language_then_english() {
        assert_eq!(Language::pick(Some("fr"), Some("en")), Language::Fr);
        assert_eq!(Language::pick(Some("FR-ca"), None), Language::Fr);
        assert_eq!(Language::pick(Some("de"), Some("fr")), Language::Fr);
        assert_eq!(Language::pick(None, Some("fr-CH, fr;q=0.9, en;q=0.8, *;q=0.5")), Language::Fr);
        assert_eq!(Language::pick(None, Some("de-DE, fr;q=0.7, en;q=0.8")), Language::En);
        assert_eq!(Language::pick(None, Some("en;q=0.1, fr;q=0.9")), Language::Fr);
        assert_eq!(Language::pick(None, Some("fr;q=0, en")), Language::En);
        assert_eq!(Language::pick(None, Some("fr;q=2")), Language::En);
        assert_eq!(Language::pick(None, Some("de, es")), Language::En);
        assert_eq!(Language::pick(None, Some("")), Language::En);
        assert_eq!(Language::pick(None, None), Language::En);
    }

    #[test]
    fn placeholders_are_filled_in_without_isolation_marks() {
        let text = Language::Fr.text_with("rule-min-length", &[("count", 12.into())]);
        assert_eq!(text, "au moins 12 caractères");
        let text = Language::En.text_with("invite-intro", &[("app", "Acme".into()), ("email", "a@b.c".into())]);
        assert!(text.contains("Acme") && text.contains("a@b.c") && !text.contains('\u{2068}'), "{text}");
    }
}
