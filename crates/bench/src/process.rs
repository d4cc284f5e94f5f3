//! The server under test as a child process (the release `hearth` binary), its database, and
//! what `/proc` (and git) say about the run.

use crate::http::{request, HttpConn};
use anyhow::{bail, Context};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};
use tokio_postgres::NoTls;

/// How long the server may take to become ready.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running `hearth serve`; killed if dropped without [`ServerProcess::stop`].
pub struct ServerProcess {
    child: Child,
    pub pid: u32,
    pub base_url: String,
}

impl ServerProcess {
    /// Starts `binary serve` on a free loopback port with `env`, logging to `log`, and waits for
    /// `/readyz`.
    pub async fn start(
        binary: &Path,
        env: &[(String, String)],
        log: &Path,
    ) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let log_file = std::fs::File::create(log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        let mut command = Command::new(binary);
        command
            .arg("serve")
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("HEARTH_HOST", "127.0.0.1")
            .env("HEARTH_PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot run {}", binary.display()))?;
        let pid = child.id().context("the server exited at once")?;
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
        let ready = request("GET", "/readyz", &addr.to_string(), None, None);
        let deadline = Instant::now() + START_TIMEOUT;
        let mut conn = HttpConn::new(addr);
        loop {
            if let Some(status) = child.try_wait()? {
                bail!("the server exited with {status}; see {}", log.display());
            }
            if matches!(conn.send(&ready).await, Ok(r) if r.status == 200) {
                break;
            }
            if Instant::now() > deadline {
                bail!(
                    "the server was not ready within {START_TIMEOUT:?}; see {}",
                    log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(Self {
            child,
            pid,
            base_url: format!("http://{addr}"),
        })
    }

    /// Fails when the server is no longer running (it crashed, or something killed it).
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        match self.child.try_wait()? {
            Some(status) => bail!("the server (pid {}) exited: {status}", self.pid),
            None => Ok(()),
        }
    }

    /// Stops the server gracefully (SIGTERM), or kills it after 15 s.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        // `kill(1)` rather than libc: the workspace forbids unsafe code.
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()
            .await;
        match tokio::time::timeout(Duration::from_secs(15), self.child.wait()).await {
            Ok(status) => {
                status?;
            }
            Err(_) => {
                self.child.kill().await?;
            }
        }
        Ok(())
    }
}

/// Runs `binary migrate` with `env` (the database of `DATABASE_URL` gets Hearth's schema).
pub async fn migrate(binary: &Path, env: &[(String, String)]) -> anyhow::Result<()> {
    let status = Command::new(binary)
        .arg("migrate")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .status()
        .await
        .with_context(|| format!("cannot run {}", binary.display()))?;
    if !status.success() {
        bail!("`hearth migrate` failed ({status})");
    }
    Ok(())
}

/// The 1, 5 and 15-minute load averages, to tell how busy the machine was.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// A process's resident memory (`VmRSS` in `/proc/<pid>/status`), in bytes.
pub fn rss_bytes(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .context("no VmRSS line")?;
    let kib: u64 = line.trim().trim_end_matches("kB").trim().parse()?;
    Ok(kib * 1024)
}

/// The CPU time a process used so far, user and system (`/proc/<pid>/stat`), in seconds.
pub fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name (field 2) may hold spaces: count from the parenthesis that ends it.
    let rest = stat.rsplit_once(')').context("malformed stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15, in clock ticks (USER_HZ, 100 on Linux).
    let ticks = |i: usize| -> anyhow::Result<f64> {
        Ok(fields.get(i).context("short stat")?.parse::<u64>()? as f64)
    };
    Ok((ticks(11)? + ticks(12)?) / 100.0)
}

/// This process's soft limit on open files (`/proc/self/limits`).
pub fn open_files_limit() -> anyhow::Result<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits")?;
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .context("no open-files line in /proc/self/limits")?;
    let soft = line
        .split_whitespace()
        .nth(3)
        .context("malformed open-files line")?;
    Ok(soft.parse().unwrap_or(u64::MAX))
}

/// A database of its own for one bench run, on a PostgreSQL server reached through an admin URL.
pub struct BenchDatabase {
    admin_url: String,
    pub name: String,
    pub url: String,
}

