use driftwall::eval::{self, Direction, Program, Query, IntervalSet};
use driftwall::input::{parse_text, InputFormat};
fn cpu() -> f64 {
    let s = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
    let f: Vec<&str> = s.rsplit(')').next().unwrap().split_whitespace().collect();
    (f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap()) * 10.0
}
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let t = cpu();
    let input = parse_text(&path, &text, InputFormat::Iptables);
    println!("parse {} ms cpu {}", cpu() - t, rss());
    let q = Query { direction: Direction::Inbound, protocol: 6, src: None, dst: None, sport: None, dport: IntervalSet::single(22), iif: None, oif: None };
    let t = cpu();
    let prog = Program::compile(&input.ruleset, driftwall_parsers::model::Family::Ipv4, &q.interfaces());
    println!("compile {} ms cpu {}", cpu() - t, rss());
    let t = cpu();
    let mut n = 0;
    for _ in 0..1 { n = eval::connection::evaluate(&prog, &q.question(&prog)).len(); }
    println!("eval x5 {} ms cpu, findings {n} {}", cpu() - t, rss());
}
#[allow(dead_code)]
fn rss() -> String { std::fs::read_to_string("/proc/self/status").unwrap().lines().filter(|l| l.starts_with("VmHWM") || l.starts_with("VmRSS")).collect::<Vec<_>>().join(" ") }
