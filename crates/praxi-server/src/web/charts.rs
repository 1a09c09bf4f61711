//! Charts drawn on the server as inline SVG: no JavaScript, no chart library, no `style`
//! attributes (the CSP forbids them) — colours are SVG `fill`/`stroke` attributes from
//! [`Colour`] values, which only exist as validated `#RRGGBB`.
//!
//! Every builder returns a [`Chart`]: the SVG (with `role="img"`, `<title>` and `<desc>`) and
//! a [`DataTable`] with the same numbers, which the page renders next to it for screen readers
//! and for anyone who wants the exact values. All text that reaches the SVG goes through
//! [`escape`]; numbers are formatted here in the page language.
//!
//! * [`bars`] — vertical bars, one or more series side by side (weekday, hour, lead time).
//! * [`lines`] — lines over ordered categories, gaps where a value is absent (days, weeks).
//! * [`hbars`] — horizontal bars with long labels (utilisation, funnel, surgeons).
//! * [`stacked`] — parts of a whole in one bar with a legend (status distribution).
//! * [`heat_map`] — a matrix of counts (weekday × hour).

use std::fmt::{self, Write as _};

use crate::web::i18n::Lang;

// ---- markup and colours --------------------------------------------------------------------

/// SVG markup built by this module from escaped texts and numbers only; templates print it
/// unescaped (it is markup, not data).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Svg(String);

impl Svg {
    /// The markup.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Svg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl askama::filters::HtmlSafe for Svg {}

/// Escapes text for SVG/XML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A colour for SVG attributes; only constructible from three bytes or a valid `#RRGGBB`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Colour([u8; 3]);

impl Colour {
    /// A colour from its components.
    pub const fn rgb(r: u8, g: u8, b: u8) -> Colour {
        Colour([r, g, b])
    }

    /// Parses `#RRGGBB` (surrounding blanks allowed); anything else is `None`.
    pub fn parse(text: &str) -> Option<Colour> {
        let hex = text.trim().strip_prefix('#')?;
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let byte = |at: usize| u8::from_str_radix(hex.get(at..at + 2)?, 16).ok();
        Some(Colour([byte(0)?, byte(2)?, byte(4)?]))
    }

    /// A stored colour, or `fallback` when it is not `#RRGGBB`.
    pub fn parse_or(text: &str, fallback: Colour) -> Colour {
        Colour::parse(text).unwrap_or(fallback)
    }

    /// `#rrggbb`.
    pub fn hex(self) -> String {
        let [r, g, b] = self.0;
        format!("#{r:02x}{g:02x}{b:02x}")
    }

    /// Relative luminance (WCAG 2.1).
    fn luminance(self) -> f64 {
        let channel = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.039_28 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        let [r, g, b] = self.0;
        0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    }

    /// The WCAG contrast ratio of two colours (1 … 21).
    pub fn contrast(self, other: Colour) -> f64 {
        let (a, b) = (self.luminance(), other.luminance());
        (a.max(b) + 0.05) / (a.min(b) + 0.05)
    }

    /// The text colour (dark or white) with the higher contrast on this fill.
    pub fn text_on(self) -> Colour {
        if self.contrast(TEXT) >= self.contrast(WHITE) {
            TEXT
        } else {
            WHITE
        }
    }
}

/// Body text (`--text`).
pub const TEXT: Colour = Colour::rgb(0x1b, 0x24, 0x30);
/// Secondary text (`--muted`).
pub const MUTED: Colour = Colour::rgb(0x4a, 0x56, 0x68);
/// White.
pub const WHITE: Colour = Colour::rgb(0xff, 0xff, 0xff);
/// Grid lines.
pub const GRID: Colour = Colour::rgb(0xd5, 0xdb, 0xe3);
/// The fallback for missing or invalid stored colours (3:1 or better on white).
pub const NEUTRAL: Colour = Colour::rgb(0x6b, 0x76, 0x86);
/// Series colours, each at least 4.5:1 on white (they carry white text too).
pub const PALETTE: [Colour; 6] = [
    Colour::rgb(0x0b, 0x5c, 0xad),
    Colour::rgb(0xa4, 0x16, 0x1a),
    Colour::rgb(0x1e, 0x6b, 0x34),
    Colour::rgb(0x8a, 0x5a, 0x00),
    Colour::rgb(0x6a, 0x3d, 0x9a),
    Colour::rgb(0x00, 0x6d, 0x75),
];
/// Heat-map levels: none, low, medium, high, peak.
pub const HEAT: [Colour; 5] = [
    Colour::rgb(0xf1, 0xf3, 0xf6),
    Colour::rgb(0xcf, 0xe0, 0xf3),
    Colour::rgb(0x8f, 0xb8, 0xe3),
    Colour::rgb(0x2f, 0x6f, 0xb8),
    Colour::rgb(0x0b, 0x3d, 0x7a),
];

// ---- numbers -------------------------------------------------------------------------------

/// `value` with `decimals` decimals and thousands grouping: `1.234,5` (German), `1,234.5`
/// (English). Not-finite values print as `–`.
pub fn number(lang: Lang, value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return "–".to_owned();
    }
    let (group, point) = match lang {
        Lang::De => ('.', ','),
        Lang::En => (',', '.'),
    };
    let text = format!("{:.*}", decimals, value.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let mut out = String::new();
    let negative = value < 0.0 && text.bytes().any(|b| matches!(b, b'1'..=b'9'));
    if negative {
        out.push('−');
    }
    let digits = whole.len();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (digits - i) % 3 == 0 {
            out.push(group);
        }
        out.push(c);
    }
    if !fraction.is_empty() {
        out.push(point);
        out.push_str(fraction);
    }
    out
}

/// A count with thousands grouping.
pub fn count(lang: Lang, n: u64) -> String {
    number(lang, n as f64, 0)
}

