//! Text on the charts: caller names made safe, dates and numbers for axes.


/// Longest caller text drawn; longer titles and names end in "…" so the
/// layout stays readable.
const MAX_TEXT_CHARS: usize = 120;

/// `text` with control characters (which XML forbids and which would break
/// a line) as spaces, cut at `max_chars`. Escaping `<`, `&` and quotes is
/// left to plotters, which does it for every text it draws.
pub fn clean(text: &str, max_chars: usize) -> String {
    let max_chars = max_chars.min(MAX_TEXT_CHARS);
    let mut out: String =
        text.chars().take(max_chars).map(|c| if c.is_control() { ' ' } else { c }).collect();
    if text.chars().nth(max_chars).is_some() {
        out.pop();
        out.push('…');
    }
    out
}

/// `text` escaped for XML character data and attribute values.
pub fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

/// Gives the `<svg>` element plotters wrote an accessible name: `role="img"`
/// and a `<title>` child, which browsers also show as a tooltip.
pub fn with_title(svg: String, title: &str) -> String {
    let Some(end) = svg.find('>') else { return svg };
    let (open, rest) = svg.split_at(end);
    format!("{open} role=\"img\"><title>{}</title>{}", escape_xml(title), &rest[1..])
}

/// Microseconds in a day.
pub const DAY: i64 = 86_400_000_000;

// The calendar (Howard Hinnant's civil-from-days algorithms, on Postgres'
// epoch 2000-01-01, proleptic Gregorian as Postgres counts) is kept here
// rather than taken from retailml-forecast, so that drawing a chart does not
// pull in the forecasting models.
const DAYS_1970_TO_2000: i64 = 10_957;

/// (year, month, day) of a wall-clock time in microseconds since 2000-01-01.
fn civil(micros: i64) -> (i64, u32, u32) {
    let z = micros.div_euclid(DAY) + DAYS_1970_TO_2000 + 719_468;
    let (era, doe) = (z.div_euclid(146_097), z.rem_euclid(146_097));
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, (doy - (153 * mp + 2) / 5 + 1) as u32)
}

/// Days since 2000-01-01 of a date.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let (era, m) = (y.div_euclid(400), i64::from(month));
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468 - DAYS_1970_TO_2000
}

/// At most this many date ticks on an axis.
const MAX_TICKS: i64 = 8;

/// Date ticks for an axis from `lo` to `hi` (days since 2000-01-01 on the
/// wall clock; fractions are the time of day), on round calendar points:
/// month starts (every 1, 2, 3, 6... months) when the axis spans two months
/// or more, days (every 1, 2, 7, 14 or 28, weeks from Mondays) when it spans
/// three days or more, round minutes below that. Each with its label: the
/// date, or month, day and time for sub-day ticks.
pub fn date_ticks(lo: f64, hi: f64) -> Vec<(f64, String)> {
    let span = hi - lo;
    let date = |day: i64| {
        let (y, m, d) = civil(day * DAY);
        format!("{y}-{m:02}-{d:02}")
    };
    // The multiples of `step` (offset by `phase`) from lo to hi.
    let multiples = |lo: f64, hi: f64, step: i64, phase: i64| {
        let first = ((lo - phase as f64) / step as f64).ceil() as i64;
        let last = ((hi - phase as f64) / step as f64).floor() as i64;
        (first, last)
    };
    if span >= 60.0 {
        let month_of = |days: f64| {
            let (y, m, _) = civil(days.floor() as i64 * DAY);
            y * 12 + i64::from(m) - 1
        };
        let month_start = |i: i64| days_from_civil(i.div_euclid(12), (i.rem_euclid(12) + 1) as u32, 1);
        // Months from the first whole month start on or after lo.
        let (first_month, last_month) = (month_of(lo.ceil() - 1.0) + 1, month_of(hi));
        let mut step = 1;
        while (last_month.div_euclid(step) - (first_month + step - 1).div_euclid(step) + 1) > MAX_TICKS {
            step = [1, 2, 3, 6, 12, 24, 60].into_iter().find(|&s| s > step).unwrap_or(step * 10);
        }
        let first = (first_month + step - 1).div_euclid(step);
        return (first..=last_month.div_euclid(step))
            .map(|i| month_start(i * step))
            .filter(|&d| d as f64 >= lo && d as f64 <= hi)
            .map(|d| (d as f64, date(d)))
            .collect();
    }
    if span >= 3.0 {
        // 2000-01-03 was a Monday.
        let step = [1, 2, 7, 14, 28].into_iter().find(|&s| span / s as f64 <= MAX_TICKS as f64).unwrap_or(28);
        let phase = if step >= 7 { 2 } else { 0 };
        let (first, last) = multiples(lo, hi, step, phase);
        return (first..=last).map(|i| i * step + phase).map(|d| (d as f64, date(d))).collect();
    }
    let minutes = span * 1440.0;
    let step = [1, 5, 15, 30, 60, 120, 180, 360, 720].into_iter().find(|&s| minutes / s as f64 <= MAX_TICKS as f64).unwrap_or(720);
    let (first, last) = multiples(lo * 1440.0, hi * 1440.0, step, 0);
    (first..=last)
        .map(|i| {
            let minute = i * step;
            let (_, m, d) = civil(minute.div_euclid(1440) * DAY);
            let of_day = minute.rem_euclid(1440);
            (minute as f64 / 1440.0, format!("{m:02}-{d:02} {:02}:{:02}", of_day / 60, of_day % 60))
        })
        .collect()
}

