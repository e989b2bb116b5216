//! Plots as self-contained SVG strings: no fonts, scripts or styles from elsewhere, so
//! they pass a strict Content-Security-Policy and can be saved beside a manifest or a
//! report. Callers supply every label (in the reader's language); this crate does no I/O.

use std::fmt::Write;

/// The words on a histogram of selection probabilities.
#[derive(Debug, Clone, Copy)]
pub struct HistogramLabels<'a> {
    pub title: &'a str,
    pub x_axis: &'a str,
    pub y_axis: &'a str,
    /// Marks the equal-chance line, e.g. "k/n".
    pub equal: &'a str,
    /// Right-to-left text: the legend is placed on the left.
    pub rtl: bool,
    /// The digits of the axes' numbers.
    pub digits: Digits,
}

impl HistogramLabels<'static> {
    pub const ENGLISH: Self = HistogramLabels {
        title: "Selection probabilities",
        x_axis: "selection probability",
        y_axis: "volunteers",
        equal: "k/n",
        rtl: false,
        digits: Digits::Latin,
    };
}

/// How a plot writes the digits of its numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Digits {
    /// 0123456789
    Latin,
    /// ٠١٢٣٤٥٦٧٨٩, as the Arabic interface writes numbers.
    ArabicIndic,
}

impl Digits {
    /// `text` with its ASCII digits written in these digits (and, in Arabic-Indic, the
    /// decimal point as "٫").
    pub fn write(self, text: impl std::fmt::Display) -> String {
        let text = text.to_string();
        match self {
            Digits::Latin => text,
            Digits::ArabicIndic => text
                .chars()
                .map(|c| match c {
                    '0'..='9' => char::from_u32(0x0660 + (c as u32 - '0' as u32)).unwrap_or(c),
                    '.' => '٫',
                    c => c,
                })
                .collect(),
        }
    }

    /// A fraction (0.5) as a percentage with `decimals` places, written as CLDR writes
    /// it in each language: "50.0%" in Latin digits, "٥٠٫٠٪؜" in Arabic-Indic (the Arabic
    /// percent sign, then an Arabic letter mark that keeps it beside its number in
    /// right-to-left text).
    pub fn percent(self, fraction: f64, decimals: usize) -> String {
        let number = self.write(format!("{:.*}", decimals, fraction * 100.0));
        match self {
            Digits::Latin => number + "%",
            Digits::ArabicIndic => number + "\u{066A}\u{061C}",
        }
    }
}

/// Escapes text for SVG character data and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const COLOURS: [&str; 3] = ["#0b5d4b", "#c25e00", "#6a3d9a"];

/// Bars of a histogram of selection probabilities.
const BINS: usize = 40;

/// The numbers a histogram draws: the width of a bin (bin `b` holds probabilities from
/// `b·width` to `(b+1)·width`) and, per series, how many values fall in each bin. Pages
/// show the same numbers as a table beside the picture.
pub fn histogram_bins(series: &[(&str, Vec<f64>)], equal: f64) -> (f64, Vec<Vec<usize>>) {
    let max_p = series.iter().flat_map(|(_, v)| v.iter().copied()).fold(equal * 2.0, f64::max).clamp(1e-9, 1.0);
    let width = max_p / BINS as f64;
    let counts = series
        .iter()
        .map(|(_, v)| {
            let mut c = vec![0usize; BINS];
            for p in v.iter().filter(|p| p.is_finite()) {
                c[((p.max(0.0) / width) as usize).min(BINS - 1)] += 1;
            }
            c
        })
        .collect();
    (width, counts)
}

