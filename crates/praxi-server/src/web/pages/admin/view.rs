//! The view model of the administration pages: form fields, list rows and cells, filters,
//! pagination, flash messages, and the three templates (index, list, form) that render them.

use askama::Template;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use praxi_domain::validation::is_hex_colour;

use crate::web::Chrome;
use crate::web::i18n::Lang;

/// One option of a select.
#[derive(Debug, Clone)]
pub(crate) struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Choice {
    pub(crate) fn new(value: impl Into<String>, label: impl Into<String>, current: &str) -> Choice {
        let value = value.into();
        Choice {
            selected: value == current,
            value,
            label: label.into(),
        }
    }
}

/// How a form field is rendered.
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Text,
    Email,
    Password,
    Number,
    /// A `#RRGGBB` text input with a swatch of the stored colour.
    Colour,
    Date,
    Time,
    Select(Vec<Choice>),
    Checkbox,
}

/// One form field: its name is the API's field name, so the domain's errors land on it.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub name: &'static str,
    pub label: String,
    pub kind: Kind,
    pub value: String,
    pub checked: bool,
    pub required: bool,
    pub help: Option<String>,
    pub errors: Vec<String>,
    pub autocomplete: &'static str,
    pub maxlength: Option<usize>,
    /// Set on the first field with an error, so keyboard users land on it.
    pub autofocus: bool,
}

impl Field {
    pub(crate) fn new(name: &'static str, label: impl Into<String>, kind: Kind) -> Field {
        Field {
            name,
            label: label.into(),
            kind,
            value: String::new(),
            checked: false,
            required: false,
            help: None,
            errors: Vec::new(),
            autocomplete: "off",
            maxlength: None,
            autofocus: false,
        }
    }

    pub(crate) fn value(mut self, value: impl Into<String>) -> Field {
        self.value = value.into();
        self
    }

    pub(crate) fn checked(mut self, checked: bool) -> Field {
        self.checked = checked;
        self
    }

    pub(crate) fn required(mut self) -> Field {
        self.required = true;
        self
    }

    pub(crate) fn help(mut self, help: impl Into<String>) -> Field {
        self.help = Some(help.into());
        self
    }

    pub(crate) fn maxlength(mut self, max: usize) -> Field {
        self.maxlength = Some(max);
        self
    }

    pub(crate) fn autocomplete(mut self, value: &'static str) -> Field {
        self.autocomplete = value;
        self
    }

    /// The element id (`id_<name>`, as in Django forms).
    pub(crate) fn id(&self) -> String {
        format!("id_{}", self.name)
    }

    pub(crate) fn input_type(&self) -> &'static str {
        match self.kind {
            Kind::Email => "email",
            Kind::Password => "password",
            Kind::Number => "number",
            Kind::Date => "date",
            Kind::Time => "time",
            Kind::Checkbox => "checkbox",
            Kind::Text | Kind::Colour | Kind::Select(_) => "text",
        }
    }

    pub(crate) fn is_select(&self) -> bool {
        matches!(self.kind, Kind::Select(_))
    }

    pub(crate) fn is_checkbox(&self) -> bool {
        matches!(self.kind, Kind::Checkbox)
    }

    pub(crate) fn is_colour(&self) -> bool {
        matches!(self.kind, Kind::Colour)
    }

    pub(crate) fn choices(&self) -> &[Choice] {
        match &self.kind {
            Kind::Select(choices) => choices,
            _ => &[],
        }
    }

    /// The swatch class of a valid colour value (see [`colour_css`]).
    pub(crate) fn swatch(&self) -> Option<String> {
        swatch_class(&self.value)
    }

    /// `aria-describedby`: help and errors.
    pub(crate) fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if self.help.is_some() {
            ids.push(format!("{}-help", self.id()));
        }
        if !self.errors.is_empty() {
            ids.push(format!("{}-errors", self.id()));
        }
        ids.join(" ")
    }
}

/// A table cell.
#[derive(Debug, Clone)]
pub(crate) enum Cell {
    Text(String),
    Muted(String),
    Link {
        text: String,
        href: String,
    },
    /// A text badge; `class` adds meaning for sighted users only (the text carries it too).
    Badge {
        text: String,
        class: &'static str,
    },
    /// A colour: swatch (valid colours only) and its value as text.
    Colour {
        value: String,
        class: Option<String>,
    },
}

impl Cell {
    pub(crate) fn text(text: impl Into<String>) -> Cell {
        Cell::Text(text.into())
    }

    pub(crate) fn muted(text: impl Into<String>) -> Cell {
        Cell::Muted(text.into())
    }

    pub(crate) fn colour(value: Option<&str>) -> Cell {
        let value = value.unwrap_or("").to_owned();
        Cell::Colour {
            class: swatch_class(&value),
            value,
        }
    }

    pub(crate) fn badge(text: impl Into<String>, class: &'static str) -> Cell {
        Cell::Badge {
            text: text.into(),
            class,
        }
    }
}

