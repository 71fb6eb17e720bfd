//! Medians, ranges and per-round ratios; the results files.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use crate::install::Prepared;
use crate::run::{Sample, Server};
use crate::{Counts, PEERS, Peer, Workload};

/// A round: the peers' order in it and the load average at its start and end.
#[derive(serde::Serialize)]
pub(crate) struct Round {
    pub(crate) round: u32,
    pub(crate) order: Vec<&'static str>,
    pub(crate) load_start: [f64; 3],
    pub(crate) load_end: [f64; 3],
}

/// Median, lowest and highest of a set of numbers (NaN when empty).
#[derive(serde::Serialize, Clone, Copy)]
pub(crate) struct Spread {
    pub(crate) median: f64,
    pub(crate) min: f64,
    pub(crate) max: f64,
}

impl Spread {
    fn of(mut values: Vec<f64>) -> Spread {
        values.retain(|v| v.is_finite());
        if values.is_empty() {
            return Spread {
                median: f64::NAN,
                min: f64::NAN,
                max: f64::NAN,
            };
        }
        values.sort_by(f64::total_cmp);
        let n = values.len();
        let median = if n % 2 == 1 {
            values[n / 2]
        } else {
            (values[n / 2 - 1] + values[n / 2]) / 2.0
        };
        Spread {
            median,
            min: values[0],
            max: values[n - 1],
        }
    }
}

/// One peer on one workload over all rounds.
#[derive(serde::Serialize)]
pub(crate) struct Summary {
    pub(crate) peer: &'static str,
    pub(crate) workload: &'static str,
    /// Successful runs.
    pub(crate) runs: usize,
    /// Units per second (for `connect`: wall milliseconds).
    pub(crate) throughput: Spread,
    /// CPU µs per unit (for `connect`: CPU milliseconds).
    pub(crate) cpu: Spread,
    /// Peak resident memory, MiB.
    pub(crate) peak_rss_mib: Spread,
    /// This peer's throughput over the reference's, per round.
    pub(crate) throughput_ratio: Spread,
    /// This peer's CPU per unit over the reference's, per round.
    pub(crate) cpu_ratio: Spread,
    pub(crate) peak_rss_ratio: Spread,
}

pub(crate) fn summarize(
    samples: &[Sample],
    peers: &[&Peer],
    workloads: &[&Workload],
    reference: &str,
) -> Vec<Summary> {
    let mut out = Vec::new();
    for workload in workloads {
        for peer in peers {
            let ok: Vec<&Sample> = samples
                .iter()
                .filter(|s| s.peer == peer.id && s.workload == workload.id && s.error.is_none())
                .collect();
            let ratio = |metric: fn(&Sample) -> f64| {
                Spread::of(
                    ok.iter()
                        .filter_map(|s| {
                            let base = samples.iter().find(|r| {
                                r.peer == reference
                                    && r.workload == s.workload
                                    && r.round == s.round
                                    && r.error.is_none()
                            })?;
                            Some(metric(s) / metric(base))
                        })
                        .collect(),
                )
            };
            let rss = |s: &Sample| s.peak_rss_kib as f64 / 1024.0;
            out.push(Summary {
                peer: peer.id,
                workload: workload.id,
                runs: ok.len(),
                throughput: Spread::of(ok.iter().map(|s| s.throughput()).collect()),
                cpu: Spread::of(ok.iter().map(|s| s.cpu_per_unit()).collect()),
                peak_rss_mib: Spread::of(ok.iter().map(|s| rss(s)).collect()),
                throughput_ratio: ratio(Sample::throughput),
                cpu_ratio: ratio(Sample::cpu_per_unit),
                peak_rss_ratio: ratio(rss),
            });
        }
    }
    out
}

/// A peer as the results describe it.
#[derive(serde::Serialize)]
pub(crate) struct PeerInfo {
    id: &'static str,
    label: &'static str,
    language: &'static str,
    versions: Vec<(String, String)>,
    /// Why the peer did not run, if it did not.
    missing: Option<String>,
}

/// What ran where.
#[derive(serde::Serialize)]
pub(crate) struct Meta {
    date: String,
    command: String,
    quick: bool,
    machine: String,
    cores: usize,
    memory: String,
    kernel: String,
    server: String,
    reference: &'static str,
    counts: Counts,
    cpu_measure: &'static str,
    jit_warmup: String,
    peers: Vec<PeerInfo>,
}

fn line_of(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn proc_field(file: &str, key: &str) -> String {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_owned())
        .unwrap_or_default()
}