/// A histogram of selection probabilities, one coloured series per procedure, with
/// the equal-chance line (k/n) marked and counts on the y axis.
pub fn histogram(series: &[(&str, Vec<f64>)], equal: f64, labels: &HistogramLabels) -> String {
    const W: f64 = 720.0;
    const H: f64 = 400.0;
    // Margins: left, right, top, bottom; the text is large enough to read when a phone
    // shows the picture at half its width.
    const L: f64 = 80.0;
    const R: f64 = 20.0;
    const T: f64 = 40.0;
    const B: f64 = 70.0;
    let bins = BINS;
    let (width, counts) = histogram_bins(series, equal);
    let max_p = width * bins as f64;
    let top = counts.iter().flatten().copied().max().unwrap_or(1).max(1) as f64;
    let x = |p: f64| L + (W - L - R) * p / max_p;
    let y = |c: f64| H - B - (H - T - B) * c / top;
    let direction = if labels.rtl { "rtl" } else { "ltr" };
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" \
         font-family=\"sans-serif\" font-size=\"20\" role=\"img\">\n<title>{}</title>\n\
         <rect width=\"{W}\" height=\"{H}\" fill=\"white\"/>\n",
        escape(labels.title)
    );
    let bar_w = (W - L - R) / bins as f64 / series.len().max(1) as f64;
    for (s, c) in counts.iter().enumerate() {
        let name = escape(series[s].0);
        for (b, &n) in c.iter().enumerate().filter(|(_, n)| **n > 0) {
            let x0 = x(b as f64 * width) + s as f64 * bar_w;
            let _ = writeln!(
                svg,
                "<rect x=\"{x0:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{name}: {n}</title></rect>",
                y(n as f64),
                bar_w.max(1.0),
                H - B - y(n as f64),
                COLOURS[s % COLOURS.len()],
            );
        }
    }
    let _ = writeln!(
        svg,
        "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{T}\" y2=\"{1}\" stroke=\"black\" stroke-dasharray=\"4 3\"/>\n\
         <text x=\"{0:.1}\" y=\"{2}\" text-anchor=\"middle\" direction=\"ltr\">{3} = {4}</text>",
        x(equal),
        H - B,
        T - 8.0,
        escape(labels.equal),
        labels.digits.percent(equal, 2)
    );
    let _ = writeln!(svg, "<line x1=\"{L}\" x2=\"{}\" y1=\"{1}\" y2=\"{1}\" stroke=\"black\"/>", W - R, H - B);
    let _ = writeln!(svg, "<line x1=\"{L}\" x2=\"{L}\" y1=\"{T}\" y2=\"{}\" stroke=\"black\"/>", H - B);
    for i in 0..=4 {
        let p = max_p * i as f64 / 4.0;
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\" direction=\"ltr\">{}</text>",
            x(p),
            H - B + 26.0,
            labels.digits.percent(p, 1)
        );
        let c = (top * i as f64 / 4.0).round();
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" direction=\"ltr\">{}</text>",
            L - 8.0,
            y(c) + 7.0,
            labels.digits.write(c)
        );
    }
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" direction=\"{direction}\">{}</text>",
        (L + W - R) / 2.0,
        H - 8.0,
        escape(labels.x_axis)
    );
    let _ = writeln!(
        svg,
        "<text x=\"22\" y=\"{0}\" transform=\"rotate(-90 22 {0})\" text-anchor=\"middle\" direction=\"{direction}\">{1}</text>",
        (T + H - B) / 2.0,
        escape(labels.y_axis)
    );
    // The legend sits top right; its text runs away from its swatch in either direction
    // ("start" is the right edge of right-to-left text).
    let (swatch_x, text_x) = if labels.rtl { (W - R - 16.0, W - R - 22.0) } else { (W - R - 150.0, W - R - 128.0) };
    for (s, (name, _)) in series.iter().enumerate() {
        let ly = T + 26.0 * s as f64;
        let _ = writeln!(
            svg,
            "<rect x=\"{swatch_x}\" y=\"{ly:.1}\" width=\"16\" height=\"16\" fill=\"{}\"/><text x=\"{text_x}\" y=\"{:.1}\" direction=\"{direction}\" text-anchor=\"start\">{}</text>",
            COLOURS[s % COLOURS.len()],
            ly + 15.0,
            escape(name)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// The words on an opinion map.
#[derive(Debug, Clone, Copy)]
pub struct MapLabels<'a> {
    pub title: &'a str,
    /// "group", followed by the group's number.
    pub group: &'a str,
    /// "participants", after a group's size.
    pub participants: &'a str,
    pub rtl: bool,
    pub digits: Digits,
}

impl MapLabels<'static> {
    pub const ENGLISH: Self = MapLabels {
        title: "Opinion map",
        group: "Group",
        participants: "participants",
        rtl: false,
        digits: Digits::Latin,
    };
}