/// A percentage with one decimal: `12,5 %` (German), `12.5%` (English).
pub fn percent(lang: Lang, value: f64) -> String {
    match lang {
        Lang::De => format!("{} %", number(lang, value, 1)),
        Lang::En => format!("{}%", number(lang, value, 1)),
    }
}

/// What the values of a chart are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Whole numbers (a decimal only when the value has one).
    Count,
    /// Percentages with one decimal.
    Percent,
}

/// How a chart prints its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Format {
    pub lang: Lang,
    pub unit: Unit,
}

impl Format {
    /// One value as text.
    pub fn value(&self, value: f64) -> String {
        match self.unit {
            Unit::Count if value.fract() == 0.0 => number(self.lang, value, 0),
            Unit::Count => number(self.lang, value, 1),
            Unit::Percent => percent(self.lang, value),
        }
    }

    fn cell(&self, value: Option<f64>, missing: &str) -> String {
        value.map_or_else(|| missing.to_owned(), |v| self.value(v))
    }
}

// ---- what a chart is -----------------------------------------------------------------------

/// One named row of values.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub colour: Colour,
    /// One value per category; `None` = no figure (drawn as a gap, listed as missing).
    pub values: Vec<Option<f64>>,
}

/// The numbers of a chart as a table (caption, column headers, one row per category).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataTable {
    pub caption: String,
    pub headers: Vec<String>,
    pub rows: Vec<DataRow>,
}

/// One table row: the category (a row header) and its cells.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataRow {
    pub label: String,
    pub cells: Vec<String>,
}

/// A drawn chart.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chart {
    /// The element id of the `<svg>` (stable, for tests and links).
    pub id: String,
    pub title: String,
    pub svg: Svg,
    pub table: DataTable,
    /// Nothing to draw (no categories or only zeros/absent values).
    pub empty: bool,
}

/// The texts and settings every chart needs besides its numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame<'a> {
    /// Element id: letters, digits, `-` and `_` only (anything else is dropped).
    pub id: &'a str,
    pub title: &'a str,
    /// A sentence summarising the chart for `<desc>`.
    pub desc: &'a str,
    /// The header of the category column of the table.
    pub category: &'a str,
    /// Shown instead of the drawing when there is nothing to draw.
    pub no_data: &'a str,
    /// Table text for an absent value.
    pub missing: &'a str,
    pub format: Format,
}

impl Frame<'_> {
    fn id(&self) -> String {
        self.id
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect()
    }

    fn chart(&self, svg: String, table: DataTable, empty: bool) -> Chart {
        Chart {
            id: self.id(),
            title: self.title.to_owned(),
            svg: Svg(svg),
            table,
            empty,
        }
    }

    /// `<svg …><title/><desc/>` (the caller appends the drawing and `</svg>`).
    fn open(&self, width: f64, height: f64) -> String {
        let id = self.id();
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"{id}\" class=\"chart-svg\" role=\"img\" \
             aria-labelledby=\"{id}-title {id}-desc\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" \
             font-family=\"system-ui, sans-serif\" font-size=\"12\"><title id=\"{id}-title\">{title}</title>\
             <desc id=\"{id}-desc\">{desc}</desc>",
            w = n(width),
            h = n(height),
            title = escape(self.title),
            desc = escape(self.desc),
        )
    }

    /// The drawing for "no data": the message in a small box.
    fn placeholder(&self) -> String {
        let mut svg = self.open(WIDTH, 64.0);
        rect(
            &mut svg,
            0.5,
            0.5,
            WIDTH - 1.0,
            63.0,
            HEAT[0],
            Some(GRID),
            None,
        );
        text(&mut svg, WIDTH / 2.0, 37.0, "middle", MUTED, self.no_data);
        svg.push_str("</svg>");
        svg
    }

    fn caption(&self) -> String {
        self.title.to_owned()
    }
}

// ---- drawing primitives --------------------------------------------------------------------

const WIDTH: f64 = 720.0;

/// A coordinate with at most one decimal (no NaN or infinity reaches the markup).
fn n(value: f64) -> String {
    if !value.is_finite() {
        return "0".to_owned();
    }
    let rounded = (value * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded:.1}")
    }
}

#[expect(clippy::too_many_arguments, reason = "a drawing primitive")]
fn rect(
    svg: &mut String,
    x: f64,
    y: f64,
    w: f64,
    h: f64,
    fill: Colour,
    stroke: Option<Colour>,
    tooltip: Option<&str>,
) {
    let _ = write!(
        svg,
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"",
        n(x),
        n(y),
        n(w.max(0.0)),
        n(h.max(0.0)),
        fill.hex()
    );
    if let Some(stroke) = stroke {
        let _ = write!(svg, " stroke=\"{}\" stroke-width=\"1\"", stroke.hex());
    }
    match tooltip {
        Some(tip) => {
            let _ = write!(svg, "><title>{}</title></rect>", escape(tip));
        }
        None => svg.push_str("/>"),
    }
}

fn text(svg: &mut String, x: f64, y: f64, anchor: &str, fill: Colour, content: &str) {
    let _ = write!(
        svg,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\" fill=\"{}\">{}</text>",
        n(x),
        n(y),
        fill.hex(),
        escape(content)
    );
}

fn line(svg: &mut String, (x1, y1): (f64, f64), (x2, y2): (f64, f64), stroke: Colour) {
    let _ = write!(
        svg,
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"1\"/>",
        n(x1),
        n(y1),
        n(x2),
        n(y2),
        stroke.hex()
    );
}

/// Shortens `label` to `max` characters with an ellipsis.
pub fn truncate(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        return label.to_owned();
    }
    let mut out: String = label.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A "nice" axis for values up to `max`: (top, step) with about four steps of 1, 2, 2.5 or 5
