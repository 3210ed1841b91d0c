//! Dated series: turn (period stamp, value) rows into the regular series that
//! [`crate::forecast`] takes, and stamp the forecast's future periods.
//!
//! Stamps are microseconds since the Postgres epoch (2000-01-01 00:00). Each
//! comes twice, as [`Stamp`]: `wall`, the calendar time in the caller's time
//! zone, which the daily and longer frequencies bucket by (a day is a local
//! day, a month a local month), and `utc`, the absolute instant, which hourly
//! steps use (so a DST change neither merges nor drops an hour). For a plain
//! date both are the same.

use crate::{forecast_with_candidates, Forecast, ForecastError, Options, MAX_SERIES_LEN};

const HOUR: i64 = 3_600_000_000;
const DAY: i64 = 24 * HOUR;
/// Postgres's timestamp range (MIN_TIMESTAMP, END_TIMESTAMP); its infinities
/// (i64::MIN, i64::MAX) lie outside it.
const MIN_STAMP: i64 = -211_813_488_000_000_000;
const END_STAMP: i64 = 9_223_371_331_200_000_000;

/// One period stamp: wall-clock time in the caller's zone and the UTC instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub wall: i64,
    pub utc: i64,
}

impl Stamp {
    /// A stamp with no time zone (a date, or a time already in UTC).
    pub fn naive(micros: i64) -> Stamp {
        Stamp {
            wall: micros,
            utc: micros,
        }
    }

    /// Midnight of a Postgres date (days since 2000-01-01); the infinities
    /// saturate out of range, where [`regularize`] refuses them.
    pub fn from_days(days: i32) -> Stamp {
        Stamp::naive(i64::from(days).saturating_mul(DAY))
    }
}

/// The Postgres date (days since 2000-01-01) a wall-clock stamp falls on.
pub fn days_of(micros: i64) -> i32 {
    // In range: stamps never leave Postgres's timestamp range, whose days fit.
    micros.div_euclid(DAY) as i32
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Frequency {
    Hourly,
    Daily,
    Weekly,
    Monthly,
    Quarterly,
    Yearly,
}

const FREQUENCIES: [Frequency; 6] = [
    Frequency::Hourly,
    Frequency::Daily,
    Frequency::Weekly,
    Frequency::Monthly,
    Frequency::Quarterly,
    Frequency::Yearly,
];

/// The hint for [`ForecastError::Irregular`].
pub const FREQUENCY_HINT: &str =
    "pass frequency => 'daily' (or 'hourly', 'weekly', 'monthly', 'quarterly', 'yearly') \
                                  to sum the values into periods of that length";

impl Frequency {
    /// `'daily'` etc., as the SQL argument spells it.
    pub fn parse(name: &str) -> Result<Frequency, ForecastError> {
        FREQUENCIES.into_iter().find(|f| f.name() == name).ok_or_else(|| {
            ForecastError::InvalidParameter(format!(
                "unknown frequency \"{name}\", expected hourly, daily, weekly, monthly, quarterly or yearly"
            ))
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Hourly => "hourly",
            Self::Daily => "daily",
            Self::Weekly => "weekly",
            Self::Monthly => "monthly",
            Self::Quarterly => "quarterly",
            Self::Yearly => "yearly",
        }
    }

    /// The natural cycles tested when no season_length is given: a day and a
    /// week of hours, a week and a year of days, a year of the rest.
    pub fn season_candidates(self) -> &'static [usize] {
        match self {
            Self::Hourly => &[24, 168],
            Self::Daily => &[7, 365],
            Self::Weekly => &[52],
            Self::Monthly => &[12],
            Self::Quarterly => &[4],
            Self::Yearly => &[],
        }
    }

    /// Whether periods step on the UTC timeline rather than the wall clock.
    pub fn is_utc(self) -> bool {
        self == Self::Hourly
    }

    /// The frequency a gap between consecutive stamps suggests, if any.
    fn of_gap(gap: i64) -> Option<Frequency> {
        match gap {
            HOUR => Some(Self::Hourly),
            DAY => Some(Self::Daily),
            g if g == 7 * DAY => Some(Self::Weekly),
            g if (28 * DAY..=31 * DAY).contains(&g) => Some(Self::Monthly),
            g if (89 * DAY..=92 * DAY).contains(&g) => Some(Self::Quarterly),
            g if (365 * DAY..=366 * DAY).contains(&g) => Some(Self::Yearly),
            _ => None,
        }
    }

    fn gap_noun(self) -> &'static str {
        match self {
            Self::Hourly => "an hour",
            Self::Daily => "a day",
            Self::Weekly => "a week",
            Self::Monthly => "a month",
            Self::Quarterly => "a quarter",
            Self::Yearly => "a year",
        }
    }
}