const GROUP_COLOURS: [&str; 6] = ["#0b5d4b", "#c25e00", "#6a3d9a", "#1f78b4", "#b15928", "#777777"];

/// Each group's marker, so that colour is never the only thing telling groups apart:
/// an SVG path around the origin, and the character pages use for it in text.
pub const GROUP_SHAPES: [(&str, &str); 6] = [
    ("M0,-3.2A3.2,3.2 0 1 0 0,3.2A3.2,3.2 0 1 0 0,-3.2Z", "●"),
    ("M-2.9,-2.9H2.9V2.9H-2.9Z", "■"),
    ("M0,-3.6L3.4,2.6H-3.4Z", "▲"),
    ("M0,-3.8L3.8,0L0,3.8L-3.8,0Z", "◆"),
    ("M0,3.6L3.4,-2.6H-3.4Z", "▼"),
    ("M-1.1,-3.6H1.1V-1.1H3.6V1.1H1.1V3.6H-1.1V1.1H-3.6V-1.1H-1.1Z", "✚"),
];

/// The character pages show for group `g`'s marker (counted from 0). Its colour is
/// `GROUP_COLOURS[g % 6]`, repeated as the classes `.g0`–`.g5` of the stylesheet.
pub fn group_marker(g: usize) -> &'static str {
    GROUP_SHAPES[g % GROUP_SHAPES.len()].1
}

/// Points drawn at most: larger maps are thinned evenly (the groups' sizes stay exact).
const MAP_POINTS: usize = 4_000;