/// A column header; sortable columns link to the list sorted by them.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    pub label: String,
    /// The `sort` value of this column, if sortable.
    pub sort_key: Option<&'static str>,
    pub href: Option<String>,
    /// `ascending` / `descending` when the list is sorted by this column (`aria-sort`).
    pub aria_sort: Option<&'static str>,
}

impl Column {
    pub(crate) fn new(label: impl Into<String>) -> Column {
        Column {
            label: label.into(),
            sort_key: None,
            href: None,
            aria_sort: None,
        }
    }

    pub(crate) fn sortable(mut self, key: &'static str) -> Column {
        self.sort_key = Some(key);
        self
    }

    /// The sort direction as a small arrow (decoration; `aria-sort` carries the meaning).
    pub(crate) fn arrow(&self) -> &'static str {
        match self.aria_sort {
            Some("ascending") => " ▲",
            Some(_) => " ▼",
            None => "",
        }
    }
}

/// A button that posts (deactivate, delete, …) or a link.
#[derive(Debug, Clone)]
pub(crate) struct RowAction {
    pub label: String,
    pub href: String,
    pub post: bool,
    pub danger: bool,
    pub confirm: Option<String>,
    /// A stable element id for tests.
    pub id: String,
}

/// A table row.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub id: i64,
    pub active: bool,
    pub cells: Vec<Cell>,
    pub actions: Vec<RowAction>,
}

impl Row {
    pub(crate) fn new(id: i64, active: bool, cells: Vec<Cell>) -> Row {
        Row {
            id,
            active,
            cells,
            actions: Vec::new(),
        }
    }
}

/// A list filter.
#[derive(Debug, Clone)]
pub(crate) enum Filter {
    Select {
        name: &'static str,
        label: String,
        options: Vec<Choice>,
    },
    Date {
        name: &'static str,
        label: String,
        value: String,
    },
    Text {
        name: &'static str,
        label: String,
        value: String,
    },
}

/// One page link.
#[derive(Debug, Clone)]
pub(crate) struct PageLink {
    pub label: String,
    pub href: Option<String>,
    pub current: bool,
}

/// Pagination: previous/next and numbered page links with gaps.
#[derive(Debug, Clone, Default)]
pub(crate) struct Pager {
    pub pages: u64,
    pub prev: Option<String>,
    pub next: Option<String>,
    pub links: Vec<PageLink>,
}

impl Pager {
    /// Links to the first, last and the two pages around the current one; `href(n)` is the
    /// URL of page `n`.
    pub(crate) fn new(
        page: u64,
        total: u64,
        page_size: u64,
        href: impl Fn(u64) -> String,
    ) -> Pager {
        let pages = total.div_ceil(page_size.max(1)).max(1);
        let mut links = Vec::new();
        let mut last_shown = 0;
        for n in 1..=pages {
            let near = n + 2 >= page && n <= page + 2;
            if n == 1 || n == pages || near {
                if last_shown + 1 < n {
                    links.push(PageLink {
                        label: "…".to_owned(),
                        href: None,
                        current: false,
                    });
                }
                links.push(PageLink {
                    label: n.to_string(),
                    href: Some(href(n)),
                    current: n == page,
                });
                last_shown = n;
            }
        }
        Pager {
            pages,
            prev: (page > 1).then(|| href(page - 1)),
            next: (page < pages).then(|| href(page + 1)),
            links,
        }
    }
}

/// A message shown above the content.
#[derive(Debug, Clone)]
pub(crate) struct Flash {
    pub ok: bool,
    pub text: String,
}

/// A small form on the edit page besides the main one (reset password, deactivate, delete).
#[derive(Debug, Clone)]
pub(crate) struct ExtraForm {
    pub id: String,
    pub title: String,
    pub action: String,
    pub fields: Vec<Field>,
    pub submit: String,
    pub danger: bool,
    pub confirm: Option<String>,
    pub help: Option<String>,
}

/// A tile of the index page.
#[derive(Debug, Clone)]
pub(crate) struct Tile {
    pub slug: &'static str,
    pub title: String,
    pub description: String,
    /// Rows in the table (`None` where counting is not useful, e.g. the audit log).
    pub count: Option<u64>,
    pub href: String,
    pub create_href: Option<String>,
}

/// A group of tiles.
#[derive(Debug, Clone)]
pub(crate) struct Section {
    pub title: String,
    pub tiles: Vec<Tile>,
}

#[derive(Template)]
#[template(path = "admin/index.html")]
pub(crate) struct IndexPage {
    pub chrome: Chrome,
    pub sections: Vec<Section>,
}

#[derive(Template)]
#[template(path = "admin/list.html")]
pub(crate) struct ListPage {
    pub chrome: Chrome,
    pub slug: &'static str,
    pub base: String,
    pub flash: Option<Flash>,
    pub filters: Vec<Filter>,
    /// Hidden inputs that keep the sort when filtering.
    pub keep: Vec<(String, String)>,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    pub has_actions: bool,
    pub pager: Pager,
    pub total: u64,
    pub create: Option<(String, String)>,
    pub read_only_note: Option<String>,
    pub caption: String,
}

