//! Pure geometry of the day timelines on the OP board and the resource calendar: where a bar
//! starts and ends in an SVG of fixed width, which hours the axis shows, and which lane each of
//! several overlapping bars takes. Everything is expressed as SVG attributes (`x`, `width`,
//! `y`), never as inline styles (the CSP forbids them).

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use praxi_domain::scheduling::local_day;

/// The SVG user-space width of a timeline.
pub(crate) const WIDTH: f64 = 1000.0;
/// Height of the hour axis at the top of a timeline.
pub(crate) const AXIS: u32 = 18;
/// Height of one lane of bars.
pub(crate) const LANE: u32 = 26;

/// An item on a local day, in minutes since the day's first instant (clipped to the day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: i64,
    pub(crate) end: i64,
}

/// One local day: its first instant and length in minutes (23 or 25 hours on DST days).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Day {
    pub(crate) start: DateTime<Utc>,
    pub(crate) minutes: i64,
}

impl Day {
    /// The local day `date` in `tz`; `None` at the ends of the calendar.
    pub(crate) fn new(tz: Tz, date: NaiveDate) -> Option<Day> {
        let day = local_day(tz, date)?;
        Some(Day {
            start: day.start(),
            minutes: (day.end() - day.start()).num_minutes(),
        })
    }

    /// The part of `[start, end)` on this day; `None` when it does not touch the day.
    pub(crate) fn span(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> Option<Span> {
        let minute = |at: DateTime<Utc>| (at - self.start).num_minutes().clamp(0, self.minutes);
        let day_end = self.start + TimeDelta::minutes(self.minutes);
        if end <= self.start || start >= day_end || end < start {
            return None;
        }
        Some(Span {
            start: minute(start),
            end: minute(end),
        })
    }

    /// The minute of `at` on this day, when it lies within the day.
    pub(crate) fn minute_of(&self, at: DateTime<Utc>) -> Option<i64> {
        let minute = (at - self.start).num_minutes();
        (0..=self.minutes).contains(&minute).then_some(minute)
    }
}

/// The shown part of a day, whole hours in minutes since the day's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    pub(crate) from: i64,
    pub(crate) to: i64,
}

/// The default hours (`from_hour..to_hour`) widened to whole hours covering every span,
/// within the day.
pub(crate) fn window(spans: &[Span], from_hour: i64, to_hour: i64, day: &Day) -> Window {
    let earliest = spans.iter().map(|span| span.start).min();
    let latest = spans.iter().map(|span| span.end).max();
    let from = earliest.map_or(from_hour * 60, |start| {
        (start / 60 * 60).min(from_hour * 60)
    });
    let to = latest.map_or(to_hour * 60, |end| ((end + 59) / 60 * 60).max(to_hour * 60));
    let to = to.min(day.minutes);
    let from = from.clamp(0, (to - 60).max(0));
    Window { from, to }
}

impl Window {
    /// The x coordinate of a minute (clamped to the window).
    pub(crate) fn x(&self, minute: i64) -> f64 {
        let length = (self.to - self.from).max(1) as f64;
        ((minute - self.from) as f64 / length * WIDTH).clamp(0.0, WIDTH)
    }

    /// `(x, width)` of a span; spans outside the window get no bar, very short ones at least
    /// 3 units so they stay visible.
    pub(crate) fn bar(&self, span: Span) -> Option<(f64, f64)> {
        if span.end <= self.from || span.start >= self.to {
            return None;
        }
        let x = self.x(span.start);
        let width = (self.x(span.end) - x).max(3.0).min(WIDTH - x);
        Some((x, width))
    }

    /// The hour marks: every hour for windows up to 14 hours, else every second hour.
    pub(crate) fn hour_marks(&self) -> Vec<i64> {
        let step = if self.to - self.from > 14 * 60 {
            120
        } else {
            60
        };
        (self.from..=self.to).step_by(step).collect()
    }
}

/// Lanes for overlapping spans (input order): each span takes the first lane whose previous
/// span has ended. Returns the lane of every span and the number of lanes (at least 1).
pub(crate) fn lanes(spans: &[Span]) -> (Vec<usize>, usize) {
    let mut order: Vec<usize> = (0..spans.len()).collect();
    order.sort_by_key(|&index| (spans[index].start, spans[index].end, index));
    let mut ends: Vec<i64> = Vec::new();
    let mut assigned = vec![0; spans.len()];
    for index in order {
        let span = spans[index];
        let lane = match ends.iter().position(|&end| end <= span.start) {
            Some(lane) => lane,
            None => {
                ends.push(span.end);
                ends.len() - 1
            }
        };
        ends[lane] = span.end;
        assigned[index] = lane;
    }
    (assigned, ends.len().max(1))
}

