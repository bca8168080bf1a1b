//! The traffic chart as plain SVG shapes, computed here and drawn by the template, so
//! the page needs no script and the numbers stay in the markup for screen readers.

use super::stats::Bucket;

pub const WIDTH: u32 = 720;
pub const HEIGHT: u32 = 200;
/// Room under the bars for the axis labels.
const AXIS: u32 = 20;
const GAP: u32 = 2;

/// One bar, in SVG user units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
    /// Read by screen readers and shown on hover, as "14:00: 12 pageviews".
    pub title: String,
}

/// An axis label under a bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tick {
    pub x: u32,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chart {
    pub width: u32,
    pub height: u32,
    pub baseline: u32,
    pub bars: Vec<Bar>,
    pub ticks: Vec<Tick>,
    /// The largest value, which the tallest bar shows.
    pub max: i64,
}

/// Pageview bars for the buckets, scaled to the tallest; a label every few bars.
pub fn pageview_chart(buckets: &[Bucket]) -> Chart {
    let baseline = HEIGHT - AXIS;
    let max = buckets.iter().map(|b| b.pageviews).max().unwrap_or(0);
    let count = buckets.len().max(1) as u32;
    let slot = WIDTH / count;
    let label_every = count.div_ceil(8).max(1);

    let bars = buckets
        .iter()
        .zip(0u32..)
        .map(|(bucket, i)| {
            let height = scaled(bucket.pageviews, max, baseline);
            Bar {
                x: i * slot + GAP / 2,
                y: baseline - height,
                width: slot.saturating_sub(GAP).max(1),
                height,
                title: format!("{}: {} pageviews", bucket.label, bucket.pageviews),
            }
        })
        .collect();
    let ticks = buckets
        .iter()
        .zip(0u32..)
        .filter(|(_, i)| i % label_every == 0)
        .map(|(bucket, i)| Tick {
            x: i * slot + slot / 2,
            text: short_label(&bucket.label),
        })
        .collect();
    Chart {
        width: WIDTH,
        height: HEIGHT,
        baseline,
        bars,
        ticks,
        max,
    }
}

fn scaled(value: i64, max: i64, room: u32) -> u32 {
    if max <= 0 || value <= 0 {
        return 0;
    }
    let height = (value as f64 / max as f64 * f64::from(room)).round() as u32;
    height.clamp(1, room)
}

/// "2026-03-16" becomes "03-16"; hours stay as they are.
fn short_label(label: &str) -> String {
    label
        .get(5..)
        .filter(|_| label.len() == 10)
        .unwrap_or(label)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(label: &str, pageviews: i64) -> Bucket {
        Bucket {
            label: label.into(),
            visitors: 0,
            pageviews,
        }
    }

    #[test]
    fn the_tallest_bar_fills_the_chart_and_empty_ones_are_flat() {
        let chart = pageview_chart(&[bucket("00:00", 0), bucket("01:00", 5), bucket("02:00", 10)]);

        assert_eq!(chart.max, 10);
        assert_eq!(chart.bars[0].height, 0);
        assert_eq!(chart.bars[2].height, chart.baseline);
        assert_eq!(chart.bars[1].height, chart.baseline / 2);
        assert_eq!(chart.bars[1].title, "01:00: 5 pageviews");
    }

    #[test]
    fn days_are_labelled_by_month_and_day() {
        let chart = pageview_chart(&[bucket("2026-03-16", 1)]);

        assert_eq!(chart.ticks[0].text, "03-16");
    }
}
