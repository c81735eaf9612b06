//! Server-rendered SVG charts: the geometry is computed here and drawn by
//! `templates/partials/bar_chart.hbs`. They need no JavaScript, print as they look, carry a title
//! and a description for screen readers, and every page that shows one also shows its figures
//! in a table.

use serde::Serialize;

/// Width of the drawing in SVG units; the chart scales to the page.
const WIDTH: u32 = 600;
/// Where bars start: the space to the left is for labels.
const BAR_X: u32 = 150;
/// The width of a 100% bar.
const FULL: u32 = 380;
const BAR_HEIGHT: u32 = 18;
const GAP: u32 = 10;

#[derive(Debug, Serialize)]
pub struct BarChart {
    pub id: String,
    pub title: String,
    pub description: String,
    pub width: u32,
    pub height: u32,
    pub bar_x: u32,
    pub bars: Vec<Bar>,
    /// Shown under the chart for charts with two series.
    pub legend: Vec<LegendEntry>,
}

#[derive(Debug, Serialize)]
pub struct Bar {
    pub label: String,
    pub value: u32,
    pub y: u32,
    pub height: u32,
    pub width: u32,
    pub text_y: u32,
    pub value_x: u32,
    /// A CSS class for the series: `bar`, `before` or `after`.
    pub series: &'static str,
}

#[derive(Debug, Serialize)]
pub struct LegendEntry {
    pub label: &'static str,
    pub series: &'static str,
}

fn bar(label: String, value: u32, y: u32, series: &'static str) -> Bar {
    let width = FULL * value.min(100) / 100;
    Bar {
        label,
        value,
        y,
        height: BAR_HEIGHT,
        width,
        text_y: y + BAR_HEIGHT - 4,
        value_x: BAR_X + width + 6,
        series,
    }
}

/// One bar per (label, percent).
pub fn percent_bars(id: &str, title: &str, description: &str, items: &[(String, u32)]) -> BarChart {
    let bars: Vec<Bar> = items
        .iter()
        .enumerate()
        .map(|(i, (label, value))| bar(label.clone(), *value, i as u32 * (BAR_HEIGHT + GAP), "bar"))
        .collect();
    BarChart {
        id: id.to_string(),
        title: title.to_string(),
        description: description.to_string(),
        width: WIDTH,
        height: (items.len() as u32 * (BAR_HEIGHT + GAP)).max(BAR_HEIGHT),
        bar_x: BAR_X,
        bars,
        legend: Vec::new(),
    }
}

/// Two bars per item: before (above) and after (below).
pub fn before_after(
    id: &str,
    title: &str,
    description: &str,
    items: &[(String, u32, u32)],
) -> BarChart {
    let pair = 2 * BAR_HEIGHT + 2 + GAP * 2;
    let bars: Vec<Bar> = items
        .iter()
        .enumerate()
        .flat_map(|(i, (label, before, after))| {
            let y = i as u32 * pair;
            [
                bar(label.clone(), *before, y, "before"),
                bar(String::new(), *after, y + BAR_HEIGHT + 2, "after"),
            ]
        })
        .collect();
    BarChart {
        id: id.to_string(),
        title: title.to_string(),
        description: description.to_string(),
        width: WIDTH,
        height: (items.len() as u32 * pair).max(BAR_HEIGHT),
        bar_x: BAR_X,
        bars,
        legend: vec![
            LegendEntry {
                label: "Before the lesson",
                series: "before",
            },
            LegendEntry {
                label: "After the lesson",
                series: "after",
            },
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_as_long_as_their_share_and_never_overflow() {
        let chart = percent_bars(
            "c",
            "t",
            "d",
            &[
                ("Q1".into(), 0),
                ("Q2".into(), 50),
                ("Q3".into(), 100),
                ("Q4".into(), 250),
            ],
        );
        let widths: Vec<u32> = chart.bars.iter().map(|b| b.width).collect();
        assert_eq!(widths, [0, FULL / 2, FULL, FULL]);
        assert!(chart.bars.iter().all(|b| b.y + b.height <= chart.height));
        assert!(chart.bars.iter().all(|b| b.value_x < WIDTH));
    }

    #[test]
    fn before_and_after_come_in_pairs_with_a_legend() {
        let chart = before_after(
            "g",
            "t",
            "d",
            &[("Q1".into(), 20, 80), ("Q2".into(), 40, 60)],
        );
        let series: Vec<&str> = chart.bars.iter().map(|b| b.series).collect();
        assert_eq!(series, ["before", "after", "before", "after"]);
        assert_eq!(chart.bars[1].label, "", "the label is drawn once per pair");
        assert_eq!(chart.legend.len(), 2);
        assert!(chart.bars.iter().all(|b| b.y + b.height <= chart.height));
    }
}