/// What a period with no usable value becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fill {
    /// A period with no row is 0 (no sale row means no sales); a period whose
    /// only values are NULL is unknown and interpolated from its neighbours.
    Zero,
    /// Periods with no row and NULL-only periods are both interpolated.
    Interpolate,
    /// A period with no row or a NULL value is an error.
    Error,
}

impl Fill {
    pub fn parse(name: &str) -> Result<Fill, ForecastError> {
        match name {
            "zero" => Ok(Fill::Zero),
            "interpolate" => Ok(Fill::Interpolate),
            "error" => Ok(Fill::Error),
            _ => Err(ForecastError::InvalidParameter(format!(
                "unknown fill \"{name}\", expected zero, interpolate or error"
            ))),
        }
    }
}

/// Period k of a frequency: a fixed step from an origin, or a calendar month
/// step on a fixed day of the month (clamped to the month's end, as Postgres's
/// `+ interval '1 month'` does) at a fixed time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grid {
    Fixed {
        origin: i64,
        step: i64,
    },
    Calendar {
        origin_month: i64,
        months: i64,
        day: u32,
        time_of_day: i64,
    },
}

impl Grid {
    /// The stamp of period `k`, or `None` past Postgres's range.
    fn stamp(self, k: i64) -> Option<i64> {
        let t = match self {
            Grid::Fixed { origin, step } => origin.checked_add(step.checked_mul(k)?)?,
            Grid::Calendar {
                origin_month,
                months,
                day,
                time_of_day,
            } => {
                let m = origin_month.checked_add(months.checked_mul(k)?)?;
                let (year, month) = (m.div_euclid(12), (m.rem_euclid(12) + 1) as u32);
                // Years beyond Postgres's range would overflow the day count.
                if year.abs() > 300_000 {
                    return None;
                }
                let d = day.min(days_in_month(year, month));
                days_from_civil(year, month, d) * DAY + time_of_day
            }
        };
        (MIN_STAMP..END_STAMP).contains(&t).then_some(t)
    }

    /// The period that contains `t` (for an anchored grid: the period whose
    /// stamp `t` must equal to be on the grid).
    fn period_of(self, t: i64) -> i64 {
        match self {
            // In i128: the timestamp range is wider than i64 can subtract. A
            // span beyond i64 is far over MAX_SERIES_LEN, refused by the caller.
            Grid::Fixed { origin, step } => {
                let k = (i128::from(t) - i128::from(origin)).div_euclid(i128::from(step));
                i64::try_from(k).unwrap_or(i64::MAX)
            }
            Grid::Calendar {
                origin_month, months, ..
            } => (month_index(t) - origin_month).div_euclid(months),
        }
    }
}

/// The months each calendar period spans.
fn months_of(frequency: Frequency) -> Option<i64> {
    match frequency {
        Frequency::Monthly => Some(1),
        Frequency::Quarterly => Some(3),
        Frequency::Yearly => Some(12),
        _ => None,
    }
}

/// A regular series: value k belongs to period k of the grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Regular {
    pub frequency: Frequency,
    /// One entry per period from the first stamp's to the last's; `None` is
    /// unknown (left for [`crate::forecast`] to interpolate).
    pub values: Vec<Option<f64>>,
    grid: Grid,
}

impl Regular {
    /// The stamps of the `horizon` periods after the last one, on the UTC
    /// timeline for hourly series and on the wall clock otherwise.
    pub fn future(&self, horizon: usize) -> Result<Vec<i64>, ForecastError> {
        let start = self.values.len() as i64;
        (start..start + horizon as i64)
            .map(|k| {
                self.grid.stamp(k).ok_or_else(|| {
                    ForecastError::InvalidParameter(
                        "the forecast periods run past the last timestamp Postgres can store".to_string(),
                    )
                })
            })
            .collect()
    }
}

