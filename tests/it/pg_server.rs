//! A throwaway PostgreSQL server for the test process: `initdb` in a temporary folder,
//! started on a free loopback port, one fresh database per test. PostgreSQL refuses to run
//! as root, so under root it runs as the `postgres` user (or `nobody`). A watcher stops the
//! server and removes its folder when the test process ends, however it ends.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

pub(crate) struct PgServer {
    port: u16,
}

static SERVER: OnceLock<PgServer> = OnceLock::new();
static NEXT_DB: AtomicU32 = AtomicU32::new(1);

/// The server of this test process, started on first use.
pub(crate) fn server() -> &'static PgServer {
    SERVER.get_or_init(PgServer::start)
}

/// The folder of PostgreSQL's server programs: on PATH, or Debian's versioned folder.
fn bin(name: &str) -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(name))
        .find(|p| p.is_file());
    if let Some(p) = on_path {
        return p;
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin").join(name))
        .filter(|p| p.is_file())
        .collect();
    versions.sort();
    versions
        .pop()
        .unwrap_or_else(|| panic!("{name} not found: install PostgreSQL (.ci/run does)"))
}

/// `uid:gid` to run the server as when this process is root, else `None`.
fn unprivileged() -> Option<(String, String)> {
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return None;
    }
    for user in ["postgres", "nobody"] {
        let id = |flag: &str| {
            Command::new("id")
                .args([flag, user])
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        };
        if let (Some(u), Some(g)) = (id("-u"), id("-g")) {
            return Some((u, g));
        }
    }
    panic!("running as root, and neither a postgres nor a nobody user exists");
}

/// A command run as the server's user.
fn as_server_user(program: &Path) -> Command {
    match unprivileged() {
        Some((uid, gid)) => {
            let mut c = Command::new("setpriv");
            c.args([
                &format!("--reuid={uid}"),
                &format!("--regid={gid}"),
                "--clear-groups",
            ])
            .arg(program);
            c
        }
        None => Command::new(program),
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl PgServer {
    fn start() -> PgServer {
        let dir = std::env::temp_dir().join(format!("orderbridge-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        if let Some((uid, gid)) = unprivileged() {
            let ok = Command::new("chown")
                .arg(format!("{uid}:{gid}"))
                .arg(&dir)
                .status()
                .unwrap();
            assert!(ok.success(), "chown {}", dir.display());
        }
        let data = dir.join("data");
        let init = as_server_user(&bin("initdb"))
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "orderbridge",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ])
            .output()
            .unwrap();
        assert!(
            init.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&init.stderr)
        );
        let port = free_port();
        let pg_ctl = bin("pg_ctl");
        let started = as_server_user(&pg_ctl)
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(dir.join("server.log"))
            .arg("-o")
            .arg(format!(
                "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
                dir.display()
            ))
            .args(["-w", "start"])
            .output()
            .unwrap();
        assert!(
            started.status.success(),
            "pg_ctl start: {}{}",
            String::from_utf8_lossy(&started.stderr),
            std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
        );
        // Stops the server once this process is gone, whatever ended it.
        let watcher = format!(
            "while [ -d /proc/{pid} ]; do sleep 0.5; done; '{pg_ctl}' -D '{data}' -m immediate stop >/dev/null 2>&1; rm -rf '{dir}'",
            pid = std::process::id(),
            pg_ctl = pg_ctl.display(),
            data = data.display(),
            dir = dir.display()
        );
        let mut watch = as_server_user(Path::new("/bin/sh"));
        // Outlives this process on purpose: it is what stops the server.
        #[allow(clippy::zombie_processes)]
        let _watcher = watch
            .args(["-c", &watcher])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        PgServer { port }
    }

    pub(crate) fn url(&self, db: &str) -> String {
        format!("postgres://orderbridge@127.0.0.1:{}/{db}", self.port)
    }

    /// A new, empty database.
    pub(crate) fn fresh_database(&self) -> String {
        let name = format!("t{}", NEXT_DB.fetch_add(1, Ordering::Relaxed));
        let mut admin = postgres::Client::connect(&self.url("postgres"), postgres::NoTls).unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        self.url(&name)
    }
}