/// An opinion map: each participant a marker at its first two coordinates, its group
/// shown by both shape and colour (`None`: not in a group, a small grey dot), each
/// group's centre labelled with its size, and a legend.
pub fn opinion_map(points: &[(f64, f64, Option<usize>)], labels: &MapLabels) -> String {
    const W: f64 = 640.0;
    const H: f64 = 480.0;
    const M: f64 = 30.0;
    let finite = points.iter().filter(|p| p.0.is_finite() && p.1.is_finite());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for p in finite.clone() {
        x0 = x0.min(p.0);
        x1 = x1.max(p.0);
        y0 = y0.min(p.1);
        y1 = y1.max(p.1);
    }
    if !x0.is_finite() {
        (x0, x1, y0, y1) = (-1.0, 1.0, -1.0, 1.0);
    }
    let (sx, sy) = ((x1 - x0).max(1e-9), (y1 - y0).max(1e-9));
    let x = |v: f64| M + (W - 2.0 * M) * (v - x0) / sx;
    let y = |v: f64| H - M - (H - 2.0 * M) * (v - y0) / sy;
    let direction = if labels.rtl { "rtl" } else { "ltr" };
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" \
         font-family=\"sans-serif\" font-size=\"20\" role=\"img\">\n<title>{}</title>\n\
         <rect width=\"{W}\" height=\"{H}\" fill=\"white\"/>\n<defs>\n",
        escape(labels.title)
    );
    for (g, (path, _)) in GROUP_SHAPES.iter().enumerate() {
        let _ = writeln!(svg, "<path id=\"m{g}\" d=\"{path}\"/>");
    }
    svg.push_str("<circle id=\"none\" r=\"2\"/>\n</defs>\n");
    // Dots are drawn in the order of their position, never in the caller's order: the
    // caller's order is usually its participants' ids, and drawing in that order would
    // let anyone match the n-th dot to the n-th member and read their group's colour.
    let mut drawn: Vec<&(f64, f64, Option<usize>)> = finite.clone().collect();
    drawn.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)).then(a.2.cmp(&b.2)));
    let step = points.len().div_ceil(MAP_POINTS).max(1);
    for p in drawn.into_iter().step_by(step) {
        let (marker, colour) = match p.2 {
            Some(g) => (format!("m{}", g % GROUP_SHAPES.len()), GROUP_COLOURS[g % GROUP_COLOURS.len()]),
            None => ("none".to_string(), "#bbbbbb"),
        };
        let _ = writeln!(
            svg,
            "<use href=\"#{marker}\" x=\"{:.1}\" y=\"{:.1}\" fill=\"{colour}\" fill-opacity=\"0.7\"/>",
            x(p.0),
            y(p.1)
        );
    }
    let groups = points.iter().filter_map(|p| p.2).max().map_or(0, |g| g + 1);
    // Between a group's number and its size: in Arabic a right-to-left mark keeps the two
    // numbers apart (else the bidi algorithm joins them into one left-to-right run) and a
    // dash, not "·", which looks like the Arabic-Indic zero "٠".
    let sep = if labels.rtl { "\u{200F} — " } else { " · " };
    // The legend, in the reading direction's starting corner: shape, colour, name, size.
    // `text-anchor="start"` follows `direction`: the text runs leftwards in Arabic.
    let legend_x = if labels.rtl { W - 14.0 } else { 14.0 };
    let (anchor, text_dx) = ("start", if labels.rtl { -16.0 } else { 16.0 });
    for g in 0..groups {
        let size = points.iter().filter(|p| p.2 == Some(g)).count();
        let ly = 24.0 + 24.0 * g as f64;
        let _ = writeln!(
            svg,
            "<use href=\"#m{}\" x=\"{legend_x:.1}\" y=\"{:.1}\" fill=\"{}\"/>\
             <text x=\"{:.1}\" y=\"{ly:.1}\" text-anchor=\"{anchor}\" direction=\"{direction}\" \
             fill=\"{}\">{} {}{sep}{} {}</text>",
            g % GROUP_SHAPES.len(),
            ly - 6.0,
            GROUP_COLOURS[g % GROUP_COLOURS.len()],
            legend_x + text_dx,
            GROUP_COLOURS[g % GROUP_COLOURS.len()],
            escape(labels.group),
            labels.digits.write(g + 1),
            labels.digits.write(size),
            escape(labels.participants)
        );
    }
    for g in 0..groups {
        let members: Vec<_> = finite.clone().filter(|p| p.2 == Some(g)).collect();
        if members.is_empty() {
            continue;
        }
        let cx = members.iter().map(|p| p.0).sum::<f64>() / members.len() as f64;
        let cy = members.iter().map(|p| p.1).sum::<f64>() / members.len() as f64;
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" direction=\"{direction}\" font-weight=\"bold\" \
             fill=\"{}\" stroke=\"white\" stroke-width=\"3\" paint-order=\"stroke\">{} {}{sep}{} {}</text>",
            x(cx),
            y(cy),
            GROUP_COLOURS[g % GROUP_COLOURS.len()],
            escape(labels.group),
            labels.digits.write(g + 1),
            labels.digits.write(members.len()),
            escape(labels.participants)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_every_series_is_drawn() {
        let labels = HistogramLabels { title: "a <b> & \"c\"", ..HistogramLabels::ENGLISH };
        let svg = histogram(&[("x<y", vec![0.1, 0.1, 0.2]), ("z", vec![0.15])], 0.1, &labels);
        assert!(svg.contains("a &lt;b&gt; &amp; &quot;c&quot;"));
        assert!(svg.contains("x&lt;y: 2"));
        assert!(svg.contains("z: 1"));
        assert!(!svg.contains("<b>"));
    }

    #[test]
    fn a_map_labels_each_group_with_its_size() {
        let points = [(0.0, 0.0, Some(0)), (0.1, 0.0, Some(0)), (5.0, 5.0, Some(1)), (2.0, 2.0, None)];
        let svg = opinion_map(&points, &MapLabels::ENGLISH);
        assert!(svg.contains("Group 1 · 2 participants") && svg.contains("Group 2 · 1 participants"));
        // Four participants, two legend entries; groups differ in shape as well as colour.
        assert_eq!(svg.matches("<use href=").count(), 4 + 2);
        assert!(svg.contains("href=\"#m0\"") && svg.contains("href=\"#m1\"") && svg.contains("href=\"#none\""));
        let _ = opinion_map(&[], &MapLabels::ENGLISH);
        let _ = opinion_map(&[(f64::NAN, 1.0, Some(3))], &MapLabels::ENGLISH);
    }

    #[test]
    fn a_map_does_not_keep_the_callers_order() {
        // The same dots given in two orders (say, two orders of member ids) draw the same picture.
        let points = [(3.0, 1.0, Some(1)), (0.0, 0.0, Some(0)), (1.0, 2.0, None), (2.0, 0.5, Some(0))];
        let mut reversed = points;
        reversed.reverse();
        assert_eq!(opinion_map(&points, &MapLabels::ENGLISH), opinion_map(&reversed, &MapLabels::ENGLISH));
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        let _ = histogram(&[], 0.0, &HistogramLabels::ENGLISH);
        let _ = histogram(&[("a", vec![f64::NAN, -1.0, 2.0])], 0.0, &HistogramLabels::ENGLISH);
    }
}