/// × 10ⁿ; whole steps for counts.
pub fn axis(max: f64, unit: Unit) -> (f64, f64) {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        0.0
    };
    if max == 0.0 {
        return (1.0, 1.0);
    }
    if unit == Unit::Percent && max <= 100.0 && max > 50.0 {
        return (100.0, 25.0);
    }
    let raw = max / 4.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let normal = raw / magnitude;
    // Counts take 2.5 × 10ⁿ only where it is a whole number.
    let quarter = unit == Unit::Percent || magnitude >= 10.0;
    let nice = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .filter(|step| *step != 2.5 || quarter)
        .find(|step| normal <= *step + 1e-9)
        .unwrap_or(10.0);
    let mut step = nice * magnitude;
    if unit == Unit::Count {
        step = step.max(1.0).round();
    }
    let top = (max / step - 1e-9).ceil() * step;
    (top, step)
}

fn all_empty<'a>(values: impl IntoIterator<Item = &'a Option<f64>>) -> bool {
    values
        .into_iter()
        .all(|v| v.is_none_or(|v| !v.is_finite() || v == 0.0))
}

fn finite_max<'a>(values: impl IntoIterator<Item = &'a Option<f64>>) -> f64 {
    values
        .into_iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max)
}

/// The table of a category × series chart.
fn series_table(frame: &Frame, labels: &[String], series: &[Series]) -> DataTable {
    let mut headers = vec![frame.category.to_owned()];
    headers.extend(series.iter().map(|s| s.name.clone()));
    let rows = labels
        .iter()
        .enumerate()
        .map(|(i, label)| DataRow {
            label: label.clone(),
            cells: series
                .iter()
                .map(|s| {
                    frame
                        .format
                        .cell(s.values.get(i).copied().flatten(), frame.missing)
                })
                .collect(),
        })
        .collect();
    DataTable {
        caption: frame.caption(),
        headers,
        rows,
    }
}

/// Plot area of the category charts.
struct Plot {
    left: f64,
    top: f64,
    width: f64,
    height: f64,
    max: f64,
}

impl Plot {
    fn y(&self, value: f64) -> f64 {
        let value = value.clamp(0.0, self.max);
        self.top + self.height - value / self.max * self.height
    }

    fn bottom(&self) -> f64 {
        self.top + self.height
    }
}

const MARGIN_LEFT: f64 = 56.0;
const MARGIN_TOP: f64 = 16.0;
const PLOT_HEIGHT: f64 = 190.0;
const AXIS_LABELS: f64 = 30.0;
const LEGEND_ROW: f64 = 22.0;

/// Grid, y-axis labels and category labels (thinned out when they would overlap).
fn frame_axes(svg: &mut String, plot: &Plot, step: f64, format: Format, labels: &[String]) {
    let mut value = 0.0;
    while value <= plot.max + step / 1000.0 {
        let y = plot.y(value);
        line(svg, (plot.left, y), (plot.left + plot.width, y), GRID);
        text(
            svg,
            plot.left - 6.0,
            y + 4.0,
            "end",
            MUTED,
            &format.value(value),
        );
        value += step;
    }
    line(
        svg,
        (plot.left, plot.bottom()),
        (plot.left + plot.width, plot.bottom()),
        MUTED,
    );
    if labels.is_empty() {
        return;
    }
    let band = plot.width / labels.len() as f64;
    let widest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(1) as f64;
    let every = ((widest * 7.0 + 8.0) / band).ceil().max(1.0) as usize;
    for (i, label) in labels.iter().enumerate() {
        if i % every == 0 {
            let x = plot.left + band * (i as f64 + 0.5);
            text(svg, x, plot.bottom() + 16.0, "middle", TEXT, label);
        }
    }
}

/// Markers that tell series apart without colour: circle, square, diamond, triangle, …
fn marker(svg: &mut String, index: usize, x: f64, y: f64, colour: Colour, tip: &str) {
    let fill = colour.hex();
    let tip = escape(tip);
    let _ = match index % 4 {
        0 => write!(
            svg,
            "<circle cx=\"{}\" cy=\"{}\" r=\"3.5\" fill=\"{fill}\"><title>{tip}</title></circle>",
            n(x),
            n(y)
        ),
        1 => write!(
            svg,
            "<rect x=\"{}\" y=\"{}\" width=\"7\" height=\"7\" fill=\"{fill}\"><title>{tip}</title></rect>",
            n(x - 3.5),
            n(y - 3.5)
        ),
        2 => write!(
            svg,
            "<polygon points=\"{},{} {},{} {},{} {},{}\" fill=\"{fill}\"><title>{tip}</title></polygon>",
            n(x),
            n(y - 4.5),
            n(x + 4.5),
            n(y),
            n(x),
            n(y + 4.5),
            n(x - 4.5),
            n(y)
        ),
        _ => write!(
            svg,
            "<polygon points=\"{},{} {},{} {},{}\" fill=\"{fill}\"><title>{tip}</title></polygon>",
            n(x),
            n(y - 4.5),
            n(x + 4.5),
            n(y + 3.5),
            n(x - 4.5),
            n(y + 3.5)
        ),
    };
}

/// Dash patterns per series (solid, dashed, dotted, dash-dot).
const DASHES: [&str; 4] = ["", "6 3", "2 3", "8 3 2 3"];

/// A legend row under the plot; `lines` draws a line sample with the series marker.
fn legend(svg: &mut String, series: &[Series], y: f64, lines: bool) {
    let mut x = MARGIN_LEFT;
    for (i, s) in series.iter().enumerate() {
        if lines {
            let _ = write!(
                svg,
                "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2\"{}/>",
                n(x),
                n(y - 4.0),
                n(x + 22.0),
                n(y - 4.0),
                s.colour.hex(),
                dash_attribute(i)
            );
            marker(svg, i, x + 11.0, y - 4.0, s.colour, &s.name);
        } else {
            rect(svg, x + 4.0, y - 11.0, 14.0, 14.0, s.colour, None, None);
        }
        text(svg, x + 28.0, y, "start", TEXT, &s.name);
        x += 40.0 + s.name.chars().count() as f64 * 7.0;
    }
}

