//! Peak resident memory of this process or a child, from `/proc/<pid>/status` (Linux only).

/// The peak resident set size (`VmHWM`) in bytes, if the platform reports it.
pub fn peak_rss_bytes() -> Option<u64> {
    peak_rss_bytes_of("self")
}

/// The same for another process (`pid` as a number, or `self`).
pub fn peak_rss_bytes_of(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status_field_kib(&status, "VmHWM:").map(|kib| kib * 1024)
}

/// Resets the peak to the current RSS so the next reading covers one phase only. Writing
/// `5` to `clear_refs` does that since Linux 4.0; returns false where it is not allowed.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn status_field_kib(status: &str, field: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(field))?;
    line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_kib_fields() {
        let status = "Name:\tdes\nVmHWM:\t  12345 kB\nVmRSS:\t 100 kB\n";
        assert_eq!(status_field_kib(status, "VmHWM:"), Some(12345));
        assert_eq!(status_field_kib(status, "VmRSS:"), Some(100));
        assert_eq!(status_field_kib(status, "VmPeak:"), None);
    }

    #[test]
    fn this_process_has_a_peak_at_least_its_rss() {
        // One read, so the two figures describe the same moment.
        let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
            return;
        };
        let peak = status_field_kib(&status, "VmHWM:").unwrap();
        let rss = status_field_kib(&status, "VmRSS:").unwrap();
        assert!(peak >= rss && rss > 0, "peak {peak} kB, rss {rss} kB");
    }
}
