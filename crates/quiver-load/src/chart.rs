//! The soak's chart: throughput, resident memory and server connections over time, one colour
//! per adapter, as an SVG (plotters' SVG backend: no fonts or bitmaps needed).

use std::path::Path;

use plotters::prelude::*;

/// One sample as charted.
pub(crate) struct Point {
    pub(crate) elapsed: f64,
    pub(crate) adapter: &'static str,
    pub(crate) per_second: f64,
    pub(crate) rss_mib: f64,
    pub(crate) connections: f64,
}

/// Reads one measure of a point.
type Measure = fn(&Point) -> f64;

const COLOURS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
];

/// Draws three stacked panels into `path`.
pub(crate) fn draw(path: &Path, points: &[Point]) -> Result<(), String> {
    let text = |e: &dyn std::fmt::Display| format!("drawing {}: {e}", path.display());
    let root = SVGBackend::new(path, (1000, 900)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| text(&e))?;
    let panels = root.split_evenly((3, 1));
    let end = points.iter().map(|p| p.elapsed).fold(1.0, f64::max);
    let mut adapters: Vec<&str> = Vec::new();
    for point in points {
        if !adapters.contains(&point.adapter) {
            adapters.push(point.adapter);
        }
    }
    let series: [(&str, Measure); 3] = [
        ("transactions per second", |p| p.per_second),
        ("resident memory (MiB)", |p| p.rss_mib),
        ("connections to the server", |p| p.connections),
    ];
    for (panel, (title, value)) in panels.iter().zip(series) {
        let top = points.iter().map(value).fold(1.0, f64::max) * 1.15;
        let mut chart = ChartBuilder::on(panel)
            .caption(title, ("sans-serif", 20))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..end, 0.0..top)
            .map_err(|e| text(&e))?;
        chart
            .configure_mesh()
            .x_desc("seconds")
            .draw()
            .map_err(|e| text(&e))?;
        for (index, adapter) in adapters.iter().enumerate() {
            let colour = COLOURS[index % COLOURS.len()];
            chart
                .draw_series(LineSeries::new(
                    points
                        .iter()
                        .filter(|p| p.adapter == *adapter)
                        .map(|p| (p.elapsed, value(p))),
                    colour.stroke_width(2),
                ))
                .map_err(|e| text(&e))?
                .label(*adapter)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| text(&e))?;
    }
    root.present().map_err(|e| text(&e))
}