/// Horizontal bars, one per option: its label, a bar as long as its share of `total`,
/// and the count with its percentage. Right-to-left text puts the labels on the right
/// and grows the bars leftwards. The picture scales to its container's width; `title`
/// is its accessible name. Positions are computed here for both directions, so the
/// picture sets `direction="ltr"` rather than inherit a right-to-left page's (which
/// would turn every `text-anchor` around).
pub fn bars(title: &str, rows: &[(&str, u64)], total: u64, rtl: bool, digits: Digits) -> String {
    const W: f64 = 640.0;
    // Large enough to read when a phone shows the picture at half its width.
    const ROW: f64 = 48.0;
    const LABEL: f64 = 250.0;
    const FIGURE: f64 = 170.0;
    let h = ROW * rows.len().max(1) as f64 + 10.0;
    let span = W - LABEL - FIGURE;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {h}" width="100%" role="img" aria-label="{title}" font-family="sans-serif" font-size="22" direction="ltr"><title>{title}</title>"##,
        title = escape(title)
    );
    for (i, (label, count)) in rows.iter().enumerate() {
        let y = 5.0 + ROW * i as f64;
        let share = if total == 0 { 0.0 } else { *count as f64 / total as f64 };
        let len = (span * share).max(if *count > 0 { 2.0 } else { 0.0 });
        // Texts run in the reading direction from their anchor ("start" is the right
        // end of right-to-left text), so "(57.5%)" reads as Arabic readers expect.
        let (label_x, bar_x, figure_x, text_direction) = if rtl {
            (W - 5.0, W - LABEL - len, W - LABEL - len - 8.0, "rtl")
        } else {
            (5.0, LABEL, LABEL + len + 8.0, "ltr")
        };
        let label: String = label.chars().take(20).collect();
        let _ = write!(
            svg,
            r##"<text x="{label_x}" y="{ty}" text-anchor="start" direction="{text_direction}" fill="#1a1a1a">{label}</text><rect x="{bar_x:.1}" y="{y}" width="{len:.1}" height="{bh}" fill="{colour}"/><text x="{figure_x:.1}" y="{ty}" text-anchor="start" direction="{text_direction}" fill="#1a1a1a">{count} ({percent})</text>"##,
            ty = y + 26.0,
            label = escape(&label),
            bh = ROW - 14.0,
            colour = COLOURS[0],
            count = digits.write(count),
            percent = digits.percent(share, 1),
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod bar_tests {
    use super::*;

    #[test]
    fn bars_are_proportional_escaped_and_mirrored_in_rtl() {
        let svg = bars("Votes", &[("yes <b>", 30), ("no", 10)], 40, false, Digits::Latin);
        assert!(svg.contains(r#"aria-label="Votes""#));
        assert!(svg.contains("yes &lt;b&gt;") && svg.contains("30 (75.0%)") && svg.contains("10 (25.0%)"));
        assert!(svg.contains(r#"width="165.0""#), "three quarters of the bar span: {svg}");
        let rtl = bars("الأصوات", &[("نعم", 1)], 1, true, Digits::ArabicIndic);
        assert!(rtl.contains(r#"direction="rtl""#) && rtl.contains("١ (١٠٠٫٠٪\u{61C})"), "{rtl}");
        assert!(bars("", &[("x", 0)], 0, false, Digits::Latin).contains("0 (0.0%)"));
    }
}
