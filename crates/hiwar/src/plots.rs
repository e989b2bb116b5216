//! Plots as self-contained SVG (no fonts or scripts from elsewhere).

/// A histogram of selection probabilities, one coloured series per procedure, with
/// the equal-chance line k/n marked.
pub fn histogram(series: &[(&str, Vec<f64>)], equal: f64) -> String {
    const W: f64 = 720.0;
    const H: f64 = 360.0;
    // Margins: left, right, top, bottom.
    const L: f64 = 60.0;
    const R: f64 = 20.0;
    const T: f64 = 30.0;
    const B: f64 = 50.0;
    let bins = 40usize;
    let max_p = series.iter().flat_map(|(_, v)| v.iter().cloned()).fold(equal * 2.0, f64::max).min(1.0);
    let width = max_p / bins as f64;
    let counts: Vec<Vec<usize>> = series
        .iter()
        .map(|(_, v)| {
            let mut c = vec![0usize; bins];
            for p in v {
                c[((p / width) as usize).min(bins - 1)] += 1;
            }
            c
        })
        .collect();
    let top = counts.iter().flatten().copied().max().unwrap_or(1).max(1) as f64;
    let colours = ["#0b5d4b", "#c25e00", "#6a3d9a"];
    let x = |p: f64| L + (W - L - R) * p / max_p;
    let y = |c: f64| H - B - (H - T - B) * c / top;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" font-family="sans-serif" font-size="12">
<title>Selection probabilities</title>
<rect width="{W}" height="{H}" fill="white"/>
"#
    );
    let bar_w = (W - L - R) / bins as f64 / series.len() as f64;
    for (s, c) in counts.iter().enumerate() {
        for (b, &n) in c.iter().enumerate() {
            if n > 0 {
                let x0 = x(b as f64 * width) + s as f64 * bar_w;
                svg.push_str(&format!(
                    "<rect x=\"{x0:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{}: {n}</title></rect>\n",
                    y(n as f64),
                    bar_w.max(1.0),
                    H - B - y(n as f64),
                    colours[s % 3],
                    series[s].0
                ));
            }
        }
    }
    svg.push_str(&format!(
        "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{T}\" y2=\"{1}\" stroke=\"black\" stroke-dasharray=\"4 3\"/>\n<text x=\"{0:.1}\" y=\"{2}\" text-anchor=\"middle\">k/n = {3:.2} %</text>\n",
        x(equal),
        H - B,
        T - 8.0,
        equal * 100.0
    ));
    svg.push_str(&format!("<line x1=\"{L}\" x2=\"{}\" y1=\"{1}\" y2=\"{1}\" stroke=\"black\"/>\n", W - R, H - B));
    for i in 0..=4 {
        let p = max_p * i as f64 / 4.0;
        svg.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{:.1} %</text>\n",
            x(p),
            H - B + 18.0,
            p * 100.0
        ));
    }
    svg.push_str(&format!(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">selection probability</text>\n",
        (L + W - R) / 2.0,
        H - 8.0
    ));
    svg.push_str(&format!(
        "<text x=\"14\" y=\"{}\" transform=\"rotate(-90 14 {0})\" text-anchor=\"middle\">volunteers</text>\n",
        (T + H - B) / 2.0
    ));
    for (s, (name, _)) in series.iter().enumerate() {
        let ly = T + 16.0 * s as f64;
        svg.push_str(&format!(
            "<rect x=\"{}\" y=\"{:.1}\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{}\" y=\"{:.1}\">{name}</text>\n",
            W - R - 110.0,
            ly,
            colours[s % 3],
            W - R - 95.0,
            ly + 9.0
        ));
    }
    svg.push_str("</svg>\n");
    svg
}