async fn admin(url: &str) -> anyhow::Result<tokio_postgres::Client> {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .context("cannot reach PostgreSQL at the admin URL")?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// `url` with its database name replaced by `database` (query string kept).
pub fn with_database(url: &str, database: &str) -> anyhow::Result<String> {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").context("database URL has no scheme")? + 3;
    let host = base[scheme_end..].split('/').next().unwrap_or_default();
    let mut out = format!("{}{host}/{database}", &base[..scheme_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    Ok(out)
}

impl BenchDatabase {
    /// `CREATE DATABASE hearth_bench_<random>`.
    pub async fn create(admin_url: &str) -> anyhow::Result<Self> {
        let name = format!("hearth_bench_{}", uuid::Uuid::new_v4().simple());
        admin(admin_url)
            .await?
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await?;
        Ok(Self {
            admin_url: admin_url.to_owned(),
            url: with_database(admin_url, &name)?,
            name,
        })
    }

    /// Drops the database, whoever is still connected.
    pub async fn drop_now(self) -> anyhow::Result<()> {
        admin(&self.admin_url)
            .await?
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .await?;
        Ok(())
    }
}

/// The PostgreSQL a run measured against, and whether it flushes every commit: a run on a
/// database that skips fsync flatters every write, so the report says which kind it was.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PostgresSettings {
    pub version: String,
    pub fsync: String,
    pub synchronous_commit: String,
    pub full_page_writes: String,
}

impl PostgresSettings {
    /// Reads the settings of the server at `url`.
    pub async fn read(url: &str) -> anyhow::Result<Self> {
        let row = admin(url)
            .await?
            .query_one(
                "SELECT current_setting('server_version'), current_setting('fsync'), \
                 current_setting('synchronous_commit'), current_setting('full_page_writes')",
                &[],
            )
            .await
            .context("cannot read PostgreSQL's settings")?;
        Ok(Self {
            version: row.try_get(0)?,
            fsync: row.try_get(1)?,
            synchronous_commit: row.try_get(2)?,
            full_page_writes: row.try_get(3)?,
        })
    }

    /// Whether every commit waits for its write-ahead log to reach the disk.
    pub fn durable(&self) -> bool {
        self.fsync == "on" && self.synchronous_commit != "off"
    }
}

impl std::fmt::Display for PostgresSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PostgreSQL {}, fsync {}, synchronous_commit {}, full_page_writes {}",
            self.version, self.fsync, self.synchronous_commit, self.full_page_writes
        )?;
        if !self.durable() {
            f.write_str(" (not durable: write figures are higher than on a database that flushes every commit)")?;
        }
        Ok(())
    }
}

/// Removes a directory when dropped (the server's media folder, also after a failure).
pub struct RemoveOnDrop(pub PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The commit measured, with `+dirty` when the working tree has changes.
pub async fn git_commit() -> Option<String> {
    let git = |args: &'static [&'static str]| async move {
        let out = tokio::process::Command::new("git")
            .args(args)
            .output()
            .await
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let commit = git(&["rev-parse", "--short", "HEAD"]).await?;
    let dirty = git(&["status", "--porcelain"])
        .await
        .is_some_and(|s| !s.is_empty());
    Some(if dirty {
        format!("{commit}+dirty")
    } else {
        commit
    })
}

#[cfg(test)]
mod tests {
    use super::PostgresSettings;

    fn settings(fsync: &str, synchronous_commit: &str) -> PostgresSettings {
        PostgresSettings {
            version: "15.20".into(),
            fsync: fsync.into(),
            synchronous_commit: synchronous_commit.into(),
            full_page_writes: "on".into(),
        }
    }

    #[test]
    fn a_database_that_skips_flushes_is_reported_as_not_durable() {
        assert!(settings("on", "on").durable());
        // `local` and the replication levels still flush locally before a commit returns.
        assert!(settings("on", "local").durable());
        assert!(!settings("off", "on").durable());
        assert!(!settings("on", "off").durable());

        let durable = settings("on", "on").to_string();
        assert_eq!(
            durable,
            "PostgreSQL 15.20, fsync on, synchronous_commit on, full_page_writes on"
        );
        assert!(settings("off", "off").to_string().contains("(not durable"));
    }
}
