//! CPU time from `/proc` (Linux only): this process's, the processes in the measurement
//! (this one, the bench's emulator process and a local database server's), and the whole
//! machine's busy time.
//!
//! The bench reports them per phase. The machine's figure includes every process (a build
//! running beside the bench too), so the CPU ceiling is computed from the measured processes
//! alone: the bench names its emulator process and the database server's main process
//! ([`count_tree`]), and their CPU and their children's (a server's backends, live and
//! exited) count with this process's.

use std::sync::{Mutex, PoisonError};

/// Processes measured with this one: the emulator's, PostgreSQL's postmaster.
static COUNTED: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// Counts `pid` and its children in [`CpuTimes::measured`] from now on.
pub fn count_tree(pid: u32) {
    let mut counted = COUNTED.lock().unwrap_or_else(PoisonError::into_inner);
    if !counted.contains(&pid) {
        counted.push(pid);
    }
}

fn counted_ticks() -> f64 {
    let counted = COUNTED.lock().unwrap_or_else(PoisonError::into_inner);
    trees_ticks(&counted)
}

/// `/proc` counts in USER_HZ, which Linux fixes at 100 for these interfaces.
const TICKS_PER_SECOND: f64 = 100.0;

/// Seconds of CPU used so far.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CpuTimes {
    /// User and system time of this process (all threads).
    pub process: f64,
    /// Busy time of all cores together, every process included.
    pub machine: f64,
    /// This process and the processes named to [`count_tree`] with their children.
    pub measured: f64,
}

impl CpuTimes {
    /// Now, when the platform reports both.
    pub fn now() -> Option<Self> {
        let process = std::fs::read_to_string("/proc/self/stat").ok()?;
        let machine = std::fs::read_to_string("/proc/stat").ok()?;
        let process = process_ticks(&process)? / TICKS_PER_SECOND;
        let others = counted_ticks() / TICKS_PER_SECOND;
        Some(Self {
            process,
            machine: machine_busy_ticks(&machine)? / TICKS_PER_SECOND,
            measured: process + others,
        })
    }

    /// What was used since `earlier`.
    pub fn since(self, earlier: Self) -> Self {
        let process = (self.process - earlier.process).max(0.0);
        // The server's tree loses the ticks of a backend that exits between the two
        // readings, so its part can shrink; it never counts below nothing, nor ours below us.
        let server = (self.measured - self.process) - (earlier.measured - earlier.process);
        Self {
            process,
            machine: (self.machine - earlier.machine).max(0.0),
            measured: process + server.max(0.0),
        }
    }

    pub fn add(self, other: Self) -> Self {
        Self {
            process: self.process + other.process,
            machine: self.machine + other.machine,
            measured: self.measured + other.measured,
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

/// The fields after the command name of `/proc/<pid>/stat`.
fn stat_fields(pid: u32) -> Option<Vec<u64>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    // The state letter is the first field; the rest are numbers (ppid is index 1).
    Some(
        rest.split_whitespace()
            .skip(1)
            .map(|f| f.parse().unwrap_or(0))
            .collect(),
    )
}

/// A process's parent.
pub fn parent_of(pid: u32) -> Option<u32> {
    stat_fields(pid)?
        .first()
        .and_then(|p| u32::try_from(*p).ok())
}

/// The main process of the PostgreSQL server whose backend is `backend`, when that backend
/// is a process of this machine (not a server elsewhere or in another PID namespace).
pub fn postgres_server_of(backend: u32) -> Option<u32> {
    let comm = std::fs::read_to_string(format!("/proc/{backend}/comm")).ok()?;
    comm.starts_with("postgres").then(|| parent_of(backend))?
}

/// CPU ticks of each root (its own and its exited, reaped children's) plus its live
/// children's, found in one pass over `/proc`: a PostgreSQL server's backends are the
/// postmaster's children.
fn trees_ticks(roots: &[u32]) -> f64 {
    if roots.is_empty() {
        return 0.0;
    }
    // After the state letter: utime, stime, cutime, cstime are indexes 10..=13.
    let own: u64 = roots
        .iter()
        .filter_map(|root| Some(stat_fields(*root)?.get(10..14)?.iter().sum::<u64>()))
        .sum();
    let children: u64 = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(stat_fields)
        .filter(|f| {
            f.first()
                .is_some_and(|p| roots.iter().any(|r| u64::from(*r) == *p))
        })
        .filter_map(|f| Some(f.get(10)? + f.get(11)?))
        .sum();
    (own + children) as f64
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
    fn a_server_tree_that_lost_a_backend_never_counts_below_this_process() {
        let at = |process: f64, measured: f64| CpuTimes {
            process,
            machine: 10.0,
            measured,
        };
        let used = at(3.0, 4.0).since(at(1.0, 5.0));
        assert_eq!(used.process, 2.0);
        assert_eq!(used.measured, 2.0);
        let used = at(3.0, 6.0).since(at(1.0, 2.0));
        assert_eq!(used.measured, 4.0);
    }

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

    #[test]
    fn a_process_tree_counts_its_childrens_cpu() {
        let me = std::process::id();
        let parent = parent_of(me).expect("a parent");
        // The test runner's tree holds at least this process's CPU.
        let mine = process_ticks(&std::fs::read_to_string("/proc/self/stat").unwrap()).unwrap();
        assert!(
            trees_ticks(&[parent]) >= mine,
            "{} < {mine}",
            trees_ticks(&[parent])
        );
    }
}