/// Build the regular series of `periods` and `values` (same length).
///
/// - `frequency`: `None` infers it from the most common gap between
///   consecutive distinct stamps, and then every stamp must sit exactly on
///   that frequency's grid from the first stamp (a monthly series on the 15th
///   stays on the 15th; month-end stamps stay at month ends), or the series is
///   [`ForecastError::Irregular`]. `Some(f)` buckets each stamp into its
///   period instead, as `date_trunc` would: hours (aligned with the first
///   stamp's local hour), local days, weeks of 7 days starting on the first
///   stamp's day, calendar months, quarters (January, April, July, October)
///   and years; the result stamps are the periods' starts.
/// - Rows with the same period are summed; a NULL value is unknown (if every
///   value of a period is NULL, the period is unknown); order does not matter.
/// - Periods with no row are filled as [`Fill`] says; `Fill::Error` also
///   refuses NULL values.
/// - A NULL or infinite stamp is [`ForecastError::InvalidParameter`].
pub fn regularize(
    periods: &[Option<Stamp>],
    values: &[Option<f64>],
    frequency: Option<Frequency>,
    fill: Fill,
) -> Result<Regular, ForecastError> {
    if periods.len() != values.len() {
        return Err(ForecastError::InvalidParameter(format!(
            "periods has {} elements and series has {}, they must match",
            periods.len(),
            values.len()
        )));
    }
    if periods.is_empty() {
        return Err(ForecastError::UnusableData("series is empty".to_string()));
    }
    let mut stamps = Vec::with_capacity(periods.len());
    for (i, (p, v)) in periods.iter().zip(values).enumerate() {
        let position = i + 1;
        let Some(p) = *p else {
            return Err(ForecastError::InvalidParameter(format!(
                "periods has a null at position {position}"
            )));
        };
        if ![p.wall, p.utc].iter().all(|t| (MIN_STAMP..END_STAMP).contains(t)) {
            return Err(ForecastError::InvalidParameter(format!(
                "periods value at position {position} is infinite or out of range"
            )));
        }
        match v {
            Some(x) if !x.is_finite() => {
                let what = if x.is_nan() { "NaN" } else { "infinite" };
                return Err(ForecastError::UnusableData(format!(
                    "series value at position {position} is {what}"
                )));
            }
            None if fill == Fill::Error => {
                return Err(ForecastError::UnusableData(format!(
                    "series value at position {position} is null and fill => 'error' refuses missing values"
                )));
            }
            _ => {}
        }
        stamps.push(p);
    }

    let (frequency, anchored) = match frequency {
        Some(f) => (f, false),
        None => (infer_frequency(&stamps)?, true),
    };
    let timeline: Vec<i64> = stamps
        .iter()
        .map(|s| if frequency.is_utc() { s.utc } else { s.wall })
        .collect();
    let first = (0..stamps.len()).min_by_key(|&i| timeline[i]).unwrap_or(0);
    let grid = grid_for(frequency, anchored, &stamps, first);

    let index: Vec<i64> = timeline.iter().map(|&t| grid.period_of(t)).collect();
    if anchored {
        if let Some(i) = (0..timeline.len()).find(|&i| grid.stamp(index[i]) != Some(timeline[i])) {
            return Err(ForecastError::Irregular(format!(
                "periods are irregular: {} is not on the {} grid that starts at {}",
                describe(timeline[i], frequency),
                frequency.name(),
                describe(timeline[first], frequency)
            )));
        }
    }
    let span = index.iter().max().map_or(0, |&k| k + 1);
    if span > MAX_SERIES_LEN as i64 {
        return Err(ForecastError::TooLong(format!(
            "periods span {span} {} periods, the limit is {MAX_SERIES_LEN}",
            frequency.name()
        )));
    }

    let mut sums: Vec<Option<f64>> = vec![None; span as usize];
    let mut seen = vec![false; span as usize];
    for (&k, v) in index.iter().zip(values) {
        let k = k as usize;
        seen[k] = true;
        if let Some(x) = v {
            sums[k] = Some(sums[k].unwrap_or(0.0) + x);
        }
    }
    for (k, (value, &seen)) in sums.iter_mut().zip(&seen).enumerate() {
        if seen {
            continue;
        }
        *value = match fill {
            Fill::Zero => Some(0.0),
            Fill::Interpolate => None,
            Fill::Error => {
                // Periods between the first and last stamp are in range.
                let at = grid
                    .stamp(k as i64)
                    .map_or_else(|| format!("period {}", k + 1), |t| describe(t, frequency));
                return Err(ForecastError::UnusableData(format!(
                    "no value for the period {at} and fill => 'error' refuses missing periods"
                )));
            }
        };
    }
    Ok(Regular {
        frequency,
        values: sums,
        grid,
    })
}

/// The grid period 0 of which holds `stamps[first]`, the earliest stamp.
fn grid_for(frequency: Frequency, anchored: bool, stamps: &[Stamp], first: usize) -> Grid {
    let Stamp { wall, utc } = stamps[first];
    if let Some(months) = months_of(frequency) {
        return if anchored {
            // The first stamp's day of the month; when that is its month's
            // last day, the latest day any stamp is on, so that month-end
            // series (28th, 31st, 30th...) are on the grid of day 31.
            let (year, month, mut day) = civil(wall);
            if day == days_in_month(year, month) {
                day = stamps.iter().map(|s| civil(s.wall).2).max().unwrap_or(day);
            }
            Grid::Calendar {
                origin_month: month_index(wall),
                months,
                day,
                time_of_day: wall.rem_euclid(DAY),
            }
        } else {
            let m = month_index(wall);
            Grid::Calendar {
                origin_month: m - m.rem_euclid(months),
                months,
                day: 1,
                time_of_day: 0,
            }
        };
    }
    let step = match frequency {
        Frequency::Hourly => HOUR,
        Frequency::Daily => DAY,
        _ => 7 * DAY,
    };
    let origin = match (anchored, frequency) {
        (true, Frequency::Hourly) => utc,
        (true, _) => wall,
        // Align hours with the local clock, which differs from UTC by
        // half-hours in some zones.
        (false, Frequency::Hourly) => utc - wall.rem_euclid(HOUR),
        (false, _) => wall - wall.rem_euclid(DAY),
    };
    Grid::Fixed { origin, step }
}

