//! Pure layout rules of the calendar grid: which hours are visible, how overlapping cards share
//! a column, where the six-week month grid starts, and which text colour is readable on a
//! doctor's colour. No I/O; every rule has table tests below.

use chrono::{Datelike, NaiveDate};
use praxi_domain::validation::is_hex_colour;

/// Minutes since local midnight (`0..=1440`).
pub(crate) type Minute = u32;

/// Hours shown when none of the shown days has practice hours and nothing is booked.
pub(crate) const DEFAULT_HOURS: (u32, u32) = (8, 18);

/// The hours `[first, last)` a day/week grid shows: from the earliest opening (or booking) to
/// the latest closing (or booking end), whole hours. Bookings outside the practice hours widen
/// the grid so nothing is cut off.
pub(crate) fn visible_hours(open: &[(Minute, Minute)], booked: &[(Minute, Minute)]) -> (u32, u32) {
    let base: Vec<(Minute, Minute)> = if open.is_empty() {
        vec![(DEFAULT_HOURS.0 * 60, DEFAULT_HOURS.1 * 60)]
    } else {
        open.to_vec()
    };
    let all = base.iter().chain(booked.iter());
    let first = all
        .clone()
        .map(|(start, _)| *start)
        .min()
        .unwrap_or(DEFAULT_HOURS.0 * 60);
    let last = all
        .map(|(_, end)| *end)
        .max()
        .unwrap_or(DEFAULT_HOURS.1 * 60);
    let first_hour = (first / 60).min(23);
    let last_hour = last.div_ceil(60).clamp(first_hour + 1, 24);
    (first_hour, last_hour)
}

/// Side-by-side lanes for overlapping items (greedy column packing, as the original's
/// calendar does): `items` as `(start, end)` sorted by start; returns for each item its lane
/// and the number of lanes of its group of mutually overlapping items.
pub(crate) fn lanes(items: &[(Minute, Minute)]) -> Vec<(usize, usize)> {
    let mut result = vec![(0, 1); items.len()];
    let mut group_start = 0;
    let mut group_end: Minute = 0;
    let mut lane_ends: Vec<Minute> = Vec::new();
    let close = |result: &mut Vec<(usize, usize)>, from: usize, to: usize, count: usize| {
        for entry in result.iter_mut().take(to).skip(from) {
            entry.1 = count.max(1);
        }
    };
    for (index, (start, end)) in items.iter().copied().enumerate() {
        if index > group_start && start >= group_end {
            close(&mut result, group_start, index, lane_ends.len());
            group_start = index;
            lane_ends.clear();
        }
        let lane = match lane_ends.iter().position(|lane_end| *lane_end <= start) {
            Some(free) => {
                lane_ends[free] = end;
                free
            }
            None => {
                lane_ends.push(end);
                lane_ends.len() - 1
            }
        };
        result[index].0 = lane;
        group_end = if index == group_start {
            end
        } else {
            group_end.max(end)
        };
    }
    close(&mut result, group_start, items.len(), lane_ends.len());
    result
}

/// Where a card sits in a day column, in percent of the column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Placement {
    pub(crate) top: f64,
    pub(crate) height: f64,
    pub(crate) left: f64,
    pub(crate) width: f64,
}

impl Placement {
    /// The CSS declarations (numbers only: safe in the page's style element).
    pub(crate) fn css(&self) -> String {
        format!(
            "top:{:.3}%;height:{:.3}%;left:{:.3}%;width:{:.3}%",
            self.top, self.height, self.left, self.width
        )
    }
}

/// The placement of `[start, end)` in a column showing `hours`, in `lane` of `lanes`.
pub(crate) fn place(
    start: Minute,
    end: Minute,
    hours: (u32, u32),
    lane: usize,
    lanes: usize,
) -> Placement {
    let from = hours.0 * 60;
    let to = hours.1 * 60;
    let span = f64::from(to.saturating_sub(from).max(1));
    let start = start.clamp(from, to);
    let end = end.clamp(start, to);
    let lanes = lanes.max(1) as f64;
    Placement {
        top: f64::from(start - from) * 100.0 / span,
        height: f64::from(end - start) * 100.0 / span,
        left: lane as f64 * 100.0 / lanes,
        width: 100.0 / lanes,
    }
}

/// The first day of the six-week month grid: the Monday on or before the 1st.
pub(crate) fn month_grid_start(date: NaiveDate) -> NaiveDate {
    let first = date.with_day(1).unwrap_or(date);
    let back = u64::from(first.weekday().num_days_from_monday());
    first
        .checked_sub_days(chrono::Days::new(back))
        .unwrap_or(first)
}

/// Days in the month grid (six weeks).
pub(crate) const MONTH_GRID_DAYS: u64 = 42;

/// The Monday on or before `date`.
pub(crate) fn week_start(date: NaiveDate) -> NaiveDate {
    let back = u64::from(date.weekday().num_days_from_monday());
    date.checked_sub_days(chrono::Days::new(back))
        .unwrap_or(date)
}