fn dash_attribute(index: usize) -> String {
    match DASHES[index % DASHES.len()] {
        "" => String::new(),
        dash => format!(" stroke-dasharray=\"{dash}\""),
    }
}

fn tip(label: &str, series: &Series, value: &str, several: bool) -> String {
    if several {
        format!("{label} · {}: {value}", series.name)
    } else {
        format!("{label}: {value}")
    }
}

// ---- the charts ----------------------------------------------------------------------------

/// Vertical bars: one group per category, one bar per series (side by side). A single series
/// gets its values printed above the bars when there is room.
pub fn bars(frame: &Frame, labels: &[String], series: &[Series]) -> Chart {
    let table = series_table(frame, labels, series);
    let values = || series.iter().flat_map(|s| s.values.iter());
    if labels.is_empty() || series.is_empty() || all_empty(values()) {
        return frame.chart(frame.placeholder(), table, true);
    }
    let (max, step) = axis(finite_max(values()), frame.format.unit);
    let several = series.len() > 1;
    let height = MARGIN_TOP + PLOT_HEIGHT + AXIS_LABELS + if several { LEGEND_ROW } else { 0.0 };
    let plot = Plot {
        left: MARGIN_LEFT,
        top: MARGIN_TOP,
        width: WIDTH - MARGIN_LEFT - 12.0,
        height: PLOT_HEIGHT,
        max,
    };
    let mut svg = frame.open(WIDTH, height);
    frame_axes(&mut svg, &plot, step, frame.format, labels);
    let band = plot.width / labels.len() as f64;
    let group = band * 0.8;
    let bar = group / series.len() as f64;
    for (i, label) in labels.iter().enumerate() {
        for (k, s) in series.iter().enumerate() {
            let Some(value) = s.values.get(i).copied().flatten().filter(|v| v.is_finite()) else {
                continue;
            };
            let x = plot.left + band * i as f64 + (band - group) / 2.0 + bar * k as f64;
            let y = plot.y(value);
            let shown = frame.format.value(value);
            rect(
                &mut svg,
                x,
                y,
                (bar - 1.0).max(1.0),
                plot.bottom() - y,
                s.colour,
                None,
                Some(&tip(label, s, &shown, several)),
            );
            if !several && value > 0.0 && bar >= shown.chars().count() as f64 * 6.5 {
                text(&mut svg, x + bar / 2.0, y - 4.0, "middle", TEXT, &shown);
            }
        }
    }
    if several {
        legend(&mut svg, series, height - 6.0, false);
    }
    svg.push_str("</svg>");
    frame.chart(svg, table, false)
}

/// Lines over ordered categories; absent values break the line. `area` fills under a single
/// series.
pub fn lines(frame: &Frame, labels: &[String], series: &[Series], area: bool) -> Chart {
    let table = series_table(frame, labels, series);
    let values = || series.iter().flat_map(|s| s.values.iter());
    if labels.is_empty() || series.is_empty() || all_empty(values()) {
        return frame.chart(frame.placeholder(), table, true);
    }
    let (max, step) = axis(finite_max(values()), frame.format.unit);
    let several = series.len() > 1;
    let height = MARGIN_TOP + PLOT_HEIGHT + AXIS_LABELS + if several { LEGEND_ROW } else { 0.0 };
    let plot = Plot {
        left: MARGIN_LEFT,
        top: MARGIN_TOP,
        width: WIDTH - MARGIN_LEFT - 12.0,
        height: PLOT_HEIGHT,
        max,
    };
    let mut svg = frame.open(WIDTH, height);
    frame_axes(&mut svg, &plot, step, frame.format, labels);
    let band = plot.width / labels.len() as f64;
    let x_of = |i: usize| plot.left + band * (i as f64 + 0.5);
    for (k, s) in series.iter().enumerate() {
        // Runs of consecutive present values.
        let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for i in 0..labels.len() {
            match s.values.get(i).copied().flatten().filter(|v| v.is_finite()) {
                Some(value) => {
                    if let Some(run) = runs.last_mut() {
                        run.push((x_of(i), plot.y(value)));
                    }
                }
                None => runs.push(Vec::new()),
            }
        }
        for run in runs.iter().filter(|run| !run.is_empty()) {
            let points: Vec<String> = run
                .iter()
                .map(|(x, y)| format!("{},{}", n(*x), n(*y)))
                .collect();
            if area && !several && run.len() > 1 {
                let (first, last) = (run[0].0, run[run.len() - 1].0);
                let _ = write!(
                    svg,
                    "<polygon points=\"{},{} {} {},{}\" fill=\"{}\" fill-opacity=\"0.15\"/>",
                    n(first),
                    n(plot.bottom()),
                    points.join(" "),
                    n(last),
                    n(plot.bottom()),
                    s.colour.hex()
                );
            }
            let _ = write!(
                svg,
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{}/>",
                points.join(" "),
                s.colour.hex(),
                dash_attribute(k)
            );
        }
        for (i, label) in labels.iter().enumerate() {
            if let Some(value) = s.values.get(i).copied().flatten().filter(|v| v.is_finite()) {
                let shown = frame.format.value(value);
                marker(
                    &mut svg,
                    k,
                    x_of(i),
                    plot.y(value),
                    s.colour,
                    &tip(label, s, &shown, several),
                );
            }
        }
    }
    if several {
        legend(&mut svg, series, height - 6.0, true);
    }
    svg.push_str("</svg>");
    frame.chart(svg, table, false)
}

