//! Every user-facing string comes from the Fluent message files in `locales/`.
//! Adding a language is adding a file there and a variant here.

use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

/// The number in a Fluent value, if it is one.
fn number_of(value: &FluentValue) -> Option<String> {
    match value {
        FluentValue::Number(n) => Some(n.as_string().into_owned()),
        _ => None,
    }
}

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
            // Numbers in messages are written as the language writes them (see `num`).
            bundle.set_formatter(Some(match self {
                Lang::Ar => |v, _| number_of(v).map(|n| Lang::Ar.num(n)),
                Lang::En => |v, _| number_of(v).map(|n| Lang::En.num(n)),
            }));
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

    /// A number as this language writes it: thousands grouped, and in Arabic with
    /// Arabic-Indic digits (٠١٢٣٤٥٦٧٨٩), the Arabic thousands separator "٬" and decimal
    /// separator "٫" — CLDR's default numbering for `ar`, and what Syrian print uses.
    pub fn num(self, n: impl std::fmt::Display) -> String {
        let text = n.to_string();
        let (sign, rest) = text.strip_prefix('-').map_or(("", text.as_str()), |r| ("-", r));
        let (whole, fraction) = rest.split_once('.').map_or((rest, None), |(w, f)| (w, Some(f)));
        if !whole.bytes().all(|b| b.is_ascii_digit()) {
            return self.digits(&text);
        }
        let (group, point) = match self {
            Lang::Ar => ('٬', '٫'),
            Lang::En => (',', '.'),
        };
        let mut out = String::from(sign);
        for (i, c) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i) % 3 == 0 {
                out.push(group);
            }
            out.push(c);
        }
        if let Some(f) = fraction {
            out.push(point);
            out.push_str(f);
        }
        self.digits(&out)
    }

    /// A fraction (0.25) as a percentage with `decimals` places, as this language
    /// writes it: "25%", "٢٥٪؜" ([`hiwar_plots::Digits::percent`]).
    pub fn percent(self, fraction: f64, decimals: usize) -> String {
        self.plot_digits().percent(fraction, decimals)
    }

    /// `text` with its ASCII digits in this language's digits.
    pub fn digits(self, text: &str) -> String {
        self.plot_digits().write(text)
    }

    /// The digits this language writes (in text and in plots).
    pub fn plot_digits(self) -> hiwar_plots::Digits {
        match self {
            Lang::Ar => hiwar_plots::Digits::ArabicIndic,
            Lang::En => hiwar_plots::Digits::Latin,
        }
    }

    /// A date (`YYYY-MM-DD`) or record time (`YYYY-MM-DDTHH:MM:SSZ`) as this language
    /// writes it: "2 December 2026, 21:19 UTC", "٢ كانون الأول ٢٠٢٦، ٢١:١٩ (التوقيت العالمي)".
    /// Anything else is returned as it is.
    pub fn date(self, value: &str) -> String {
        let parts: Option<(i32, u8, u8)> = (|| {
            let (y, m, d) = (value.get(0..4)?, value.get(5..7)?, value.get(8..10)?);
            Some((y.parse().ok()?, m.parse().ok()?, d.parse().ok()?))
        })();
        let Some((year, month, day)) = parts.filter(|(_, m, d)| (1..=12).contains(m) && (1..=31).contains(d)) else {
            return value.to_string();
        };
        let mut args = FluentArgs::new();
        args.set("day", day);
        args.set("month", self.t(&format!("month-{month}")));
        args.set("year", self.digits(&year.to_string()));
        // No bidi isolation inside a date: its parts are digits and a month name, and a
        // date made only of isolates would itself be isolated as left-to-right.
        let plain = |text: String| text.replace(['\u{2068}', '\u{2069}'], "");
        let date = plain(self.t_args("date-format", &args));
        match (value.len(), value.get(11..16)) {
            (20, Some(clock)) => {
                let mut args = FluentArgs::new();
                args.set("date", date);
                args.set("time", self.digits(clock));
                plain(self.t_args("datetime-format", &args))
            }
            _ => date,
        }
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
    fn numbers_and_dates_follow_the_language() {
        assert_eq!(Lang::En.num(1234567), "1,234,567");
        assert_eq!(Lang::Ar.num(1234567), "١٬٢٣٤٬٥٦٧");
        assert_eq!(Lang::Ar.num(-12.5), "-١٢٫٥");
        assert_eq!(Lang::En.num(999), "999");
        assert_eq!(Lang::En.percent(0.667, 1), "66.7%");
        assert_eq!(Lang::Ar.percent(0.667, 1), "٦٦٫٧٪\u{61C}");
        let coverage = Lang::Ar.t1("deliberation-coverage-share", "percent", Lang::Ar.percent(0.5, 0));
        assert!(coverage.contains("٥٠٪") && !coverage.contains('%'), "{coverage}");
        assert!(Lang::Ar.t1("dialogue-members", "count", 1200u64).contains("١٬٢٠٠"));
        assert_eq!(Lang::En.date("2026-12-02"), "2 December 2026");
        let ar = Lang::Ar.date("2026-12-02T21:19:55Z");
        assert!(ar.contains("كانون الأول") && ar.contains("٢٠٢٦") && ar.contains("٢١:١٩"), "{ar}");
        assert_eq!(Lang::Ar.date("soon"), "soon");
    }

    #[test]
    fn negotiates_languages() {
        assert_eq!(Lang::from_accept_language("fr-FR, ar-SY;q=0.8, en;q=0.5"), Some(Lang::Ar));
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("de"), None);
        assert_eq!(Lang::Ar.dir(), "rtl");
    }
}