impl Meta {
    pub(crate) fn collect(
        quick: bool,
        command: &str,
        counts: &Counts,
        server: &Server,
        prepared: &[(&Peer, Prepared)],
        missing: &[(&Peer, String)],
    ) -> Meta {
        let peers = PEERS
            .iter()
            .filter_map(|peer| {
                if let Some((_, p)) = prepared.iter().find(|(p, _)| p.id == peer.id) {
                    Some((peer, p.versions.clone(), None))
                } else {
                    missing
                        .iter()
                        .find(|(p, _)| p.id == peer.id)
                        .map(|(_, reason)| (peer, Vec::new(), Some(reason.clone())))
                }
            })
            .map(|(peer, versions, missing)| PeerInfo {
                id: peer.id,
                label: peer.label,
                language: peer.language,
                versions,
                missing,
            })
            .collect();
        Meta {
            date: line_of("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
            command: command.to_owned(),
            quick,
            machine: proc_field("/proc/cpuinfo", "model name"),
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
            memory: proc_field("/proc/meminfo", "MemTotal"),
            kernel: line_of("uname", &["-sr"]),
            server: format!("{} at {}", server.version(), server.uri),
            reference: crate::REFERENCE,
            counts: *counts,
            cpu_measure: "user + system CPU of the client process from wait4 (the reaped child's \
                          rusage, µs), less the process's own getrusage at the start of the \
                          measured phase; peak RSS is the process's VmHWM",
            jit_warmup: format!(
                "Java and Node get {}x the warm-up of the others (queries, streams, seconds) so \
                 that their JIT compilers reach steady state before the measured phase",
                counts.jit_warmup_factor
            ),
            peers,
        }
    }
}

pub(crate) fn write(
    out: &Path,
    meta: &Meta,
    rounds: &[Round],
    samples: &[Sample],
    summary: &[Summary],
) -> Result<(), String> {
    let json = serde_json::json!({
        "meta": meta,
        "rounds": rounds,
        "summary": summary,
        "samples": samples,
    });
    let write = |name: &str, text: String| {
        std::fs::write(out.join(name), text)
            .map_err(|e| format!("writing {}: {e}", out.join(name).display()))
    };
    write(
        "results.json",
        serde_json::to_string_pretty(&json).map_err(|e| e.to_string())? + "\n",
    )?;
    let mut csv = String::from(
        "round,workload,peer,units,wall_s,cpu_us,cpu_self_us,process_cpu_us,peak_rss_kib,load1,error\n",
    );
    for s in samples {
        let _ = writeln!(
            csv,
            "{},{},{},{},{:.6},{:.0},{:.0},{:.0},{},{:.2},{}",
            s.round,
            s.workload,
            s.peer,
            s.units,
            s.wall_s,
            s.cpu_us,
            s.cpu_self_us,
            s.process_cpu_us,
            s.peak_rss_kib,
            s.load1,
            s.error
                .as_deref()
                .map(|e| format!("\"{}\"", e.replace('"', "'")))
                .unwrap_or_default()
        );
    }
    write("samples.csv", csv)?;
    write(
        "results.md",
        markdown(
            meta,
            rounds,
            summary,
            &crate::WORKLOADS.iter().collect::<Vec<_>>(),
        ),
    )
}

/// Three significant digits, roughly.
fn num(v: f64) -> String {
    if !v.is_finite() {
        "–".into()
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn spread(s: &Spread) -> String {
    if s.median.is_finite() && s.min != s.max {
        format!("{} ({}–{})", num(s.median), num(s.min), num(s.max))
    } else {
        num(s.median)
    }
}

fn ratio(s: &Spread) -> String {
    if s.median.is_finite() {
        if s.min != s.max {
            format!("{:.2}× ({:.2}–{:.2})", s.median, s.min, s.max)
        } else {
            format!("{:.2}×", s.median)
        }
    } else {
        "–".into()
    }
}

/// The results as Markdown tables, one per workload, with what ran where.
pub(crate) fn markdown(
    meta: &Meta,
    rounds: &[Round],
    summary: &[Summary],
    workloads: &[&Workload],
) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "{} · {} cores · {} · {}\n\nServer: {}. Command: `{}`. {} round(s); ratios are to \
         `{}`, computed per round; medians with (min–max) over rounds. CPU: {}. {}.\n",
        meta.machine,
        meta.cores,
        meta.memory,
        meta.date,
        meta.server,
        meta.command,
        rounds.len(),
        meta.reference,
        meta.cpu_measure,
        meta.jit_warmup
    );
    for workload in workloads {
        let rows: Vec<&Summary> = summary
            .iter()
            .filter(|s| s.workload == workload.id)
            .collect();
        if rows.is_empty() {
            continue;
        }
        let (throughput, cpu) = match workload.id {
            "return1" => ("queries/s", "CPU µs/query"),
            "stream" => ("rows/s", "CPU µs/row"),
            "connect" => ("wall ms", "CPU ms"),
            _ => ("tx/s", "CPU µs/tx"),
        };
        let rss = workload.id == "stream";
        let _ = writeln!(md, "#### {}\n", workload.title(&meta.counts));
        let _ = write!(
            md,
            "| peer | {throughput} | × ref | {cpu} | × ref |{}\n|---|---:|---:|---:|---:|{}\n",
            if rss { " peak RSS MiB | × ref |" } else { "" },
            if rss { "---:|---:|" } else { "" }
        );
        for s in rows {
            let label = PEERS
                .iter()
                .find(|p| p.id == s.peer)
                .map_or(s.peer, |p| p.label);
            let _ = write!(
                md,
                "| {label} | {} | {} | {} | {} |",
                spread(&s.throughput),
                ratio(&s.throughput_ratio),
                spread(&s.cpu),
                ratio(&s.cpu_ratio)
            );
            if rss {
                let _ = write!(
                    md,
                    " {} | {} |",
                    spread(&s.peak_rss_mib),
                    ratio(&s.peak_rss_ratio)
                );
            }
            md.push('\n');
        }
        md.push('\n');
    }
    let _ = writeln!(md, "Versions:\n");
    for peer in &meta.peers {
        match &peer.missing {
            Some(reason) => {
                let reason = reason.lines().next().unwrap_or_default();
                let _ = writeln!(md, "- {}: **missing** — {reason}", peer.label);
            }
            None => {
                let versions: Vec<String> = peer
                    .versions
                    .iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect();
                let _ = writeln!(md, "- {}: {}", peer.label, versions.join(", "));
            }
        }
    }
    let _ = writeln!(md, "\nLoad average (1/5/15 min) per round, start → end:\n");
    for r in rounds {
        let _ = writeln!(
            md,
            "- round {}: {:.2}/{:.2}/{:.2} → {:.2}/{:.2}/{:.2}",
            r.round,
            r.load_start[0],
            r.load_start[1],
            r.load_start[2],
            r.load_end[0],
            r.load_end[1],
            r.load_end[2]
        );
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads_are_medians_with_ranges_of_the_finite_values() {
        let odd = Spread::of(vec![3.0, 1.0, 2.0]);
        assert_eq!((odd.median, odd.min, odd.max), (2.0, 1.0, 3.0));
        // Even counts take the mean of the middle two; failed runs (NaN) are left out.
        let even = Spread::of(vec![4.0, f64::NAN, 1.0, 2.0, 3.0]);
        assert_eq!((even.median, even.min, even.max), (2.5, 1.0, 4.0));
        assert!(Spread::of(vec![f64::NAN]).median.is_nan());
    }

    fn sample(peer: &'static str, round: u32, units: u64, wall_s: f64, cpu_us: f64) -> Sample {
        Sample {
            round,
            workload: "return1",
            peer,
            units,
            wall_s,
            cpu_us,
            cpu_self_us: cpu_us,
            process_cpu_us: cpu_us,
            peak_rss_kib: 1024,
            load1: 0.0,
            error: None,
        }
    }

    #[test]
    fn ratios_are_taken_per_round_against_the_reference() {
        let workloads: Vec<&Workload> = crate::WORKLOADS.iter().take(1).collect();
        let peers: Vec<&Peer> = PEERS.iter().take(2).collect();
        let (reference, other) = (peers[0].id, peers[1].id);
        // Round 2 is twice as slow for both: per-round ratios stay 2×, not a blend.
        let samples = vec![
            sample(reference, 1, 1000, 1.0, 10_000.0),
            sample(other, 1, 1000, 0.5, 20_000.0),
            sample(reference, 2, 1000, 2.0, 20_000.0),
            sample(other, 2, 1000, 1.0, 40_000.0),
        ];
        let summary = summarize(&samples, &peers, &workloads, reference);
        let other = summary.iter().find(|s| s.peer == other).expect("summary");
        assert_eq!(other.runs, 2);
        assert_eq!(other.throughput_ratio.min, 2.0);
        assert_eq!(other.throughput_ratio.max, 2.0);
        assert_eq!(other.cpu_ratio.median, 2.0);
        assert_eq!(other.cpu.median, 30.0, "µs per query, median of 20 and 40");
    }
}
