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
}

impl HistogramLabels<'static> {
    pub const ENGLISH: Self = HistogramLabels {
        title: "Selection probabilities",
        x_axis: "selection probability",
        y_axis: "volunteers",
        equal: "k/n",
        rtl: false,
    };
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

/// A histogram of selection probabilities, one coloured series per procedure, with
/// the equal-chance line (k/n) marked and counts on the y axis.
pub fn histogram(series: &[(&str, Vec<f64>)], equal: f64, labels: &HistogramLabels) -> String {
    const W: f64 = 720.0;
    const H: f64 = 360.0;
    // Margins: left, right, top, bottom.
    const L: f64 = 60.0;
    const R: f64 = 20.0;
    const T: f64 = 30.0;
    const B: f64 = 50.0;
    let bins = 40usize;
    let max_p = series.iter().flat_map(|(_, v)| v.iter().copied()).fold(equal * 2.0, f64::max).clamp(1e-9, 1.0);
    let width = max_p / bins as f64;
    let counts: Vec<Vec<usize>> = series
        .iter()
        .map(|(_, v)| {
            let mut c = vec![0usize; bins];
            for p in v.iter().filter(|p| p.is_finite()) {
                c[((p.max(0.0) / width) as usize).min(bins - 1)] += 1;
            }
            c
        })
        .collect();
    let top = counts.iter().flatten().copied().max().unwrap_or(1).max(1) as f64;
    let x = |p: f64| L + (W - L - R) * p / max_p;
    let y = |c: f64| H - B - (H - T - B) * c / top;
    let direction = if labels.rtl { "rtl" } else { "ltr" };
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" \
         font-family=\"sans-serif\" font-size=\"12\" role=\"img\">\n<title>{}</title>\n\
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
         <text x=\"{0:.1}\" y=\"{2}\" text-anchor=\"middle\" direction=\"ltr\">{3} = {4:.2} %</text>",
        x(equal),
        H - B,
        T - 8.0,
        escape(labels.equal),
        equal * 100.0
    );
    let _ = writeln!(svg, "<line x1=\"{L}\" x2=\"{}\" y1=\"{1}\" y2=\"{1}\" stroke=\"black\"/>", W - R, H - B);
    let _ = writeln!(svg, "<line x1=\"{L}\" x2=\"{L}\" y1=\"{T}\" y2=\"{}\" stroke=\"black\"/>", H - B);
    for i in 0..=4 {
        let p = max_p * i as f64 / 4.0;
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\" direction=\"ltr\">{:.1} %</text>",
            x(p),
            H - B + 18.0,
            p * 100.0
        );
        let c = (top * i as f64 / 4.0).round();
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" direction=\"ltr\">{c}</text>",
            L - 6.0,
            y(c) + 4.0
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
        "<text x=\"14\" y=\"{0}\" transform=\"rotate(-90 14 {0})\" text-anchor=\"middle\" direction=\"{direction}\">{1}</text>",
        (T + H - B) / 2.0,
        escape(labels.y_axis)
    );
    // The legend sits top right; its text runs away from its swatch in either direction
    // ("start" is the right edge of right-to-left text).
    let (swatch_x, text_x) = if labels.rtl { (W - R - 10.0, W - R - 15.0) } else { (W - R - 110.0, W - R - 95.0) };
    for (s, (name, _)) in series.iter().enumerate() {
        let ly = T + 16.0 * s as f64;
        let _ = writeln!(
            svg,
            "<rect x=\"{swatch_x}\" y=\"{ly:.1}\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{text_x}\" y=\"{:.1}\" direction=\"{direction}\" text-anchor=\"start\">{}</text>",
            COLOURS[s % COLOURS.len()],
            ly + 9.0,
            escape(name)
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
    fn degenerate_inputs_do_not_panic() {
        let _ = histogram(&[], 0.0, &HistogramLabels::ENGLISH);
        let _ = histogram(&[("a", vec![f64::NAN, -1.0, 2.0])], 0.0, &HistogramLabels::ENGLISH);
    }
}
