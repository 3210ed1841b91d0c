//! Many series at once: rows of (series id, period stamp, value) in any
//! order, as a table gives them, grouped into one dated series per id for
//! [`crate::dated::forecast_dated`].

use std::collections::HashMap;
use std::time::Duration;

use crate::dated::Stamp;

/// The rows of one series, in the order they came.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub id: String,
    pub stamps: Vec<Option<Stamp>>,
    pub values: Vec<Option<f64>>,
}

/// Collects rows into series as they are read, so ids are stored once per
/// series rather than once per row.
#[derive(Debug, Default)]
pub struct Grouper {
    index: HashMap<String, usize>,
    series: Vec<Series>,
    /// The series of the last row: tables often keep a series' rows together.
    last: Option<usize>,
}

impl Grouper {
    pub fn new() -> Grouper {
        Grouper::default()
    }

    pub fn push(&mut self, id: &str, stamp: Stamp, value: Option<f64>) {
        let i = match self.last.filter(|&i| self.series[i].id == id).or_else(|| self.index.get(id).copied()) {
            Some(i) => i,
            None => {
                self.series.push(Series {
                    id: id.to_string(),
                    stamps: Vec::new(),
                    values: Vec::new(),
                });
                self.index.insert(id.to_string(), self.series.len() - 1);
                self.series.len() - 1
            }
        };
        self.last = Some(i);
        let series = &mut self.series[i];
        series.stamps.push(Some(stamp));
        series.values.push(value);
    }

    /// The series, ordered by id byte by byte (the C collation's order), so
    /// the output does not depend on the database's collation or the table's
    /// physical order.
    pub fn finish(self) -> Vec<Series> {
        let mut series = self.series;
        series.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        series
    }
}

/// Series in the first chunk of a batch, before any chunk has been timed:
/// few, since one long seasonal series can take a tenth of a second.
pub const FIRST_CHUNK: usize = 2;
/// How long one chunk should take: the caller checks for interrupts between
/// chunks, and a cancel should land within a small part of a second.
const CHUNK_TIME: Duration = Duration::from_millis(100);

/// Series in the next chunk, given that the last one of `len` series took
/// `took`: as many as fit in [`CHUNK_TIME`] at that pace, at most 4 times as
/// many as before (one quick chunk says little), between 1 and 4096.
pub fn next_chunk(len: usize, took: Duration) -> usize {
    let per_series = took.as_secs_f64() / len.max(1) as f64;
    let fit = if per_series > 0.0 { CHUNK_TIME.as_secs_f64() / per_series } else { f64::INFINITY };
    (fit.min(4.0 * len as f64) as usize).clamp(1, 4096)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_group_by_id_in_arrival_order_and_ids_sort_bytewise() {
        let mut g = Grouper::new();
        let rows = [("b", 1, 1.0), ("a", 2, 2.0), ("b", 0, 3.0), ("B", 5, 4.0), ("é", 1, 5.0), ("a", 1, 6.0)];
        for (id, t, v) in rows {
            g.push(id, Stamp::naive(t), Some(v));
        }
        let series = g.finish();
        let ids: Vec<&str> = series.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["B", "a", "b", "é"]);
        assert_eq!(series[1].stamps, [Some(Stamp::naive(2)), Some(Stamp::naive(1))]);
        assert_eq!(series[1].values, [Some(2.0), Some(6.0)]);
        assert_eq!(series[2].values, [Some(1.0), Some(3.0)]);
    }

    #[test]
    fn null_values_are_kept_as_unknown() {
        let mut g = Grouper::new();
        g.push("x", Stamp::naive(0), None);
        g.push("x", Stamp::naive(1), Some(1.0));
        assert_eq!(g.finish()[0].values, [None, Some(1.0)]);
    }

    #[test]
    fn chunks_grow_towards_a_tenth_of_a_second() {
        assert_eq!(next_chunk(16, Duration::from_millis(10)), 64);
        assert_eq!(next_chunk(100, Duration::from_millis(50)), 200);
        assert_eq!(next_chunk(100, Duration::from_millis(400)), 25);
        assert_eq!(next_chunk(3, Duration::from_secs(5)), 1);
        assert_eq!(next_chunk(2000, Duration::ZERO), 4096);
    }

    #[test]
    fn no_rows_is_no_series() {
        assert!(Grouper::new().finish().is_empty());
    }
}
