//! Half-open instant intervals `[start, end)` in UTC and sorted, merged interval sets.
//!
//! Everything the engine computes (working time, blocked time, free time) is an
//! [`IntervalSet`]; availability is set algebra on these values.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

/// A non-empty half-open interval `[start, end)` of UTC instants.
///
/// Two intervals overlap iff `a.start < b.end && b.start < a.end`; touching intervals
/// (`a.end == b.start`) do not overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Interval {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

/// Why an [`Interval`] could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IntervalError {
    /// `end <= start`.
    #[error("end must be after start")]
    EndNotAfterStart,
}

impl Interval {
    /// Builds `[start, end)`; fails unless `start < end`.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Self, IntervalError> {
        if start < end {
            Ok(Self { start, end })
        } else {
            Err(IntervalError::EndNotAfterStart)
        }
    }

    /// Builds `[start, start + length)`; `None` when `length` is not positive or overflows.
    pub fn starting_at(start: DateTime<Utc>, length: TimeDelta) -> Option<Self> {
        let end = start.checked_add_signed(length)?;
        Self::new(start, end).ok()
    }

    /// Builds `[start, end)` when it is non-empty.
    pub(crate) fn non_empty(start: DateTime<Utc>, end: DateTime<Utc>) -> Option<Self> {
        (start < end).then_some(Self { start, end })
    }

    /// First instant of the interval (inclusive).
    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    /// First instant after the interval (exclusive).
    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }

    /// Length in real (elapsed) time.
    pub fn duration(&self) -> TimeDelta {
        self.end - self.start
    }

    /// True when the two intervals share at least one instant (touching is not overlapping).
    /// The interval grown by `before` at the start and `after` at the end (buffers); itself
    /// when the result would leave chrono's range.
    pub fn widened(&self, before: TimeDelta, after: TimeDelta) -> Interval {
        match (
            self.start.checked_sub_signed(before),
            self.end.checked_add_signed(after),
        ) {
            (Some(start), Some(end)) if start < end => Interval { start, end },
            _ => *self,
        }
    }

    pub fn overlaps(&self, other: &Interval) -> bool {
        self.start < other.end && other.start < self.end
    }

    /// True when `other` lies completely inside `self` (`self.start <= other.start` and
    /// `other.end <= self.end`, so a slot ending exactly at the window end fits).
    pub fn contains(&self, other: &Interval) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    /// The common part of both intervals, if any.
    pub fn intersection(&self, other: &Interval) -> Option<Interval> {
        Self::non_empty(self.start.max(other.start), self.end.min(other.end))
    }
}

/// A set of instants stored as sorted, pairwise disjoint and non-touching intervals.
///
/// Touching or overlapping inputs are merged on construction, so `[09:00, 12:00)` and
/// `[12:00, 16:00)` become one `[09:00, 16:00)`. All operations are linear sweeps over the
/// sorted lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct IntervalSet {
    items: Vec<Interval>,
}

impl IntervalSet {
    /// The empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds the union of arbitrary (unsorted, overlapping) intervals.
    pub fn from_intervals(intervals: impl IntoIterator<Item = Interval>) -> Self {
        let mut items: Vec<Interval> = intervals.into_iter().collect();
        items.sort_unstable();
        Self::from_sorted(items)
    }

    /// Merges a list that is already sorted by start.
    fn from_sorted(sorted: Vec<Interval>) -> Self {
        let mut set = Self {
            items: Vec::with_capacity(sorted.len()),
        };
        for interval in sorted {
            set.push_merging(interval);
        }
        set
    }

    /// Appends an interval that starts no earlier than the last one, merging when it touches.
    fn push_merging(&mut self, interval: Interval) {
        match self.items.last_mut() {
            Some(last) if interval.start <= last.end => {
                if interval.end > last.end {
                    last.end = interval.end;
                }
            }
            _ => self.items.push(interval),
        }
    }

    /// The intervals in chronological order.
    pub fn as_slice(&self) -> &[Interval] {
        &self.items
    }

    /// Iterates the intervals in chronological order.
    pub fn iter(&self) -> std::slice::Iter<'_, Interval> {
        self.items.iter()
    }

    /// True when the set contains no instant.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Number of disjoint intervals.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Total covered time.
    pub fn total_duration(&self) -> TimeDelta {
        self.items
            .iter()
            .fold(TimeDelta::zero(), |acc, interval| acc + interval.duration())
    }

    /// All instants in either set.
    pub fn union(&self, other: &IntervalSet) -> IntervalSet {
        let mut merged = Vec::with_capacity(self.items.len() + other.items.len());
        let (mut a, mut b) = (self.items.iter().peekable(), other.items.iter().peekable());
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) if x.start <= y.start => a.next(),
                (Some(_), Some(_)) => b.next(),
                (Some(_), None) => a.next(),
                (None, Some(_)) => b.next(),
                (None, None) => break,
            };
            merged.extend(next.copied());
        }
        Self::from_sorted(merged)
    }

    /// Instants in both sets.
    pub fn intersection(&self, other: &IntervalSet) -> IntervalSet {
        let mut out = IntervalSet::new();
        let (mut i, mut j) = (0, 0);
        while let (Some(a), Some(b)) = (self.items.get(i), other.items.get(j)) {
            if let Some(common) = a.intersection(b) {
                out.items.push(common);
            }
            if a.end <= b.end {
                i += 1;
            } else {
                j += 1;
            }
        }
        out
    }

    /// Instants in `self` but not in `other`.
    pub fn difference(&self, other: &IntervalSet) -> IntervalSet {
        let mut out = IntervalSet::new();
        // `first` only moves forward: intervals of `other` ending before the current interval of
        // `self` cannot touch any later one either.
        let mut first = 0;
        for a in &self.items {
            while other.items.get(first).is_some_and(|b| b.end <= a.start) {
                first += 1;
            }
            let mut cursor = a.start;
            for b in other.items[first..].iter().take_while(|b| b.start < a.end) {
                if b.start > cursor {
                    out.items.push(Interval {
                        start: cursor,
                        end: b.start,
                    });
                }
                cursor = cursor.max(b.end);
                if cursor >= a.end {
                    break;
                }
            }
            if cursor < a.end {
                out.items.push(Interval {
                    start: cursor,
                    end: a.end,
                });
            }
        }
        out
    }

    /// Removes one interval from the set.
    pub fn remove(&self, interval: Interval) -> IntervalSet {
        self.difference(&IntervalSet {
            items: vec![interval],
        })
    }

    /// True when `interval` lies inside one interval of the set.
    pub fn contains(&self, interval: &Interval) -> bool {
        let idx = self.items.partition_point(|x| x.end < interval.end);
        self.items.get(idx).is_some_and(|x| x.contains(interval))
    }

    /// True when `interval` shares an instant with the set.
    pub fn overlaps(&self, interval: &Interval) -> bool {
        let idx = self.items.partition_point(|x| x.end <= interval.start);
        self.items.get(idx).is_some_and(|x| x.overlaps(interval))
    }
}