#[derive(Template)]
#[template(path = "admin/form.html")]
pub(crate) struct FormPage {
    pub chrome: Chrome,
    pub slug: &'static str,
    pub back: String,
    pub list_title: String,
    pub flash: Option<Flash>,
    pub has_errors: bool,
    pub action: String,
    pub fields: Vec<Field>,
    pub non_field_errors: Vec<String>,
    pub submit: String,
    pub facts: Vec<(String, String)>,
    pub extra: Vec<ExtraForm>,
}

/// The CSS class of a colour swatch: derived from the validated `#RRGGBB` value itself.
pub(crate) fn swatch_class(value: &str) -> Option<String> {
    is_hex_colour(value).then(|| format!("sw-{}", value[1..].to_ascii_lowercase()))
}

/// Page CSS for the swatches of these colours (invalid values are skipped, so nothing but
/// validated hex digits ever reaches the style sheet).
pub(crate) fn colour_css<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    let mut seen = std::collections::BTreeSet::new();
    for value in values {
        if let Some(class) = swatch_class(value) {
            seen.insert((class, value.to_ascii_lowercase()));
        }
    }
    seen.into_iter()
        .map(|(class, value)| format!(".{class}{{background:{value}}}"))
        .collect()
}

/// The colours of every colour cell and field of a page.
pub(crate) fn page_colours<'a>(rows: &'a [Row], fields: &'a [Field]) -> Vec<&'a str> {
    let cells = rows
        .iter()
        .flat_map(|row| row.cells.iter())
        .filter_map(|cell| match cell {
            Cell::Colour { value, .. } => Some(value.as_str()),
            _ => None,
        });
    let values = fields
        .iter()
        .filter(|field| field.is_colour())
        .map(|field| field.value.as_str());
    cells.chain(values).collect()
}

/// A date as staff read it: `dd.mm.yyyy` in German, ISO in English.
pub(crate) fn date(lang: Lang, date: NaiveDate) -> String {
    match lang {
        Lang::De => date.format("%d.%m.%Y").to_string(),
        Lang::En => date.format("%Y-%m-%d").to_string(),
    }
}

/// A time of day, 24 h.
pub(crate) fn time(time: NaiveTime) -> String {
    time.format("%H:%M").to_string()
}

/// An instant in the practice zone.
pub(crate) fn datetime(lang: Lang, instant: DateTime<Utc>, tz: Tz) -> String {
    let local = instant.with_timezone(&tz);
    match lang {
        Lang::De => local.format("%d.%m.%Y %H:%M").to_string(),
        Lang::En => local.format("%Y-%m-%d %H:%M").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pager: &Pager) -> Vec<String> {
        pager.links.iter().map(|link| link.label.clone()).collect()
    }

    #[test]
    fn pager_shows_first_last_and_neighbours_with_gaps() {
        for (page, total, expected) in [
            (1, 0, vec!["1"]),
            (1, 25, vec!["1"]),
            (1, 26, vec!["1", "2"]),
            (1, 250, vec!["1", "2", "3", "…", "10"]),
            (5, 250, vec!["1", "…", "3", "4", "5", "6", "7", "…", "10"]),
            (10, 250, vec!["1", "…", "8", "9", "10"]),
            (4, 250, vec!["1", "2", "3", "4", "5", "6", "…", "10"]),
        ] {
            let pager = Pager::new(page, total, 25, |n| format!("?page={n}"));
            assert_eq!(labels(&pager), expected, "page {page} of {total}");
        }
        let pager = Pager::new(2, 60, 25, |n| format!("?page={n}"));
        assert_eq!(pager.prev.as_deref(), Some("?page=1"));
        assert_eq!(pager.next.as_deref(), Some("?page=3"));
        assert!(pager.links[1].current);
    }

    #[test]
    fn only_valid_colours_reach_the_style_sheet() {
        let css = colour_css(["#1E90FF", "red", "#1e90ff", "#12345", "}body{x", "#00aa00"]);
        assert_eq!(
            css,
            ".sw-00aa00{background:#00aa00}.sw-1e90ff{background:#1e90ff}"
        );
        assert_eq!(swatch_class("red"), None);
        assert_eq!(swatch_class("#ABCDEF").as_deref(), Some("sw-abcdef"));
    }

    #[test]
    fn dates_follow_the_language() {
        let day = NaiveDate::from_ymd_opt(2030, 1, 14).unwrap();
        assert_eq!(date(Lang::De, day), "14.01.2030");
        assert_eq!(date(Lang::En, day), "2030-01-14");
        let instant = DateTime::parse_from_rfc3339("2030-07-01T06:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            datetime(Lang::De, instant, chrono_tz::Europe::Berlin),
            "01.07.2030 08:30"
        );
    }
}
