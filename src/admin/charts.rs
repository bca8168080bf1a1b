//! Bar charts as plain data for the SVG in `templates/admin/report.html`: every
//! coordinate is worked out here, so the template only places shapes.

/// A bar chart in a `width` x `height` view box.
#[derive(Debug, Clone, PartialEq)]
pub struct BarChart {
    pub width: u32,
    pub height: u32,
    /// The y of the baseline.
    pub baseline: f64,
    pub bars: Vec<Bar>,
    /// Labels under the baseline, centred on `x`.
    pub ticks: Vec<Tick>,
    /// The top of the scale, written at the top left.
    pub scale_max: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub x: String,
    pub y: String,
    pub width: String,
    pub height: String,
    /// What a screen reader or a hover says, for example "2026-03-16: 1,204 users".
    pub label: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    pub x: String,
    pub text: String,
    /// SVG `text-anchor`: labels at the chart's edges align inwards so none is cut off.
    pub anchor: &'static str,
}

/// Room under the baseline for tick labels, and above the bars for the scale.
const BOTTOM: f64 = 22.0;
const TOP: f64 = 16.0;

/// One bar per value, `label` naming each; `tick_every` picks which get a tick label.
pub fn bar_chart(
    width: u32,
    height: u32,
    values: &[(String, i64)],
    tick_every: usize,
    describe: impl Fn(&str, i64) -> String,
) -> BarChart {
    let baseline = f64::from(height) - BOTTOM;
    let scale_max = values.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let slot = f64::from(width) / values.len().max(1) as f64;
    let gap = (slot * 0.15).min(6.0);

    let bars = values
        .iter()
        .enumerate()
        .map(|(i, (name, value))| {
            let bar_height = (baseline - TOP) * (*value as f64) / scale_max as f64;
            Bar {
                x: fixed(i as f64 * slot + gap / 2.0),
                y: fixed(baseline - bar_height),
                width: fixed(slot - gap),
                height: fixed(bar_height),
                label: describe(name, *value),
            }
        })
        .collect();
    let ticks = values
        .iter()
        .enumerate()
        .filter(|(i, _)| tick_every > 0 && (i % tick_every == 0 || *i == values.len() - 1))
        .map(|(i, (name, _))| tick(i, values.len(), slot, name))
        .collect();

    BarChart {
        width,
        height,
        baseline,
        bars,
        ticks,
        scale_max,
    }
}

/// Bars narrower than this get their first and last labels aligned to the edges.
const NARROW: f64 = 40.0;

fn tick(index: usize, count: usize, slot: f64, name: &str) -> Tick {
    let (x, anchor) = if slot >= NARROW {
        ((index as f64 + 0.5) * slot, "middle")
    } else if index == 0 {
        (0.0, "start")
    } else if index + 1 == count {
        (count as f64 * slot, "end")
    } else {
        ((index as f64 + 0.5) * slot, "middle")
    };
    Tick {
        x: fixed(x),
        text: name.to_owned(),
        anchor,
    }
}

fn fixed(value: f64) -> String {
    format!("{value:.1}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tallest_bar_reaches_the_top_and_an_empty_one_has_no_height() {
        let values = vec![("a".to_owned(), 0), ("b".to_owned(), 10)];

        let chart = bar_chart(200, 100, &values, 1, |name, n| format!("{name}: {n}"));

        assert_eq!(chart.bars[0].height, "0.0");
        assert_eq!(chart.bars[1].y, "16.0");
        assert_eq!(chart.bars[1].label, "b: 10");
        assert_eq!(chart.scale_max, 10);
    }

    #[test]
    fn no_values_make_an_empty_chart_without_dividing_by_zero() {
        let chart = bar_chart(200, 100, &[], 1, |_, _| String::new());

        assert!(chart.bars.is_empty());
        assert_eq!(chart.scale_max, 1);
    }

    #[test]
    fn ticks_fall_on_every_nth_bar_and_the_last() {
        let values: Vec<(String, i64)> = (0..5).map(|i| (i.to_string(), i)).collect();

        let chart = bar_chart(100, 100, &values, 2, |_, _| String::new());

        let texts: Vec<&str> = chart.ticks.iter().map(|t| t.text.as_str()).collect();
        let anchors: Vec<&str> = chart.ticks.iter().map(|t| t.anchor).collect();
        assert_eq!(texts, ["0", "2", "4"]);
        assert_eq!(anchors, ["start", "middle", "end"], "20 px bars are narrow");
        assert_eq!(chart.ticks[2].x, "100.0");
    }
}
