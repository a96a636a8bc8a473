//! Shared by the workspace's criterion benches (included with `#[path]`): reads criterion's
//! medians back and prints each operation as a ratio to the raw signature operations it contains.
#![allow(dead_code)] // each bench uses a subset

use std::path::PathBuf;

/// Criterion's median estimate, in nanoseconds, for `group/function`.
pub(crate) fn median_ns(id: &str) -> Option<f64> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let text = std::fs::read_to_string(target.join("criterion").join(id).join("new/estimates.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["median"]["point_estimate"].as_f64()
}

/// One row: an operation and the raw signature operations it contains (its floor is their sum;
/// an SD-JWT verify contains two signature checks).
pub(crate) struct Ratio<'a> {
    pub(crate) operation: &'a str,
    pub(crate) floors: &'a [&'a str],
}

/// Prints the ratio table for the rows whose medians exist.
pub(crate) fn print_ratios(rows: &[Ratio<'_>]) {
    println!("\nRatios to the raw signature floor (median / sum of the floor medians):");
    println!("{:<40} {:>10} {:>10} {:>8}   floor", "operation", "µs", "floor µs", "ratio");
    for row in rows {
        let floors: Option<Vec<f64>> = row.floors.iter().map(|f| median_ns(f)).collect();
        if let (Some(op), Some(floors)) = (median_ns(row.operation), floors) {
            let floor: f64 = floors.iter().sum();
            println!(
                "{:<40} {:>10.2} {:>10.2} {:>7.2}×   {}",
                row.operation,
                op / 1000.0,
                floor / 1000.0,
                op / floor,
                row.floors.join(" + ")
            );
        }
    }
}

/// The ratio `operation / floor` measured by interleaving: `rounds` times, `iterations` calls
/// of `floor` then `iterations` calls of `operation`, each timed; the result is the median of
/// the per-round ratios. On a shared machine whose speed drifts between criterion's separate
/// measurement windows, pairing each operation sample with a floor sample taken a moment
/// earlier cancels most of the drift.
pub(crate) fn interleaved_ratio(
    name: &str,
    mut operation: impl FnMut(),
    mut floor: impl FnMut(),
    rounds: usize,
    iterations: usize,
) -> f64 {
    let mut ratios = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = std::time::Instant::now();
        for _ in 0..iterations {
            floor();
        }
        let floor_time = start.elapsed().as_secs_f64();
        let start = std::time::Instant::now();
        for _ in 0..iterations {
            operation();
        }
        ratios.push(start.elapsed().as_secs_f64() / floor_time);
    }
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2];
    let (low, high) = (ratios[ratios.len() / 10], ratios[ratios.len() * 9 / 10]);
    println!("{name:<40} interleaved ratio {median:>5.2}×  (10th–90th percentile {low:.2}–{high:.2}, {rounds} rounds)");
    median
}