/// The readable text colour on a `#RRGGBB` background: black or white, whichever has the
/// higher WCAG contrast ratio; `None` for anything that is not a valid colour.
pub(crate) fn text_colour(background: &str) -> Option<&'static str> {
    if !is_hex_colour(background) {
        return None;
    }
    let channel = |index: usize| -> f64 {
        let value = u8::from_str_radix(&background[index..index + 2], 16).unwrap_or(0);
        let srgb = f64::from(value) / 255.0;
        if srgb <= 0.039_28 {
            srgb / 12.92
        } else {
            ((srgb + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
    let with_black = (luminance + 0.05) / 0.05;
    let with_white = 1.05 / (luminance + 0.05);
    Some(if with_black >= with_white {
        "#000000"
    } else {
        "#ffffff"
    })
}

/// A CSS rule giving `selector` the background `colour` and its readable text colour;
/// `None` when the colour is not a valid `#RRGGBB` (the card keeps the default style).
pub(crate) fn colour_rule(selector: &str, colour: &str) -> Option<String> {
    let text = text_colour(colour)?;
    Some(format!(
        "{selector}{{background-color:{colour};color:{text}}}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spans of minutes, as the tables below write them.
    type Spans = &'static [(Minute, Minute)];

    #[test]
    fn visible_hours_follow_the_practice_hours_and_widen_for_bookings() {
        let cases: [(Spans, Spans, (u32, u32)); 7] = [
            (&[], &[], (8, 18)),
            (&[(8 * 60, 17 * 60)], &[], (8, 17)),
            (
                &[(7 * 60 + 30, 12 * 60), (14 * 60, 18 * 60 + 15)],
                &[],
                (7, 19),
            ),
            (&[(8 * 60, 17 * 60)], &[(6 * 60 + 45, 7 * 60 + 15)], (6, 17)),
            (&[(8 * 60, 17 * 60)], &[(16 * 60, 20 * 60 + 1)], (8, 21)),
            (&[], &[(22 * 60, 24 * 60)], (8, 24)),
            (&[(23 * 60 + 30, 24 * 60)], &[], (23, 24)),
        ];
        for (open, booked, expected) in cases {
            assert_eq!(visible_hours(open, booked), expected, "{open:?} {booked:?}");
        }
    }

    #[test]
    fn overlapping_cards_share_the_column_in_lanes() {
        let cases: [(Spans, &[(usize, usize)]); 5] = [
            (&[], &[]),
            (&[(540, 570)], &[(0, 1)]),
            // Back to back: no overlap, one lane each.
            (&[(540, 570), (570, 600)], &[(0, 1), (0, 1)]),
            // Two overlapping, then a separate one.
            (
                &[(540, 600), (570, 630), (660, 690)],
                &[(0, 2), (1, 2), (0, 1)],
            ),
            // A long one with two short ones beside it, the second reusing lane 1.
            (
                &[(540, 660), (540, 570), (600, 630)],
                &[(0, 2), (1, 2), (1, 2)],
            ),
        ];
        for (items, expected) in cases {
            assert_eq!(lanes(items), expected, "{items:?}");
        }
        // Three at once need three lanes.
        assert_eq!(
            lanes(&[(0, 60), (0, 60), (30, 90)]),
            vec![(0, 3), (1, 3), (2, 3)]
        );
    }

    #[test]
    fn cards_are_placed_in_percent_of_the_visible_hours() {
        let hours = (8, 18);
        assert_eq!(
            place(9 * 60, 10 * 60, hours, 0, 1),
            Placement {
                top: 10.0,
                height: 10.0,
                left: 0.0,
                width: 100.0
            }
        );
        assert_eq!(
            place(7 * 60, 8 * 60 + 30, hours, 1, 2),
            Placement {
                top: 0.0,
                height: 5.0,
                left: 50.0,
                width: 50.0
            },
            "clamped to the first visible hour"
        );
        assert_eq!(
            place(17 * 60, 20 * 60, hours, 0, 1).height,
            10.0,
            "clamped to the last"
        );
        assert_eq!(
            place(9 * 60, 10 * 60, hours, 0, 1).css(),
            "top:10.000%;height:10.000%;left:0.000%;width:100.000%"
        );
    }

    #[test]
    fn the_month_grid_starts_on_the_monday_before_the_first() {
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(month_grid_start(date(2030, 1, 14)), date(2029, 12, 31));
        assert_eq!(
            month_grid_start(date(2029, 10, 20)),
            date(2029, 10, 1),
            "1 Oct 2029 is a Monday"
        );
        assert_eq!(month_grid_start(date(2030, 9, 30)), date(2030, 8, 26));
        assert_eq!(week_start(date(2030, 1, 20)), date(2030, 1, 14));
        assert_eq!(week_start(date(2030, 1, 14)), date(2030, 1, 14));
    }

    #[test]
    fn text_on_doctor_colours_is_black_or_white_by_luminance() {
        let cases = [
            ("#1E90FF", Some("#000000")),
            ("#000080", Some("#ffffff")),
            ("#FFFFFF", Some("#000000")),
            ("#000000", Some("#ffffff")),
            ("#ffd700", Some("#000000")),
            ("#a4161a", Some("#ffffff")),
            // The crossover: #767676 still reads better in black, #757575 in white.
            ("#767676", Some("#000000")),
            ("#757575", Some("#ffffff")),
            ("red", None),
            ("#12345", None),
            ("#12345g", None),
            ("#123456;}", None),
        ];
        for (colour, expected) in cases {
            assert_eq!(text_colour(colour), expected, "{colour}");
        }
        assert_eq!(
            colour_rule(".doc-3", "#1E90FF").as_deref(),
            Some(".doc-3{background-color:#1E90FF;color:#000000}")
        );
        assert_eq!(colour_rule(".doc-3", "}body{x:y"), None);
    }
}