/// A number for an SVG attribute (one decimal).
pub(crate) fn num(value: f64) -> String {
    format!("{value:.1}")
}

/// One bar of a timeline, ready for the template.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bar {
    pub(crate) x: String,
    pub(crate) y: String,
    pub(crate) width: String,
    pub(crate) height: String,
    pub(crate) fill: String,
    /// Extra CSS classes (e.g. `cancelled`, `running`).
    pub(crate) class: String,
    /// The tooltip (`<title>`).
    pub(crate) title: String,
}

/// An hour mark of the axis.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Mark {
    pub(crate) x: String,
    pub(crate) label: String,
}

/// A whole timeline: axis marks, bars, an optional "now" line and the SVG height.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Timeline {
    pub(crate) marks: Vec<Mark>,
    pub(crate) bars: Vec<Bar>,
    pub(crate) now_x: Option<String>,
    pub(crate) height: u32,
}

/// What to draw for one item.
pub(crate) struct Item {
    pub(crate) span: Span,
    pub(crate) fill: String,
    pub(crate) class: String,
    pub(crate) title: String,
}

/// Lays out `items` in `window` of `day` (hour labels in `tz`), with a "now" line when `now`
/// falls into the window.
pub(crate) fn layout(
    items: Vec<Item>,
    window: Window,
    day: &Day,
    tz: Tz,
    now: DateTime<Utc>,
) -> Timeline {
    let spans: Vec<Span> = items.iter().map(|item| item.span).collect();
    let (lane_of, lane_count) = lanes(&spans);
    let bars = items
        .into_iter()
        .zip(lane_of)
        .filter_map(|(item, lane)| {
            let (x, width) = window.bar(item.span)?;
            Some(Bar {
                x: num(x),
                y: (AXIS + 2 + LANE * lane as u32).to_string(),
                width: num(width),
                height: (LANE - 4).to_string(),
                fill: item.fill,
                class: item.class,
                title: item.title,
            })
        })
        .collect();
    let marks = window
        .hour_marks()
        .into_iter()
        .map(|minute| Mark {
            x: num(window.x(minute)),
            // The last mark sits on the right edge: its label would be cut off.
            label: if minute == window.to {
                String::new()
            } else {
                (day.start + TimeDelta::minutes(minute))
                    .with_timezone(&tz)
                    .format("%H:%M")
                    .to_string()
            },
        })
        .collect();
    let now_x = day
        .minute_of(now)
        .filter(|minute| (window.from..=window.to).contains(minute))
        .map(|minute| num(window.x(minute)));
    Timeline {
        marks,
        bars,
        now_x,
        height: AXIS + 2 + LANE * lane_count as u32,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use chrono_tz::Europe::Berlin;

    use super::*;

    fn berlin(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Berlin
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    }

    fn day(y: i32, m: u32, d: u32) -> Day {
        Day::new(Berlin, NaiveDate::from_ymd_opt(y, m, d).unwrap()).unwrap()
    }

    fn span(start: i64, end: i64) -> Span {
        Span { start, end }
    }

    #[test]
    fn spans_are_minutes_of_the_local_day_clipped_to_it() {
        let monday = day(2030, 1, 14);
        assert_eq!(monday.minutes, 1440);
        let cases = [
            // 08:00–08:50
            ((14, 8, 0), (14, 8, 50), Some(span(480, 530))),
            // from the evening before into the day: clipped at midnight
            ((13, 23, 30), (14, 0, 30), Some(span(0, 30))),
            // into the next day: clipped at the end
            ((14, 23, 30), (15, 0, 30), Some(span(1410, 1440))),
            // the day before / after: nothing
            ((13, 8, 0), (13, 9, 0), None),
            ((15, 0, 0), (15, 1, 0), None),
            // ends exactly at the day's start: nothing
            ((13, 23, 0), (14, 0, 0), None),
        ];
        for (from, to, expected) in cases {
            let start = berlin(2030, 1, from.0, from.1, from.2);
            let end = berlin(2030, 1, to.0, to.1, to.2);
            assert_eq!(monday.span(start, end), expected, "{from:?}–{to:?}");
        }
        // The spring-forward day has 23 hours: 04:00 local is minute 180.
        let dst = day(2030, 3, 31);
        assert_eq!(dst.minutes, 1380);
        assert_eq!(
            dst.span(berlin(2030, 3, 31, 4, 0), berlin(2030, 3, 31, 5, 0)),
            Some(span(180, 240))
        );
    }

    #[test]
    fn windows_widen_the_default_hours_to_whole_hours_around_every_item() {
        let monday = day(2030, 1, 14);
        let cases: [(&[Span], Window); 5] = [
            (
                &[],
                Window {
                    from: 420,
                    to: 1140,
                },
            ),
            (
                &[span(480, 530)],
                Window {
                    from: 420,
                    to: 1140,
                },
            ),
            // 06:15 start → from 06:00; 19:10 end → to 20:00
            (
                &[span(375, 400), span(1100, 1150)],
                Window {
                    from: 360,
                    to: 1200,
                },
            ),
            // reaching midnight
            (
                &[span(0, 30), span(1410, 1440)],
                Window { from: 0, to: 1440 },
            ),
            (
                &[span(1430, 1440)],
                Window {
                    from: 420,
                    to: 1440,
                },
            ),
        ];
        for (spans, expected) in cases {
            assert_eq!(window(spans, 7, 19, &monday), expected, "{spans:?}");
        }
    }

    #[test]
    fn bars_are_placed_proportionally_and_stay_visible() {
        let window = Window {
            from: 420,
            to: 1140,
        }; // 07:00–19:00, 720 minutes
        assert_eq!(window.x(420), 0.0);
        assert_eq!(window.x(780), 500.0);
        assert_eq!(window.x(2000), WIDTH);
        let cases = [
            (span(480, 540), Some(("83.3", "83.3"))),
            // before the window: none; partly before: clipped at 0
            (span(300, 420), None),
            (span(360, 480), Some(("0.0", "83.3"))),
            // a zero-length item still shows 3 units
            (span(780, 780), Some(("500.0", "3.0"))),
            // at the very end: never wider than the rest
            (span(1140, 1200), None),
            (span(1139, 1200), Some(("998.6", "1.4"))),
        ];
        for (item, expected) in cases {
            let actual = window.bar(item).map(|(x, width)| (num(x), num(width)));
            let expected = expected.map(|(x, width)| (x.to_owned(), width.to_owned()));
            assert_eq!(actual, expected, "{item:?}");
        }
    }

    #[test]
    fn hour_marks_thin_out_on_long_windows() {
        assert_eq!(
            Window { from: 420, to: 600 }.hour_marks(),
            vec![420, 480, 540, 600]
        );
        assert_eq!(Window { from: 0, to: 1440 }.hour_marks().len(), 13);
    }

    #[test]
    fn overlapping_items_take_separate_lanes() {
        let cases: [(&[Span], Vec<usize>, usize); 5] = [
            (&[], vec![], 1),
            (&[span(0, 10)], vec![0], 1),
            // back to back shares the lane
            (&[span(0, 10), span(10, 20)], vec![0, 0], 1),
            (&[span(0, 30), span(10, 20), span(20, 40)], vec![0, 1, 1], 2),
            // input order does not matter; a lane is reused once free
            (&[span(20, 40), span(0, 30), span(5, 10)], vec![1, 0, 1], 2),
        ];
        for (spans, expected, count) in cases {
            assert_eq!(lanes(spans), (expected, count), "{spans:?}");
        }
    }

    #[test]
    fn layouts_label_hours_locally_and_mark_now() {
        let monday = day(2030, 1, 14);
        let window = Window { from: 480, to: 600 };
        let item = |start, end| Item {
            span: span(start, end),
            fill: "#445566".to_owned(),
            class: String::new(),
            title: "t".to_owned(),
        };
        let timeline = layout(
            vec![item(480, 540), item(500, 520)],
            window,
            &monday,
            Berlin,
            berlin(2030, 1, 14, 9, 0),
        );
        let labels: Vec<&str> = timeline.marks.iter().map(|m| m.label.as_str()).collect();
        assert_eq!(labels, ["08:00", "09:00", ""]);
        assert_eq!(timeline.now_x.as_deref(), Some("500.0"));
        assert_eq!(timeline.height, AXIS + 2 + 2 * LANE);
        assert_eq!(timeline.bars[1].y, (AXIS + 2 + LANE).to_string());
        let later = layout(
            Vec::new(),
            window,
            &monday,
            Berlin,
            berlin(2030, 1, 15, 9, 0),
        );
        assert_eq!(later.now_x, None);
        assert_eq!(later.height, AXIS + 2 + LANE);
    }
}
