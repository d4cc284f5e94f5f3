//! A private PostgreSQL server per test, on a free port, that a test may stop and start again
//! (the shared test cluster cannot be restarted under other tests). Uses Debian's PostgreSQL
//! binaries; as root, runs them as the `postgres` user (initdb refuses root).

use std::path::PathBuf;
use std::process::{Command, Stdio};

pub struct PrivatePostgres {
    pub port: u16,
    dir: PathBuf,
    bin: PathBuf,
    as_postgres: bool,
}

/// A free port below 32768: outside the range Linux hands out to outgoing connections, so no
/// client can be sitting on it when the server starts again after a stop.
fn free_port() -> u16 {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    for _ in 0..200 {
        let port = rng.gen_range(20_000..32_000);
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port between 20000 and 32000");
}

/// Where `initdb` and `pg_ctl` live: `HEARTH_PG_BIN`, else the newest Debian install.
fn pg_bin() -> PathBuf {
    if let Some(dir) = std::env::var_os("HEARTH_PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path().join("bin"))
                .filter(|bin| bin.join("pg_ctl").exists())
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    versions.pop().unwrap_or_else(|| {
        panic!("no PostgreSQL binaries under /usr/lib/postgresql (install postgresql, or set HEARTH_PG_BIN)")
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl PrivatePostgres {
    /// Initialises a throw-away cluster (no fsync: nothing here must survive a crash) and starts it.
    pub async fn start() -> PrivatePostgres {
        let dir = std::env::temp_dir().join(format!("hearth-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let pg = PrivatePostgres {
            port: free_port(),
            dir,
            bin: pg_bin(),
            as_postgres: is_root(),
        };
        if pg.as_postgres {
            pg.run(Command::new("chown").args(["-R", "postgres"]).arg(&pg.dir));
        }
        let initdb = pg.bin.join("initdb");
        let data = pg.data();
        pg.run(pg.command(&initdb).arg("-D").arg(&data).args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ]));
        pg.resume().await;
        pg
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn command(&self, program: &std::path::Path) -> Command {
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command.current_dir("/");
            command
        } else {
            Command::new(program)
        }
    }

    fn run(&self, command: &mut Command) {
        let output = command
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
        assert!(
            output.status.success(),
            "{command:?} failed: {}\nserver log: {}",
            String::from_utf8_lossy(&output.stderr),
            std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
        );
    }

    /// The admin URL (database `postgres`).
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Creates database `name` and returns its URL.
    pub async fn create_database(&self, name: &str) -> String {
        let (client, connection) =
            tokio_postgres::connect(&self.admin_url(), tokio_postgres::NoTls)
                .await
                .unwrap_or_else(|e| panic!("cannot reach the private PostgreSQL: {e}"));
        tokio::spawn(connection);
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Starts (again) on the same port and data; `pg_ctl -w` returns once it accepts
    /// connections.
    pub async fn resume(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c fsync=off",
            self.port
        );
        self.run(
            self.command(&self.bin.join("pg_ctl"))
                .arg("-D")
                .arg(self.data())
                .args(["-o", &options, "-w", "-t", "30", "-l"])
                .arg(self.dir.join("log"))
                .arg("start"),
        );
    }

    /// Stops the server, disconnecting every client at once (`-m fast`, as a restart would).
    pub fn stop(&self) {
        self.run(
            self.command(&self.bin.join("pg_ctl"))
                .arg("-D")
                .arg(self.data())
                .args(["-m", "fast", "-w", "stop"]),
        );
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self
            .command(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
