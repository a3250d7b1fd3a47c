//! CPU time from `/proc` (Linux only): this process's, and the whole machine's busy time.
//!
//! The bench reports both per phase. The machine's figure includes every process (a
//! PostgreSQL server's work, but also a build running beside the bench); on a machine with
//! few cores it tells whether end to end was limited by CPU rather than by waiting.

/// `/proc` counts in USER_HZ, which Linux fixes at 100 for these interfaces.
const TICKS_PER_SECOND: f64 = 100.0;

/// Seconds of CPU used so far.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CpuTimes {
    /// User and system time of this process (all threads).
    pub process: f64,
    /// Busy time of all cores together, every process included.
    pub machine: f64,
}

impl CpuTimes {
    /// Now, when the platform reports both.
    pub fn now() -> Option<Self> {
        let process = std::fs::read_to_string("/proc/self/stat").ok()?;
        let machine = std::fs::read_to_string("/proc/stat").ok()?;
        Some(Self {
            process: process_ticks(&process)? / TICKS_PER_SECOND,
            machine: machine_busy_ticks(&machine)? / TICKS_PER_SECOND,
        })
    }

    /// What was used since `earlier`.
    pub fn since(self, earlier: Self) -> Self {
        Self {
            process: (self.process - earlier.process).max(0.0),
            machine: (self.machine - earlier.machine).max(0.0),
        }
    }

    pub fn add(self, other: Self) -> Self {
        Self {
            process: self.process + other.process,
            machine: self.machine + other.machine,
        }
    }
}

/// Cores this process may run on.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `utime + stime` from `/proc/self/stat`; the command name may hold spaces and parentheses,
/// so fields are counted after its closing parenthesis (field 3 onwards).
fn process_ticks(stat: &str) -> Option<f64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12th and 13th after the name.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Busy ticks of the `cpu` line of `/proc/stat`: everything but idle and iowait (guest
/// time is already inside user time).
fn machine_busy_ticks(stat: &str) -> Option<f64> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let ticks: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .map(|t| t.parse().ok())
        .collect::<Option<_>>()?;
    let [user, nice, system, _idle, _iowait, irq, softirq, steal, ..] = ticks[..] else {
        return None;
    };
    Some(user + nice + system + irq + softirq + steal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_ticks_are_counted_after_the_command_name() {
        let stat = "4242 (des (bench) x) R 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 8 0 100 0 0";
        assert_eq!(process_ticks(stat), Some(300.0));
        assert_eq!(process_ticks("4242 (des) R 1 2"), None);
    }

    #[test]
    fn machine_busy_leaves_out_idle_and_iowait() {
        let stat = "cpu  100 5 20 9000 300 1 2 3 0 0\ncpu0 50 2 10 4500 150 0 1 1 0 0\n";
        assert_eq!(machine_busy_ticks(stat), Some(131.0));
        assert_eq!(machine_busy_ticks("cpu0 1 2 3\n"), None);
    }

    #[test]
    fn spinning_shows_in_process_and_machine_time() {
        let before = CpuTimes::now().expect("Linux reports CPU times");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut x = 0u64;
        let used = loop {
            for i in 0..1_000_000u64 {
                x = x.wrapping_mul(31).wrapping_add(i);
            }
            let used = CpuTimes::now().unwrap().since(before);
            if used.process >= 0.05 || std::time::Instant::now() > deadline {
                break used;
            }
        };
        std::hint::black_box(x);
        assert!(used.process >= 0.05, "{used:?}");
        // The machine's busy time includes ours (ticks are sampled apart, so allow one).
        assert!(used.machine >= used.process - 0.011, "{used:?}");
    }
}