impl<'a> IntoIterator for &'a IntervalSet {
    type Item = &'a Interval;
    type IntoIter = std::slice::Iter<'a, Interval>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl FromIterator<Interval> for IntervalSet {
    fn from_iter<T: IntoIterator<Item = Interval>>(iter: T) -> Self {
        Self::from_intervals(iter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn at(minute: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_900_000_000 + minute * 60, 0)
            .single()
            .expect("valid timestamp")
    }

    fn iv(start: i64, end: i64) -> Interval {
        Interval::new(at(start), at(end)).expect("non-empty test interval")
    }

    fn set(pairs: &[(i64, i64)]) -> IntervalSet {
        pairs.iter().map(|&(s, e)| iv(s, e)).collect()
    }

    #[test]
    fn empty_and_inverted_intervals_are_rejected() {
        assert_eq!(
            Interval::new(at(5), at(5)),
            Err(IntervalError::EndNotAfterStart)
        );
        assert_eq!(
            Interval::new(at(6), at(5)),
            Err(IntervalError::EndNotAfterStart)
        );
    }

    #[test]
    fn overlap_is_strict_on_both_sides() {
        let cases = [
            ((0, 10), (10, 20), false), // touching after
            ((10, 20), (0, 10), false), // touching before
            ((0, 10), (9, 20), true),   // partial
            ((0, 30), (10, 20), true),  // containing
            ((10, 20), (0, 30), true),  // contained
            ((0, 10), (0, 10), true),   // equal
        ];
        for (a, b, expected) in cases {
            assert_eq!(
                iv(a.0, a.1).overlaps(&iv(b.0, b.1)),
                expected,
                "{a:?} {b:?}"
            );
        }
    }

    #[test]
    fn containment_is_inclusive_at_both_window_edges() {
        let window = iv(0, 60);
        assert!(window.contains(&iv(0, 30)));
        assert!(window.contains(&iv(30, 60)));
        assert!(!window.contains(&iv(30, 61)));
    }

    #[test]
    fn construction_merges_touching_and_overlapping_intervals() {
        let merged = set(&[(30, 40), (0, 10), (10, 20), (35, 50), (60, 70)]);
        assert_eq!(merged, set(&[(0, 20), (30, 50), (60, 70)]));
        assert_eq!(merged.len(), 3);
        assert_eq!(merged.total_duration(), TimeDelta::minutes(50));
    }

    #[test]
    fn set_operations_match_table() {
        let a = set(&[(0, 100), (200, 300)]);
        let b = set(&[(50, 60), (90, 210), (290, 400)]);
        assert_eq!(a.difference(&b), set(&[(0, 50), (60, 90), (210, 290)]));
        assert_eq!(
            a.intersection(&b),
            set(&[(50, 60), (90, 100), (200, 210), (290, 300)])
        );
        assert_eq!(a.union(&b), set(&[(0, 400)]));
        assert!(a.contains(&iv(200, 300)));
        assert!(!a.contains(&iv(90, 210)));
        assert!(a.overlaps(&iv(99, 150)));
        assert!(!a.overlaps(&iv(100, 200)));
    }

    fn arb_set() -> impl Strategy<Value = Vec<(i64, i64)>> {
        prop::collection::vec((0i64..500, 1i64..60), 0..12)
            .prop_map(|v| v.into_iter().map(|(s, l)| (s, s + l)).collect())
    }

    fn covers(set: &IntervalSet, minute: i64) -> bool {
        set.overlaps(&iv(minute, minute + 1))
    }

    proptest! {
        #[test]
        fn set_algebra_agrees_with_pointwise_membership(a in arb_set(), b in arb_set()) {
            let (sa, sb) = (set(&a), set(&b));
            let (u, i, d) = (sa.union(&sb), sa.intersection(&sb), sa.difference(&sb));
            for m in 0..600 {
                let (in_a, in_b) = (covers(&sa, m), covers(&sb, m));
                prop_assert_eq!(covers(&u, m), in_a || in_b);
                prop_assert_eq!(covers(&i, m), in_a && in_b);
                prop_assert_eq!(covers(&d, m), in_a && !in_b);
            }
            for s in [&u, &i, &d] {
                for w in s.as_slice().windows(2) {
                    prop_assert!(w[0].end() < w[1].start(), "sorted, disjoint, non-touching");
                }
            }
        }
    }
}