/// The frequency of the most common gap between consecutive distinct wall
/// stamps; a tie between two frequencies, or no recognisable gap, is irregular.
pub fn infer_frequency(stamps: &[Stamp]) -> Result<Frequency, ForecastError> {
    let mut walls: Vec<i64> = stamps.iter().map(|s| s.wall).collect();
    walls.sort_unstable();
    walls.dedup();
    if walls.len() < 2 {
        return Err(ForecastError::Irregular(
            "cannot infer the frequency from a single period".to_string(),
        ));
    }
    let mut counts = [0_usize; FREQUENCIES.len()];
    for w in walls.windows(2) {
        // Saturating: the timestamp range is wider than i64 can subtract.
        if let Some(f) = Frequency::of_gap(w[1].saturating_sub(w[0])) {
            counts[f as usize] += 1;
        }
    }
    let mut ranked: Vec<(usize, Frequency)> = FREQUENCIES
        .into_iter()
        .map(|f| (counts[f as usize], f))
        .filter(|&(c, _)| c > 0)
        .collect();
    ranked.sort_by_key(|&(count, _)| std::cmp::Reverse(count));
    match ranked[..] {
        [] => Err(ForecastError::Irregular(
            "periods are irregular: no gap between consecutive periods is an hour, a day, a week, a month, a quarter or a year"
                .to_string(),
        )),
        [(a, fa), (b, fb), ..] if a == b => Err(ForecastError::Irregular(format!(
            "periods are irregular: as many gaps of {} as of {} ({a} each)",
            fa.gap_noun(),
            fb.gap_noun()
        ))),
        [(_, f), ..] => Ok(f),
    }
}

/// A dated forecast: the frequency used and the stamp of each future period.
#[derive(Debug, Clone, PartialEq)]
pub struct DatedForecast {
    pub frequency: Frequency,
    /// On the UTC timeline for hourly series, on the wall clock otherwise.
    pub periods: Vec<i64>,
    pub forecast: Forecast,
}

/// [`regularize`], then [`crate::forecast`], testing the frequency's
/// natural cycles unless `options.season_length` names one.
pub fn forecast_dated(
    periods: &[Option<Stamp>],
    values: &[Option<f64>],
    options: &Options,
    frequency: Option<Frequency>,
    fill: Fill,
) -> Result<DatedForecast, ForecastError> {
    let regular = regularize(periods, values, frequency, fill)?;
    let candidates = regular.frequency.season_candidates();
    let forecast = forecast_with_candidates(&regular.values, options, candidates)?;
    Ok(DatedForecast {
        frequency: regular.frequency,
        periods: regular.future(options.horizon)?,
        forecast,
    })
}

/// `2024-03-01`, `2024-03-01 09:30` or, on the UTC timeline, `... UTC`.
fn describe(t: i64, frequency: Frequency) -> String {
    let (y, m, d) = civil(t);
    let tod = t.rem_euclid(DAY);
    let mut s = format!("{y:04}-{m:02}-{d:02}");
    if tod != 0 || frequency.is_utc() {
        s += &format!(" {:02}:{:02}", tod / HOUR, tod % HOUR / 60_000_000);
    }
    if frequency.is_utc() {
        s += " UTC";
    }
    s
}

/// Year * 12 + month - 1 of a stamp.
fn month_index(t: i64) -> i64 {
    let (y, m, _) = civil(t);
    y * 12 + i64::from(m) - 1
}

/// (year, month, day) of a stamp, proleptic Gregorian as Postgres uses.
fn civil(t: i64) -> (i64, u32, u32) {
    civil_from_days(t.div_euclid(DAY))
}

/// Days from 1970-01-01 to 2000-01-01.
const UNIX_TO_PG_DAYS: i64 = 10_957;

// Howard Hinnant's days-from-civil algorithms, shifted to the Postgres epoch.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468 - UNIX_TO_PG_DAYS
}

fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + UNIX_TO_PG_DAYS + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Micros of a wall-clock time with no zone.
    fn at(y: i64, m: u32, d: u32, h: i64) -> i64 {
        days_from_civil(y, m, d) * DAY + h * HOUR
    }

    fn stamps(ts: &[i64]) -> Vec<Option<Stamp>> {
        ts.iter().map(|&t| Some(Stamp::naive(t))).collect()
    }

    fn ones(n: usize) -> Vec<Option<f64>> {
        vec![Some(1.0); n]
    }

    fn dates(r: &Regular, horizon: usize) -> Vec<(i64, u32, u32)> {
        r.future(horizon).unwrap().into_iter().map(civil).collect()
    }

    /// Unit values at `ts`, regularized with `frequency` (None infers it).
    fn ones_at(ts: &[i64], frequency: Option<Frequency>) -> Regular {
        regularize(&stamps(ts), &ones(ts.len()), frequency, Fill::Zero).unwrap()
    }

    fn irregular(ts: &[i64]) -> String {
        match regularize(&stamps(ts), &ones(ts.len()), None, Fill::Zero) {
            Err(ForecastError::Irregular(m)) => m,
            other => panic!("expected irregular, got {other:?}"),
        }
    }

    #[test]
    fn civil_round_trips_and_knows_the_epoch() {
        assert_eq!(civil_from_days(0), (2000, 1, 1));
        assert_eq!(days_from_civil(1970, 1, 1), -UNIX_TO_PG_DAYS);
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
        for d in (-800_000..800_000).step_by(997) {
            let (y, m, day) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, day), d);
        }
    }

    #[test]
    fn infers_each_frequency_and_continues_its_grid() {
        let cases = [
            (
                Frequency::Hourly,
                (0..30).map(|h| at(2024, 3, 1, h)).collect(),
                (2024, 3, 2),
            ),
            (
                Frequency::Daily,
                (1..=20).map(|d| at(2024, 1, d, 0)).collect(),
                (2024, 1, 21),
            ),
            (
                Frequency::Weekly,
                (0..10).map(|w| at(2024, 1, 1, 0) + w * 7 * DAY).collect(),
                (2024, 3, 11),
            ),
            (
                Frequency::Monthly,
                (1..=12).map(|m| at(2023, m, 1, 0)).collect(),
                (2024, 1, 1),
            ),
            (
                Frequency::Quarterly,
                [1, 4, 7, 10].map(|m| at(2023, m, 1, 0)).to_vec(),
                (2024, 1, 1),
            ),
            (
                Frequency::Yearly,
                (2015..2024).map(|y| at(y, 1, 1, 0)).collect(),
                (2024, 1, 1),
            ),
        ];
        for (frequency, ts, next) in cases {
            assert_eq!(
                infer_frequency(&stamps(&ts).into_iter().flatten().collect::<Vec<_>>()),
                Ok(frequency)
            );
            let r = regularize(&stamps(&ts), &ones(ts.len()), None, Fill::Error).unwrap();
            assert_eq!((r.frequency, r.values.len()), (frequency, ts.len()));
            assert_eq!(dates(&r, 1)[0], next, "{frequency:?}");
        }
    }

    #[test]
    fn weekly_keeps_the_weekday_and_time_of_day() {
        // Wednesdays at 09:00.
        let ts: Vec<i64> = (0..5).map(|w| at(2024, 1, 3, 9) + w * 7 * DAY).collect();
        let r = ones_at(&ts, None);
        assert_eq!(r.future(2).unwrap(), vec![at(2024, 2, 7, 9), at(2024, 2, 14, 9)]);
    }

    #[test]
    fn month_ends_clamp_like_postgres_intervals() {
        // From January 31st: February 29th (leap year), then March 31st.
        let r = ones_at(&[at(2023, 12, 31, 0), at(2024, 1, 31, 0)], None);
        assert_eq!(dates(&r, 3), vec![(2024, 2, 29), (2024, 3, 31), (2024, 4, 30)]);
        // A month-end series, whatever its first month, stays at month ends.
        let ends = [
            at(2023, 2, 28, 0),
            at(2023, 3, 31, 0),
            at(2023, 4, 30, 0),
            at(2023, 5, 31, 0),
        ];
        let r = regularize(&stamps(&ends), &ones(4), None, Fill::Error).unwrap();
        assert_eq!(dates(&r, 2), vec![(2023, 6, 30), (2023, 7, 31)]);
        // The 30th of each month stays on the 30th (and February's end).
        let thirtieths = [at(2024, 1, 30, 0), at(2024, 2, 29, 0), at(2024, 3, 30, 0)];
        let r = regularize(&stamps(&thirtieths), &ones(3), None, Fill::Error).unwrap();
        assert_eq!(dates(&r, 1), vec![(2024, 4, 30)]);
    }

    #[test]
    fn leap_days() {
        assert_eq!((days_in_month(2024, 2), days_in_month(2023, 2)), (29, 28));
        assert_eq!((days_in_month(1900, 2), days_in_month(2000, 2)), (28, 29));
        // A yearly series on February 29th steps to the 28th in common years.
        let r = ones_at(&[at(2016, 2, 29, 0), at(2020, 2, 29, 0)], Some(Frequency::Yearly));
        assert_eq!(r.values.len(), 5);
        let anchored = ones_at(&[at(2019, 2, 28, 0), at(2020, 2, 29, 0)], None);
        assert_eq!(
            dates(&anchored, 4),
            vec![(2021, 2, 28), (2022, 2, 28), (2023, 2, 28), (2024, 2, 29)]
        );
        // Daily across February 29th has no gap.
        let days: Vec<i64> = (0..5).map(|d| at(2024, 2, 27, 0) + d * DAY).collect();
        assert_eq!(
            regularize(&stamps(&days), &ones(5), None, Fill::Error)
                .unwrap()
                .values
                .len(),
            5
        );
    }

    #[test]
    fn sorts_sums_duplicates_and_fills_gaps() {
        // Jan 3, Jan 1, Jan 2, Jan 1 again, Jan 5: Jan 4 has no row.
        let days = [3, 1, 2, 1, 5].map(|d| at(2024, 1, d, 0));
        let ts = stamps(&days);
        let v = [Some(3.0), Some(1.0), Some(2.0), Some(10.0), Some(5.0)];
        let zero = regularize(&ts, &v, None, Fill::Zero).unwrap();
        assert_eq!(zero.frequency, Frequency::Daily);
        assert_eq!(
            zero.values,
            vec![Some(11.0), Some(2.0), Some(3.0), Some(0.0), Some(5.0)]
        );
        let interpolated = regularize(&ts, &v, None, Fill::Interpolate).unwrap();
        assert_eq!(
            interpolated.values,
            vec![Some(11.0), Some(2.0), Some(3.0), None, Some(5.0)]
        );
        assert_eq!(
            regularize(&ts, &v, None, Fill::Error),
            Err(ForecastError::UnusableData(
                "no value for the period 2024-01-04 and fill => 'error' refuses missing periods".into()
            ))
        );
        // The order of the rows does not matter.
        let mut rows: Vec<_> = days.iter().zip(v).collect();
        rows.sort_by_key(|r| *r.0);
        let sorted: Vec<i64> = rows.iter().map(|r| *r.0).collect();
        let sorted_values: Vec<Option<f64>> = rows.iter().map(|r| r.1).collect();
        assert_eq!(
            regularize(&stamps(&sorted), &sorted_values, None, Fill::Zero),
            Ok(zero.clone())
        );
        assert_eq!(dates(&zero, 1), vec![(2024, 1, 6)]);
    }

    #[test]
    fn null_values_are_unknown_not_zero() {
        let ts = stamps(&[1, 2, 2, 3, 5].map(|d| at(2024, 1, d, 0)));
        // Jan 2 has a NULL beside a 4 (summed like SQL's sum), Jan 3 only a NULL.
        let v = [Some(1.0), None, Some(4.0), None, Some(5.0)];
        let r = regularize(&ts, &v, None, Fill::Zero).unwrap();
        assert_eq!(r.values, vec![Some(1.0), Some(4.0), None, Some(0.0), Some(5.0)]);
        let e = regularize(&ts, &v, None, Fill::Error).unwrap_err();
        assert_eq!(
            e.to_string(),
            "series value at position 2 is null and fill => 'error' refuses missing values"
        );
    }

    #[test]
    fn explicit_frequency_buckets_like_date_trunc() {
        // Sales at any time of day, summed per day.
        let r = ones_at(
            &[(1, 9), (1, 17), (2, 23), (1, 12)].map(|(d, h)| at(2024, 1, d, h) + 7),
            Some(Frequency::Daily),
        );
        assert_eq!(r.values, vec![Some(3.0), Some(1.0)]);
        assert_eq!(r.future(1).unwrap(), vec![at(2024, 1, 3, 0)]);
        // Weeks start on the first stamp's weekday (here a Thursday).
        let r = ones_at(
            &[at(2024, 1, 4, 15), at(2024, 1, 10, 1), at(2024, 1, 11, 0)],
            Some(Frequency::Weekly),
        );
        assert_eq!(r.values, vec![Some(2.0), Some(1.0)]);
        assert_eq!(r.future(1).unwrap(), vec![at(2024, 1, 18, 0)]);
        // Months, quarters and years start on their first day.
        let ts = stamps(&[at(2024, 2, 15, 0), at(2024, 5, 31, 0), at(2024, 6, 1, 0)]);
        let monthly = regularize(&ts, &ones(3), Some(Frequency::Monthly), Fill::Zero).unwrap();
        assert_eq!(
            monthly.values,
            vec![Some(1.0), Some(0.0), Some(0.0), Some(1.0), Some(1.0)]
        );
        assert_eq!(dates(&monthly, 1), vec![(2024, 7, 1)]);
        let quarterly = regularize(&ts, &ones(3), Some(Frequency::Quarterly), Fill::Zero).unwrap();
        assert_eq!(quarterly.values, vec![Some(1.0), Some(2.0)]);
        assert_eq!(dates(&quarterly, 1), vec![(2024, 7, 1)]);
        let yearly = regularize(&ts, &ones(3), Some(Frequency::Yearly), Fill::Zero).unwrap();
        assert_eq!(
            (yearly.values.clone(), dates(&yearly, 1)),
            (vec![Some(3.0)], vec![(2025, 1, 1)])
        );
        // Hours follow the local clock at the first stamp (UTC+05:30 here).
        let offset = 5 * HOUR + HOUR / 2;
        let ts: Vec<Option<Stamp>> = [at(2024, 1, 1, 10) + 600_000_000, at(2024, 1, 1, 11) + 1]
            .iter()
            .map(|&w| {
                Some(Stamp {
                    wall: w,
                    utc: w - offset,
                })
            })
            .collect();
        let hourly = regularize(&ts, &ones(2), Some(Frequency::Hourly), Fill::Zero).unwrap();
        assert_eq!(hourly.future(1).unwrap(), vec![at(2024, 1, 1, 12) - offset]);
    }

    #[test]
    fn hourly_steps_in_utc_through_a_dst_change() {
        // Europe/Berlin, 2024-10-27: 02:00-03:00 local happens twice.
        let utc: Vec<i64> = (0..6).map(|h| at(2024, 10, 26, 23) + h * HOUR).collect();
        let ts: Vec<Option<Stamp>> = utc
            .iter()
            .map(|&u| {
                let offset = if u < at(2024, 10, 27, 1) { 2 * HOUR } else { HOUR };
                Some(Stamp {
                    wall: u + offset,
                    utc: u,
                })
            })
            .collect();
        let r = regularize(&ts, &ones(6), None, Fill::Error).unwrap();
        assert_eq!((r.frequency, r.values.len()), (Frequency::Hourly, 6));
        assert_eq!(r.future(1).unwrap(), vec![at(2024, 10, 27, 5)]);
        // A plain UTC hourly series over the spring change has no gap.
        let naive: Vec<i64> = (0..48).map(|h| at(2024, 3, 30, 0) + h * HOUR).collect();
        let r = regularize(&stamps(&naive), &ones(48), None, Fill::Error).unwrap();
        assert_eq!(r.values.len(), 48);
    }

    #[test]
    fn irregular_stamps_are_refused_with_a_reason() {
        let mut monthly: Vec<i64> = (1..=6).map(|m| at(2024, m, 1, 0)).collect();
        monthly[3] = at(2024, 4, 15, 0);
        assert_eq!(
            irregular(&monthly),
            "periods are irregular: 2024-04-15 is not on the monthly grid that starts at 2024-01-01"
        );
        // Two gaps of a day, two of a week.
        let mixed = [0, 1, 2, 9, 16].map(|d| at(2024, 1, 1, 0) + d * DAY);
        assert_eq!(
            irregular(&mixed),
            "periods are irregular: as many gaps of a day as of a week (2 each)"
        );
        let fortnightly = [0, 14, 28].map(|d| at(2024, 1, 1, 0) + d * DAY);
        assert!(irregular(&fortnightly).contains("no gap between consecutive periods"));
        assert_eq!(
            irregular(&[at(2024, 1, 1, 0); 3]),
            "cannot infer the frequency from a single period"
        );
        // Daily stamps at different times of day are off the grid; an explicit frequency buckets them.
        let times = [at(2024, 1, 1, 9), at(2024, 1, 2, 9), at(2024, 1, 3, 10)];
        assert!(irregular(&times).contains("2024-01-03 10:00 is not on the daily grid"));
        assert!(regularize(&stamps(&times), &ones(3), Some(Frequency::Daily), Fill::Error).is_ok());
    }

    #[test]
    fn bad_arguments() {
        let ts = stamps(&[at(2024, 1, 1, 0), at(2024, 1, 2, 0)]);
        let e = regularize(&ts, &ones(3), None, Fill::Zero).unwrap_err();
        assert_eq!(
            e,
            ForecastError::InvalidParameter(
                "periods has 2 elements and series has 3, they must match".into()
            )
        );
        let e = regularize(&[], &[], None, Fill::Zero).unwrap_err();
        assert_eq!(e, ForecastError::UnusableData("series is empty".into()));
        let e = regularize(&[ts[0], None], &ones(2), None, Fill::Zero).unwrap_err();
        assert_eq!(e.to_string(), "periods has a null at position 2");
        let e = regularize(&[ts[0], Some(Stamp::naive(i64::MAX))], &ones(2), None, Fill::Zero).unwrap_err();
        assert_eq!(
            e.to_string(),
            "periods value at position 2 is infinite or out of range"
        );
        let e = regularize(
            &[ts[0], Some(Stamp::from_days(i32::MIN))],
            &ones(2),
            None,
            Fill::Zero,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "periods value at position 2 is infinite or out of range"
        );
        assert_eq!(days_of(Stamp::from_days(-3).wall), -3);
        let e = regularize(&ts, &[Some(1.0), Some(f64::NAN)], None, Fill::Zero).unwrap_err();
        assert_eq!(
            e,
            ForecastError::UnusableData("series value at position 2 is NaN".into())
        );
        assert!(matches!(
            Frequency::parse("fortnightly"),
            Err(ForecastError::InvalidParameter(_))
        ));
        assert_eq!(Frequency::parse("quarterly"), Ok(Frequency::Quarterly));
        assert!(matches!(
            Fill::parse("ffill"),
            Err(ForecastError::InvalidParameter(_))
        ));
        assert_eq!(Fill::parse("interpolate"), Ok(Fill::Interpolate));
    }

    #[test]
    fn limits() {
        // Two stamps twelve years apart, hourly: more periods than a series may have.
        let ts = stamps(&[at(2012, 1, 1, 0), at(2024, 1, 1, 0)]);
        let e = regularize(&ts, &ones(2), Some(Frequency::Hourly), Fill::Zero).unwrap_err();
        assert!(matches!(e, ForecastError::TooLong(_)), "{e:?}");
        // The whole timestamp range, hourly: a span that i64 cannot subtract.
        let e = regularize(
            &[Some(Stamp::naive(MIN_STAMP)), Some(Stamp::naive(END_STAMP - 1))],
            &ones(2),
            Some(Frequency::Hourly),
            Fill::Zero,
        )
        .unwrap_err();
        assert!(matches!(e, ForecastError::TooLong(_)), "{e:?}");
        assert!(irregular(&[MIN_STAMP, END_STAMP - 1]).contains("no gap between consecutive periods"));
        // The future cannot run past Postgres's last timestamp (294276 AD).
        let late = stamps(&[at(294_270, 1, 1, 0), at(294_271, 1, 1, 0)]);
        let r = regularize(&late, &ones(2), None, Fill::Zero).unwrap();
        assert_eq!(r.future(5).unwrap().len(), 5);
        assert!(matches!(r.future(6), Err(ForecastError::InvalidParameter(_))));
    }

    #[test]
    fn forecasts_with_the_frequency_season() {
        // Daily sales with a weekly pattern: weekends sell three times as much.
        let ts: Vec<i64> = (0..84).map(|d| at(2024, 1, 1, 0) + d * DAY).collect();
        let v: Vec<Option<f64>> = (0..84)
            .map(|d| Some(if d % 7 >= 5 { 30.0 } else { 10.0 } + d as f64 * 0.01))
            .collect();
        let options = Options {
            level: 0.9,
            ..Options::new(14)
        };
        let f = forecast_dated(&stamps(&ts), &v, &options, None, Fill::Zero).unwrap();
        assert_eq!((f.frequency, f.forecast.seasons.clone()), (Frequency::Daily, vec![7]));
        assert_eq!(civil(f.periods[0]), (2024, 3, 25));
        // 2024-03-30 is a Saturday.
        assert!(
            f.forecast.point[5] > 2.0 * f.forecast.point[0],
            "{:?}",
            f.forecast.point
        );
        // season_length overrides the frequency's.
        let options = Options {
            season_length: Some(1),
            ..Options::new(3)
        };
        let f = forecast_dated(&stamps(&ts), &v, &options, None, Fill::Zero).unwrap();
        assert!(f.forecast.seasons.is_empty());
        // Too few points behave as in the undated form.
        let f = forecast_dated(
            &stamps(&ts[..1]),
            &v[..1],
            &Options::new(2),
            Some(Frequency::Weekly),
            Fill::Zero,
        )
        .unwrap();
        assert_eq!(f.forecast.point, vec![v[0].unwrap(); 2]);
        assert_eq!(f.periods, vec![ts[0] + 7 * DAY, ts[0] + 14 * DAY]);
    }

    #[test]
    fn daily_sales_get_weekly_and_yearly_seasons() {
        // Three years of days: a weekend peak and a summer peak.
        let ts: Vec<i64> = (0..3 * 365).map(|d| at(2021, 1, 1, 0) + d * DAY).collect();
        let v: Vec<Option<f64>> = (0..3 * 365)
            .map(|d| {
                let weekend = if d % 7 >= 5 { 20.0 } else { 0.0 };
                let summer = 30.0 * (d as f64 * std::f64::consts::TAU / 365.0).sin();
                Some(100.0 + weekend + summer + ((d * 7919) % 11) as f64)
            })
            .collect();
        let f = forecast_dated(&stamps(&ts), &v, &Options::new(28), None, Fill::Zero).unwrap();
        assert_eq!(f.forecast.seasons, vec![7, 365], "{}", f.forecast.method);
        assert!(f.forecast.method.contains("MSTL(7,365)"), "{}", f.forecast.method);
    }
}
