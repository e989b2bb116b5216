//! Every user-facing string comes from the Fluent message files in `locales/`.
//! Adding a language is adding a file there and a variant here.

use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

/// A language hiwar speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Ar,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Ar, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Ar => "ar",
            Lang::En => "en",
        }
    }

    pub fn dir(self) -> &'static str {
        match self {
            Lang::Ar => "rtl",
            Lang::En => "ltr",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Ar => Lang::En,
            Lang::En => Lang::Ar,
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "ar" => Some(Lang::Ar),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The first supported language in an `Accept-Language` header.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        header
            .split(',')
            .filter_map(|part| part.split(';').next())
            .filter_map(|tag| Lang::parse(tag.split('-').next().unwrap_or("")))
            .next()
    }

    fn source(self) -> &'static str {
        match self {
            Lang::Ar => include_str!("../../locales/ar.ftl"),
            Lang::En => include_str!("../../locales/en.ftl"),
        }
    }

    fn bundle(self) -> &'static FluentBundle<FluentResource> {
        static BUNDLES: [OnceLock<FluentBundle<FluentResource>>; 2] = [OnceLock::new(), OnceLock::new()];
        BUNDLES[self as usize].get_or_init(|| {
            let resource = FluentResource::try_new(self.source().to_string())
                .unwrap_or_else(|(_, errors)| panic!("{} messages do not parse: {errors:?}", self.code()));
            let mut bundle = FluentBundle::new_concurrent(vec![self.code().parse().expect("valid language tag")]);
            bundle.add_resource(resource).expect("no duplicate message ids");
            bundle
        })
    }

    /// The message `id`, or the id itself if it is missing (a test forbids that).
    pub fn t(self, id: &str) -> String {
        self.format(id, None)
    }

    /// The message `id` with one argument.
    pub fn t1(self, id: &str, name: &str, value: impl Into<FluentValue<'static>>) -> String {
        let mut args = FluentArgs::new();
        args.set(name, value.into());
        self.format(id, Some(&args))
    }

    /// The message `id` with several arguments.
    pub fn t_args(self, id: &str, args: &FluentArgs) -> String {
        self.format(id, Some(args))
    }

    fn format(self, id: &str, args: Option<&FluentArgs>) -> String {
        let bundle = self.bundle();
        let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
            return id.to_string();
        };
        let mut errors = Vec::new();
        bundle.format_pattern(pattern, args, &mut errors).into_owned()
    }

    /// Message ids defined in this language's file.
    pub fn message_ids(self) -> Vec<String> {
        self.source()
            .lines()
            .filter_map(|l| l.split_once(" = ").map(|(id, _)| id.trim().to_string()))
            .filter(|id| !id.is_empty() && !id.starts_with('#'))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_define_the_same_messages() {
        let mut ar = Lang::Ar.message_ids();
        let mut en = Lang::En.message_ids();
        ar.sort();
        en.sort();
        assert_eq!(ar, en);
        for lang in Lang::ALL {
            for id in lang.message_ids() {
                assert_ne!(lang.t1(&id, "count", 3), id, "{id} missing in {}", lang.code());
            }
        }
    }

    #[test]
    fn negotiates_languages() {
        assert_eq!(Lang::from_accept_language("fr-FR, ar-SY;q=0.8, en;q=0.5"), Some(Lang::Ar));
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("de"), None);
        assert_eq!(Lang::Ar.dir(), "rtl");
    }
}
