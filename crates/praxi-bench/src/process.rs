//! Start time and memory of the real server: spawns the `praxi serve` binary on the seeded
//! database and measures spawn → first `200` of `GET /api/health/` (polled every 0.5 ms),
//! its resident set (`VmRSS` of `/proc/<pid>/status`) when idle and the peak while a
//! concurrency-16 run of a read goes against it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// The `praxi` binary: `--praxi-bin`, else next to `praxi-bench` (same target directory).
pub(crate) fn find_binary(given: Option<&Path>) -> Option<PathBuf> {
    if let Some(path) = given {
        return Some(path.to_owned());
    }
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    // Test binaries live in `target/<profile>/deps`; the binaries one level up.
    [dir.join("praxi"), dir.parent()?.join("praxi")]
        .into_iter()
        .find(|path| path.is_file())
}

/// Kilobytes of `VmRSS` of a process (`None` when not readable, e.g. not on Linux).
pub(crate) fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// A `praxi serve` child process, killed when dropped.
pub(crate) struct Served {
    child: Child,
    pub(crate) base: String,
    pub(crate) start_to_first_200: Duration,
    _data_dir: tempfile::TempDir,
}

impl Served {
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Spawns `praxi serve` on `database_url` with `secret` as its key (so tokens minted by the
/// benchmark are valid there) and waits for its first 200.
pub(crate) async fn spawn(
    binary: &Path,
    database_url: &str,
    secret: &str,
    timezone: &str,
) -> anyhow::Result<Served> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let data_dir = tempfile::tempdir()?;
    let client = reqwest::Client::builder().no_proxy().build()?;
    let base = format!("http://127.0.0.1:{port}");
    let health = format!("{base}/api/health/");
    let started = Instant::now();
    let child = Command::new(binary)
        .arg("serve")
        .env_remove("PRAXI_REDIS_URL")
        .env("DATABASE_URL", database_url)
        .env("PRAXI_SECRET_KEY", secret)
        .env("PRAXI_DATA_DIR", data_dir.path())
        .env("PRAXI_TIMEZONE", timezone)
        .env("PRAXI_BIND", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("spawning {}", binary.display()))?;
    let mut served = Served {
        child,
        base,
        start_to_first_200: Duration::ZERO,
        _data_dir: data_dir,
    };
    loop {
        if let Ok(response) = client.get(&health).send().await
            && response.status() == 200
        {
            served.start_to_first_200 = started.elapsed();
            return Ok(served);
        }
        if let Ok(Some(status)) = served.child.try_wait() {
            bail!("praxi serve exited with {status} before answering");
        }
        if started.elapsed() > Duration::from_secs(60) {
            bail!("praxi serve did not answer within 60 s");
        }
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
}

/// Samples `VmRSS` of `pid` every 5 ms until stopped; the peak in KiB.
pub(crate) struct RssSampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl RssSampler {
    pub(crate) fn start(pid: u32) -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(0));
        let (flag, max) = (stop.clone(), peak.clone());
        let task = tokio::spawn(async move {
            while !flag.load(Ordering::Relaxed) {
                if let Some(kib) = rss_kib(pid) {
                    max.fetch_max(kib, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        RssSampler { stop, peak, task }
    }

    pub(crate) async fn finish(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.task.await;
        self.peak.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn own_rss_is_readable_on_linux() {
        if cfg!(target_os = "linux") {
            let kib = super::rss_kib(std::process::id()).expect("VmRSS");
            assert!(kib > 0);
        }
    }
}