/// One horizontal bar.
#[derive(Debug, Clone, PartialEq)]
pub struct HBar {
    pub label: String,
    /// `None`: no figure (no bar, the missing text instead).
    pub value: Option<f64>,
    pub colour: Colour,
    /// An extra table column (e.g. "12 h of 40 h").
    pub detail: Option<String>,
}

/// Horizontal bars with their labels on the left and values on the right. `max` fixes the
/// scale (100 for percentages, the first step of a funnel); `None` scales to the largest
/// value. Colours from stored data get a dark outline so light ones stay visible.
pub fn hbars(
    frame: &Frame,
    value_header: &str,
    detail_header: Option<&str>,
    rows: &[HBar],
    max: Option<f64>,
) -> Chart {
    let mut headers = vec![frame.category.to_owned(), value_header.to_owned()];
    headers.extend(detail_header.map(str::to_owned));
    let table = DataTable {
        caption: frame.caption(),
        headers,
        rows: rows
            .iter()
            .map(|row| {
                let mut cells = vec![frame.format.cell(row.value, frame.missing)];
                if detail_header.is_some() {
                    cells.push(
                        row.detail
                            .clone()
                            .unwrap_or_else(|| frame.missing.to_owned()),
                    );
                }
                DataRow {
                    label: row.label.clone(),
                    cells,
                }
            })
            .collect(),
    };
    if rows.is_empty() {
        return frame.chart(frame.placeholder(), table, true);
    }
    let largest = finite_max(rows.iter().map(|row| &row.value));
    let scale = max
        .filter(|m| m.is_finite() && *m > 0.0)
        .unwrap_or_else(|| axis(largest, frame.format.unit).0);
    const ROW: f64 = 30.0;
    const LABEL: f64 = 210.0;
    const VALUE: f64 = 80.0;
    let height = 8.0 + ROW * rows.len() as f64;
    let track = WIDTH - LABEL - VALUE - 8.0;
    let mut svg = frame.open(WIDTH, height);
    for (i, row) in rows.iter().enumerate() {
        let y = 4.0 + ROW * i as f64;
        let shown = frame.format.cell(row.value, frame.missing);
        let _ = write!(
            svg,
            "<g><title>{}</title>",
            escape(&format!("{}: {shown}", row.label))
        );
        text(
            &mut svg,
            LABEL - 8.0,
            y + 19.0,
            "end",
            TEXT,
            &truncate(&row.label, 30),
        );
        rect(&mut svg, LABEL, y + 6.0, track, 18.0, HEAT[0], None, None);
        if let Some(value) = row.value.filter(|v| v.is_finite()) {
            let width = (value / scale).clamp(0.0, 1.0) * track;
            if width > 0.0 {
                rect(
                    &mut svg,
                    LABEL,
                    y + 6.0,
                    width,
                    18.0,
                    row.colour,
                    Some(TEXT),
                    None,
                );
            }
        }
        text(
            &mut svg,
            LABEL + track + 8.0,
            y + 19.0,
            "start",
            TEXT,
            &shown,
        );
        svg.push_str("</g>");
    }
    svg.push_str("</svg>");
    frame.chart(svg, table, false)
}

/// One part of a whole.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub label: String,
    pub value: u64,
    pub colour: Colour,
}

/// Parts of a whole as one bar of segments (left to right in the given order) with a legend
/// naming each part with its count and share. `share_header` heads the table's share column.
pub fn stacked(frame: &Frame, value_header: &str, share_header: &str, parts: &[Part]) -> Chart {
    let lang = frame.format.lang;
    let total: u64 = parts.iter().map(|p| p.value).sum();
    let share = |value: u64| (total > 0).then(|| value as f64 * 100.0 / total as f64);
    let table = DataTable {
        caption: frame.caption(),
        headers: vec![
            frame.category.to_owned(),
            value_header.to_owned(),
            share_header.to_owned(),
        ],
        rows: parts
            .iter()
            .map(|p| DataRow {
                label: p.label.clone(),
                cells: vec![
                    count(lang, p.value),
                    share(p.value).map_or_else(|| frame.missing.to_owned(), |s| percent(lang, s)),
                ],
            })
            .collect(),
    };
    if total == 0 {
        return frame.chart(frame.placeholder(), table, true);
    }
    const BAR: f64 = 40.0;
    const SLOT: f64 = 240.0;
    let per_row = (WIDTH / SLOT).floor().max(1.0) as usize;
    let legend_rows = parts.len().div_ceil(per_row);
    let height = 8.0 + BAR + 12.0 + LEGEND_ROW * legend_rows as f64;
    let mut svg = frame.open(WIDTH, height);
    let mut x = 0.0;
    for p in parts.iter().filter(|p| p.value > 0) {
        let width = p.value as f64 / total as f64 * WIDTH;
        let label = format!(
            "{}: {} ({})",
            p.label,
            count(lang, p.value),
            share(p.value).map(|s| percent(lang, s)).unwrap_or_default()
        );
        rect(
            &mut svg,
            x,
            4.0,
            width,
            BAR,
            p.colour,
            Some(WHITE),
            Some(&label),
        );
        let inside = share(p.value).map(|s| percent(lang, s)).unwrap_or_default();
        if width >= inside.chars().count() as f64 * 7.0 + 8.0 {
            text(
                &mut svg,
                x + width / 2.0,
                4.0 + BAR / 2.0 + 4.0,
                "middle",
                p.colour.text_on(),
                &inside,
            );
        }
        x += width;
    }
    for (i, p) in parts.iter().enumerate() {
        let lx = SLOT * (i % per_row) as f64;
        let ly = 8.0 + BAR + 12.0 + LEGEND_ROW * (i / per_row) as f64 + 14.0;
        rect(&mut svg, lx, ly - 11.0, 14.0, 14.0, p.colour, None, None);
        let entry = format!(
            "{}: {} ({})",
            p.label,
            count(lang, p.value),
            share(p.value).map(|s| percent(lang, s)).unwrap_or_default()
        );
        text(
            &mut svg,
            lx + 20.0,
            ly,
            "start",
            TEXT,
            &truncate(&entry, 32),
        );
    }
    svg.push_str("</svg>");
    frame.chart(svg, table, false)
}

