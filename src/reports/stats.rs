//! Pure statistics over "how many users were seen on n days": mean, median, histogram.

use serde::Serialize;

/// One bar of the frequency histogram.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bucket {
    pub days: &'static str,
    pub users: i64,
}

/// The histogram's buckets as (label, fewest days, most days), in report order.
pub const BUCKETS: [(&str, i64, i64); 5] = [
    ("1", 1, 1),
    ("2-3", 2, 3),
    ("4-7", 4, 7),
    ("8-14", 8, 14),
    ("15-28", 15, 28),
];

/// A distribution: how many users (`.1`) were active on exactly `.0` days. Rows with
/// zero days or zero users are ignored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Distribution {
    rows: Vec<(i64, i64)>,
}

impl Distribution {
    pub fn new(rows: impl IntoIterator<Item = (i64, i64)>) -> Self {
        let mut rows: Vec<(i64, i64)> = rows
            .into_iter()
            .filter(|&(days, users)| days > 0 && users > 0)
            .collect();
        rows.sort_unstable();
        Self { rows }
    }

    pub fn users(&self) -> i64 {
        self.rows.iter().map(|&(_, users)| users).sum()
    }

    /// The mean number of days over users; 0 when there are none.
    pub fn mean(&self) -> f64 {
        let users = self.users();
        if users == 0 {
            return 0.0;
        }
        let days: i64 = self.rows.iter().map(|&(days, users)| days * users).sum();
        days as f64 / users as f64
    }

    /// The median number of days; the mean of the middle two when the count is even,
    /// and 0 when there are no users.
    pub fn median(&self) -> f64 {
        let users = self.users();
        if users == 0 {
            return 0.0;
        }
        let upper = self.nth(users / 2);
        if users % 2 == 1 {
            upper as f64
        } else {
            (self.nth(users / 2 - 1) + upper) as f64 / 2.0
        }
    }

    /// The days of the user at 0-based position `index` in ascending order.
    fn nth(&self, index: i64) -> i64 {
        let mut seen = 0;
        for &(days, users) in &self.rows {
            seen += users;
            if index < seen {
                return days;
            }
        }
        self.rows.last().map_or(0, |&(days, _)| days)
    }

    /// The users per bucket of [`BUCKETS`]; days past the last bucket count in it.
    pub fn histogram(&self) -> Vec<Bucket> {
        let last = BUCKETS.len() - 1;
        BUCKETS
            .iter()
            .enumerate()
            .map(|(i, &(label, low, high))| {
                let high = if i == last { i64::MAX } else { high };
                let users = self
                    .rows
                    .iter()
                    .filter(|&&(days, _)| (low..=high).contains(&days))
                    .map(|&(_, users)| users)
                    .sum();
                Bucket { days: label, users }
            })
            .collect()
    }
}

/// `part / whole`, or 0 when `whole` is 0.
pub fn ratio(part: i64, whole: i64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_an_odd_count_is_the_middle_value() {
        let distribution = Distribution::new([(1, 1), (3, 1), (10, 1)]);

        assert_eq!(distribution.median(), 3.0);
    }

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        let distribution = Distribution::new([(1, 1), (2, 1), (5, 1), (28, 1)]);

        assert_eq!(distribution.median(), 3.5);
    }

    #[test]
    fn the_median_reads_through_grouped_rows() {
        let distribution = Distribution::new([(4, 2), (1, 3)]);

        assert_eq!(distribution.median(), 1.0, "1 1 1 4 4");
        assert_eq!(distribution.mean(), 11.0 / 5.0);
    }

    #[test]
    fn an_empty_distribution_has_zero_mean_and_median() {
        let distribution = Distribution::new([(0, 5)]);

        assert_eq!(distribution.users(), 0);
        assert_eq!(distribution.mean(), 0.0);
        assert_eq!(distribution.median(), 0.0);
        assert!(distribution.histogram().iter().all(|b| b.users == 0));
    }

    #[test]
    fn the_histogram_puts_each_count_in_its_bucket() {
        let rows = [
            (1, 1),
            (2, 2),
            (3, 3),
            (4, 4),
            (7, 5),
            (8, 6),
            (14, 7),
            (15, 8),
        ];
        let distribution = Distribution::new(rows.into_iter().chain([(28, 9)]));

        let histogram = distribution.histogram();

        let users: Vec<i64> = histogram.iter().map(|b| b.users).collect();
        let labels: Vec<&str> = histogram.iter().map(|b| b.days).collect();
        assert_eq!(labels, ["1", "2-3", "4-7", "8-14", "15-28"]);
        assert_eq!(users, [1, 5, 9, 13, 17]);
    }

    #[test]
    fn a_ratio_over_zero_is_zero() {
        assert_eq!(ratio(3, 0), 0.0);
        assert_eq!(ratio(1, 4), 0.25);
    }
}