/// A value axis label: at most two decimals, thousands as k, millions as M,
/// billions as G, so labels stay short.
pub fn compact_number(v: f64) -> String {
    let a = v.abs();
    let (scaled, suffix) = if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let mut digits = format!("{scaled:.2}");
    if digits.contains('.') {
        digits = digits.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    if digits == "-0" {
        digits = "0".to_string();
    }
    format!("{digits}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(ticks: Vec<(f64, String)>) -> Vec<String> {
        ticks.into_iter().map(|(_, l)| l).collect()
    }

    #[test]
    fn the_calendar_round_trips_and_knows_the_epoch() {
        assert_eq!(civil(0), (2000, 1, 1));
        assert_eq!(days_from_civil(1970, 1, 1), -DAYS_1970_TO_2000);
        assert_eq!(civil(days_from_civil(2024, 2, 29) * DAY), (2024, 2, 29));
        assert_eq!(civil(-1), (1999, 12, 31));
        for d in (-800_000..800_000).step_by(997) {
            let (y, m, day) = civil(d * DAY);
            assert_eq!(days_from_civil(y, m, day), d);
        }
    }

    #[test]
    fn a_year_of_weeks_is_ticked_at_every_other_month_start() {
        // 2017-01-02 to 2018-02-19, as the demo's weekly forecasts span.
        let (lo, hi) = (days_from_civil(2017, 1, 2) as f64, days_from_civil(2018, 2, 19) as f64);
        assert_eq!(
            labels(date_ticks(lo, hi)),
            ["2017-03-01", "2017-05-01", "2017-07-01", "2017-09-01", "2017-11-01", "2018-01-01"]
        );
        // Four months, monthly; a month start at lo itself counts.
        let lo = days_from_civil(2017, 3, 1) as f64;
        assert_eq!(
            labels(date_ticks(lo, lo + 122.0)),
            ["2017-03-01", "2017-04-01", "2017-05-01", "2017-06-01", "2017-07-01"]
        );
        // Decades stay within the limit.
        let wide = date_ticks(days_from_civil(1900, 1, 1) as f64, days_from_civil(2100, 1, 1) as f64);
        assert!(wide.len() as i64 <= MAX_TICKS && wide.len() >= 2, "{wide:?}");
        assert_eq!(wide[0].1, "1900-01-01");
    }

    #[test]
    fn weeks_are_ticked_on_mondays_and_hours_by_the_clock() {
        let lo = days_from_civil(2017, 1, 1) as f64;
        assert_eq!(labels(date_ticks(lo, lo + 30.0)), ["2017-01-02", "2017-01-09", "2017-01-16", "2017-01-23", "2017-01-30"]);
        assert_eq!(labels(date_ticks(lo, lo + 4.0)), ["2017-01-01", "2017-01-02", "2017-01-03", "2017-01-04", "2017-01-05"]);
        assert_eq!(
            labels(date_ticks(lo + 0.3, lo + 1.0)),
            ["01-01 09:00", "01-01 12:00", "01-01 15:00", "01-01 18:00", "01-01 21:00", "01-02 00:00"]
        );
        assert_eq!(labels(date_ticks(lo - 1.0, lo - 0.99)), ["12-31 00:00", "12-31 00:05", "12-31 00:10"]);
        for (at, _) in date_ticks(lo, lo + 2.5) {
            assert!(at >= lo && at <= lo + 2.5);
        }
    }

    #[test]
    fn compact_numbers() {
        assert_eq!(compact_number(0.0), "0");
        assert_eq!(compact_number(-0.001), "0");
        assert_eq!(compact_number(2.5), "2.5");
        assert_eq!(compact_number(1500.0), "1500");
        assert_eq!(compact_number(12_500.0), "12.5k");
        assert_eq!(compact_number(-3_000_000.0), "-3M");
        assert_eq!(compact_number(2.25e9), "2.25G");
    }

    #[test]
    fn clean_replaces_control_characters_and_cuts_long_text() {
        assert_eq!(clean("a\u{1}b\nc", 40), "a b c");
        assert_eq!(clean("abcdef", 4), "abc…");
        assert_eq!(clean("abcd", 4), "abcd");
        assert_eq!(clean(&"x".repeat(500), 1000).chars().count(), MAX_TEXT_CHARS);
    }

    #[test]
    fn titles_are_escaped() {
        let svg = with_title("<svg a=\"1\">\n</svg>".to_string(), "<b>&\"'");
        assert_eq!(svg, "<svg a=\"1\" role=\"img\"><title>&lt;b&gt;&amp;&quot;&apos;</title>\n</svg>");
    }
}