/// The level (0 … 4) of a count relative to the largest: none, ≤ 25 %, ≤ 50 %, ≤ 75 %, more.
pub fn heat_level(value: u64, max: u64) -> usize {
    if value == 0 || max == 0 {
        return 0;
    }
    let share = value as f64 / max as f64;
    match share {
        s if s <= 0.25 => 1,
        s if s <= 0.5 => 2,
        s if s <= 0.75 => 3,
        _ => 4,
    }
}

/// A matrix of counts: `rows` × `columns`, cells coloured by [`heat_level`] with their count
/// printed; `levels` names the five levels for the legend.
pub fn heat_map(
    frame: &Frame,
    rows: &[String],
    columns: &[String],
    matrix: &[Vec<u64>],
    levels: &[String; 5],
) -> Chart {
    let lang = frame.format.lang;
    let cell = |r: usize, c: usize| {
        matrix
            .get(r)
            .and_then(|row| row.get(c))
            .copied()
            .unwrap_or(0)
    };
    let mut headers = vec![frame.category.to_owned()];
    headers.extend(columns.iter().cloned());
    let table = DataTable {
        caption: frame.caption(),
        headers,
        rows: rows
            .iter()
            .enumerate()
            .map(|(r, label)| DataRow {
                label: label.clone(),
                cells: (0..columns.len())
                    .map(|c| count(lang, cell(r, c)))
                    .collect(),
            })
            .collect(),
    };
    let max = (0..rows.len())
        .flat_map(|r| (0..columns.len()).map(move |c| (r, c)))
        .map(|(r, c)| cell(r, c))
        .max()
        .unwrap_or(0);
    if rows.is_empty() || columns.is_empty() || max == 0 {
        return frame.chart(frame.placeholder(), table, true);
    }
    const LABEL: f64 = 44.0;
    const HEAD: f64 = 22.0;
    const CELL_H: f64 = 28.0;
    let cell_w = ((WIDTH - LABEL) / columns.len() as f64).min(48.0);
    let height = HEAD + CELL_H * rows.len() as f64 + 12.0 + LEGEND_ROW;
    let mut svg = frame.open(WIDTH, height);
    for (c, label) in columns.iter().enumerate() {
        text(
            &mut svg,
            LABEL + cell_w * (c as f64 + 0.5),
            15.0,
            "middle",
            TEXT,
            label,
        );
    }
    for (r, label) in rows.iter().enumerate() {
        let y = HEAD + CELL_H * r as f64;
        text(
            &mut svg,
            LABEL - 8.0,
            y + CELL_H / 2.0 + 4.0,
            "end",
            TEXT,
            label,
        );
        for (c, column) in columns.iter().enumerate() {
            let value = cell(r, c);
            let fill = HEAT[heat_level(value, max)];
            let x = LABEL + cell_w * c as f64;
            let tip = format!("{label} {column}: {}", count(lang, value));
            rect(
                &mut svg,
                x,
                y,
                cell_w,
                CELL_H,
                fill,
                Some(WHITE),
                Some(&tip),
            );
            if value > 0 {
                text(
                    &mut svg,
                    x + cell_w / 2.0,
                    y + CELL_H / 2.0 + 4.0,
                    "middle",
                    fill.text_on(),
                    &count(lang, value),
                );
            }
        }
    }
    let ly = HEAD + CELL_H * rows.len() as f64 + 12.0 + 14.0;
    let mut x = LABEL;
    for (level, name) in levels.iter().enumerate() {
        rect(
            &mut svg,
            x,
            ly - 11.0,
            14.0,
            14.0,
            HEAT[level],
            Some(MUTED),
            None,
        );
        text(&mut svg, x + 20.0, ly, "start", TEXT, name);
        x += 36.0 + name.chars().count() as f64 * 7.0;
    }
    svg.push_str("</svg>");
    frame.chart(svg, table, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame<'a>(unit: Unit) -> Frame<'a> {
        Frame {
            id: "testChart",
            title: "Termine <pro> Tag",
            desc: "Beschreibung & mehr",
            category: "Tag",
            no_data: "Keine Daten",
            missing: "–",
            format: Format {
                lang: Lang::De,
                unit,
            },
        }
    }

    fn series(values: &[Option<f64>]) -> Vec<Series> {
        vec![Series {
            name: "Termine".to_owned(),
            colour: PALETTE[0],
            values: values.to_vec(),
        }]
    }

    fn labels(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    /// Every chart's markup is well-formed enough: one root, title and desc, no raw `<` from
    /// data, no NaN.
    fn assert_sane(chart: &Chart) {
        let svg = chart.svg.as_str();
        assert!(svg.starts_with("<svg "), "{svg}");
        assert!(svg.ends_with("</svg>"), "{svg}");
        assert_eq!(svg.matches("<svg").count(), 1);
        assert!(svg.contains("<title id=\"testChart-title\">"), "{svg}");
        assert!(svg.contains("<desc id=\"testChart-desc\">"), "{svg}");
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
        assert!(!svg.contains("style="), "{svg}");
    }

    #[test]
    fn labels_and_texts_are_escaped() {
        let evil = "</text><script>alert(1)</script>\"'&";
        let chart = bars(
            &Frame {
                title: evil,
                desc: evil,
                ..frame(Unit::Count)
            },
            &labels(&[evil, "b"]),
            &series(&[Some(2.0), Some(1.0)]),
        );
        assert_sane(&chart);
        let svg = chart.svg.as_str();
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;/text&gt;&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;"));
        // The table keeps the raw text: the template escapes it.
        assert_eq!(chart.table.rows[0].label, evil);
        let hb = hbars(
            &frame(Unit::Percent),
            "Auslastung",
            None,
            &[HBar {
                label: evil.to_owned(),
                value: Some(50.0),
                colour: PALETTE[1],
                detail: None,
            }],
            Some(100.0),
        );
        assert!(!hb.svg.as_str().contains("<script>"));
        assert_eq!(escape("a\u{0}b"), "a b");
    }

    #[test]
    fn ids_keep_only_safe_characters() {
        let chart = bars(
            &Frame {
                id: "x\" onload=\"evil",
                ..frame(Unit::Count)
            },
            &labels(&["a"]),
            &series(&[Some(1.0)]),
        );
        assert_eq!(chart.id, "xonloadevil");
        assert!(chart.svg.as_str().contains("id=\"xonloadevil\""));
    }

    #[test]
    fn only_hex_colours_parse() {
        let cases = [
            ("#1E90ff", Some("#1e90ff")),
            (" #445566 ", Some("#445566")),
            ("red", None),
            ("#12345", None),
            ("#12345g", None),
            ("#ééé", None),
            ("\"><script>", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(
                Colour::parse(text).map(Colour::hex).as_deref(),
                expected,
                "{text:?}"
            );
        }
        assert_eq!(Colour::parse_or("nope", NEUTRAL), NEUTRAL);
    }

    #[test]
    fn text_on_a_fill_has_enough_contrast() {
        for colour in PALETTE
            .iter()
            .chain(HEAT.iter())
            .chain([NEUTRAL, TEXT, WHITE].iter())
        {
            let ratio = colour.contrast(colour.text_on());
            assert!(ratio >= 4.5, "{} → {ratio}", colour.hex());
        }
        // Series colours are usable as text and lines on white, and the neutral bar on white.
        for colour in PALETTE {
            assert!(colour.contrast(WHITE) >= 4.5, "{}", colour.hex());
        }
        assert!(NEUTRAL.contrast(WHITE) >= 3.0);
        assert!(MUTED.contrast(WHITE) >= 4.5);
        assert!((TEXT.contrast(WHITE) - WHITE.contrast(TEXT)).abs() < 1e-9);
    }

    #[test]
    fn axes_are_nice_and_cover_the_maximum() {
        let cases = [
            (0.0, Unit::Count, (1.0, 1.0)),
            (f64::NAN, Unit::Count, (1.0, 1.0)),
            (3.0, Unit::Count, (3.0, 1.0)),
            (7.0, Unit::Count, (8.0, 2.0)),
            (10.0, Unit::Count, (10.0, 5.0)),
            (184.0, Unit::Count, (200.0, 50.0)),
            (959.0, Unit::Count, (1000.0, 250.0)),
            (86.2, Unit::Percent, (100.0, 25.0)),
            (12.5, Unit::Percent, (15.0, 5.0)),
            (0.4, Unit::Percent, (0.4, 0.1)),
            (0.3, Unit::Count, (1.0, 1.0)),
        ];
        for (max, unit, expected) in cases {
            let (top, step) = axis(max, unit);
            assert!(
                (top - expected.0).abs() < 1e-9 && (step - expected.1).abs() < 1e-9,
                "{max}: {top}/{step}"
            );
            if max.is_finite() {
                assert!(top >= max);
            }
        }
    }

    #[test]
    fn bars_scale_to_the_axis() {
        // Max 4 → axis 0…4 in steps of 1 over a 190 px plot: the bar of 2 is 95 px high and
        // starts at 16 + 95 = 111.
        let chart = bars(
            &frame(Unit::Count),
            &labels(&["Mo", "Di"]),
            &series(&[Some(4.0), Some(2.0)]),
        );
        assert_sane(&chart);
        let svg = chart.svg.as_str();
        assert!(
            svg.contains("y=\"111\" width=") && svg.contains("height=\"95\""),
            "{svg}"
        );
        assert!(svg.contains("height=\"190\""), "{svg}");
        assert!(svg.contains("<title>Di: 2</title>"), "{svg}");
        assert!(!chart.empty);
        assert_eq!(chart.table.headers, vec!["Tag", "Termine"]);
        assert_eq!(chart.table.rows[1].cells, vec!["2"]);
    }

    #[test]
    fn empty_data_draws_a_message_and_keeps_the_table() {
        let f = frame(Unit::Count);
        let zeros = bars(&f, &labels(&["Mo", "Di"]), &series(&[Some(0.0), None]));
        assert!(zeros.empty);
        assert_sane(&zeros);
        assert!(zeros.svg.as_str().contains(">Keine Daten</text>"));
        assert_eq!(zeros.table.rows[0].cells, vec!["0"]);
        assert_eq!(zeros.table.rows[1].cells, vec!["–"]);
        for chart in [
            bars(&f, &[], &[]),
            lines(&f, &[], &series(&[]), true),
            lines(&f, &labels(&["a"]), &series(&[None]), false),
            hbars(&f, "Wert", None, &[], None),
            stacked(&f, "Anzahl", "Anteil", &[]),
            heat_map(
                &f,
                &labels(&["Mo"]),
                &labels(&["08"]),
                &[vec![0]],
                &Default::default(),
            ),
        ] {
            assert!(chart.empty);
            assert_sane(&chart);
        }
    }

    #[test]
    fn lines_break_at_absent_values_and_mark_every_point() {
        let chart = lines(
            &frame(Unit::Percent),
            &labels(&["01.01.", "08.01.", "15.01.", "22.01."]),
            &[
                Series {
                    name: "Abschluss".to_owned(),
                    colour: PALETTE[0],
                    values: vec![Some(50.0), None, Some(75.0), Some(100.0)],
                },
                Series {
                    name: "Absage".to_owned(),
                    colour: PALETTE[1],
                    values: vec![Some(10.0), Some(0.0), None, None],
                },
            ],
            false,
        );
        assert_sane(&chart);
        let svg = chart.svg.as_str();
        // Series 1: a lone point, then a run of two; series 2: one run of two.
        assert_eq!(svg.matches("<polyline").count(), 3, "{svg}");
        assert!(
            svg.contains("<title>15.01. · Abschluss: 75,0 %</title>"),
            "{svg}"
        );
        // Second series is dashed and drawn with squares.
        assert!(svg.contains("stroke-dasharray=\"6 3\""));
        assert_eq!(chart.table.rows[1].cells, vec!["–", "0,0 %"]);
        // Percent axis tops at 100 %: 100 is at the top of the plot.
        assert!(svg.contains(">100,0 %</text>"));
    }

    #[test]
    fn hbars_clamp_to_the_scale_and_show_absent_values() {
        let rows = [
            HBar {
                label: "Dr. Anna Beispiel-mit-einem-sehr-langen-Namen".to_owned(),
                value: Some(150.0),
                colour: Colour::parse_or("#ffff00", NEUTRAL),
                detail: Some("12 h / 8 h".to_owned()),
            },
            HBar {
                label: "Dr. Bert".to_owned(),
                value: None,
                colour: NEUTRAL,
                detail: None,
            },
        ];
        let chart = hbars(
            &frame(Unit::Percent),
            "Auslastung",
            Some("Stunden"),
            &rows,
            Some(100.0),
        );
        assert_sane(&chart);
        let svg = chart.svg.as_str();
        // The track is 720 − 210 − 80 − 8 = 422 px; 150 % is clamped to it, outlined in dark.
        assert!(
            svg.contains("width=\"422\" height=\"18\" fill=\"#ffff00\" stroke=\"#1b2430\""),
            "{svg}"
        );
        assert!(svg.contains("Dr. Anna Beispiel-mit-einem-s…"), "{svg}");
        assert_eq!(chart.table.headers, vec!["Tag", "Auslastung", "Stunden"]);
        assert_eq!(chart.table.rows[0].cells, vec!["150,0 %", "12 h / 8 h"]);
        assert_eq!(chart.table.rows[1].cells, vec!["–", "–"]);
    }

    #[test]
    fn stacked_parts_share_the_width_and_name_counts_in_the_legend() {
        let parts = [
            Part {
                label: "Geplant".to_owned(),
                value: 3,
                colour: PALETTE[3],
            },
            Part {
                label: "Abgesagt".to_owned(),
                value: 1,
                colour: PALETTE[1],
            },
            Part {
                label: "Erledigt".to_owned(),
                value: 0,
                colour: PALETTE[2],
            },
        ];
        let chart = stacked(&frame(Unit::Count), "Anzahl", "Anteil", &parts);
        assert_sane(&chart);
        let svg = chart.svg.as_str();
        assert!(svg.contains("width=\"540\""), "{svg}");
        assert!(svg.contains("x=\"540\" y=\"4\" width=\"180\""), "{svg}");
        assert!(svg.contains(">Geplant: 3 (75,0 %)</text>"), "{svg}");
        assert!(svg.contains(">Erledigt: 0 (0,0 %)</text>"), "{svg}");
        assert_eq!(chart.table.rows[0].cells, vec!["3", "75,0 %"]);
    }

    #[test]
    fn heat_levels_are_relative_to_the_peak() {
        let cases = [
            (0, 8, 0),
            (1, 8, 1),
            (2, 8, 1),
            (3, 8, 2),
            (4, 8, 2),
            (6, 8, 3),
            (7, 8, 4),
            (8, 8, 4),
            (3, 0, 0),
        ];
        for (value, max, level) in cases {
            assert_eq!(heat_level(value, max), level, "{value}/{max}");
        }
        let levels = ["Keine", "Niedrig", "Mittel", "Hoch", "Spitze"].map(str::to_owned);
        let chart = heat_map(
            &frame(Unit::Count),
            &labels(&["Mo", "Di"]),
            &labels(&["08", "09"]),
            &[vec![0, 4], vec![1, 2]],
            &levels,
        );
        assert_sane(&chart);
        let svg = chart.svg.as_str();
        assert!(svg.contains("<title>Mo 09: 4</title>"), "{svg}");
        assert!(
            svg.contains(&format!("fill=\"{}\">4</text>", HEAT[4].text_on().hex())),
            "{svg}"
        );
        assert!(svg.contains(">Spitze</text>"));
        assert_eq!(chart.table.headers, vec!["Tag", "08", "09"]);
        assert_eq!(chart.table.rows[1].cells, vec!["1", "2"]);
    }

    #[test]
    fn numbers_follow_the_language() {
        let cases = [
            (Lang::De, 1234.5, 1, "1.234,5"),
            (Lang::En, 1234.5, 1, "1,234.5"),
            (Lang::De, 959.0, 0, "959"),
            (Lang::De, 1_000_000.0, 0, "1.000.000"),
            (Lang::En, -3.26, 1, "−3.3"),
            (Lang::De, -0.01, 1, "0,0"),
            (Lang::De, f64::NAN, 1, "–"),
        ];
        for (lang, value, decimals, expected) in cases {
            assert_eq!(number(lang, value, decimals), expected, "{value}");
        }
        assert_eq!(percent(Lang::De, 86.26), "86,3 %");
        assert_eq!(percent(Lang::En, 9.9), "9.9%");
        assert_eq!(count(Lang::De, 5259), "5.259");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }
}
