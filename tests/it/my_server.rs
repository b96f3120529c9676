//! A throwaway MariaDB server for the test process: `mariadb-install-db` in a temporary
//! folder, `mariadbd` on a free loopback port (as the `mysql` user when this process is
//! root: it drops privileges itself), one fresh database per test, reached over TCP with a
//! password. A watcher stops the server and removes its folder when the test process ends,
//! however it ends.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub(crate) struct MyServer {
    port: u16,
    socket: PathBuf,
}

static SERVER: OnceLock<MyServer> = OnceLock::new();
static NEXT_DB: AtomicU32 = AtomicU32::new(1);

/// The tests' user and its password (the password shows that none is ever printed).
pub(crate) const USER: &str = "ob";
pub(crate) const PASSWORD: &str = "ob-Secret-pw";

/// The server of this test process, started on first use.
pub(crate) fn server() -> &'static MyServer {
    SERVER.get_or_init(MyServer::start)
}

fn program(name: &str) -> PathBuf {
    for dir in ["/usr/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/sbin"] {
        let p = Path::new(dir).join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!("{name} not found: install mariadb-server (.ci/run does)");
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl MyServer {
    fn start() -> MyServer {
        let dir = std::env::temp_dir().join(format!("orderbridge-my-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let user_args: Vec<String> = if is_root() {
            let ok = Command::new("chown")
                .args(["mysql:mysql"])
                .arg(&dir)
                .status()
                .unwrap();
            assert!(ok.success(), "chown {}", dir.display());
            vec!["--user=mysql".into()]
        } else {
            Vec::new()
        };
        let data = dir.join("data");
        let install = Command::new(program("mariadb-install-db"))
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .args(&user_args)
            .args(["--auth-root-authentication-method=normal", "--skip-test-db"])
            .output()
            .unwrap();
        assert!(
            install.status.success(),
            "mariadb-install-db: {}",
            String::from_utf8_lossy(&install.stderr)
        );
        let port = free_port();
        let socket = dir.join("mysqld.sock");
        let log = std::fs::File::create(dir.join("server.log")).unwrap();
        let server = Command::new(program("mariadbd"))
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--socket={}", socket.display()))
            .arg(format!("--port={port}"))
            .arg(format!("--pid-file={}", dir.join("mysqld.pid").display()))
            .args(&user_args)
            .args([
                "--bind-address=127.0.0.1",
                "--skip-name-resolve",
                "--skip-log-bin",
                "--innodb-flush-log-at-trx-commit=0",
                "--innodb-doublewrite=0",
                "--innodb-buffer-pool-size=128M",
                "--max-connections=500",
            ])
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let pid = server.id();
        // Stops the server once this process is gone, whatever ended it.
        let watcher = format!(
            "while [ -d /proc/{me} ]; do sleep 0.5; done; kill -9 {pid} 2>/dev/null; sleep 0.5; rm -rf '{dir}'",
            me = std::process::id(),
            dir = dir.display()
        );
        // Outlives this process on purpose: it is what stops the server.
        #[allow(clippy::zombie_processes)]
        let _watcher = Command::new("/bin/sh")
            .args(["-c", &watcher])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::mem::forget(server);
        let admin = format!("mysql://root@127.0.0.1:{port}/mysql");
        let until = Instant::now() + Duration::from_secs(30);
        let mut conn = loop {
            match mysql::Conn::new(mysql::Opts::from_url(&admin).unwrap()) {
                Ok(c) => break c,
                Err(e) if Instant::now() > until => panic!(
                    "mariadbd did not start: {e}\n{}",
                    std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
                ),
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        };
        use mysql::prelude::Queryable;
        conn.query_drop(format!(
            "CREATE USER '{USER}'@'%' IDENTIFIED BY '{PASSWORD}'; GRANT ALL ON *.* TO '{USER}'@'%'"
        ))
        .unwrap();
        MyServer { port, socket }
    }

    pub(crate) fn url(&self, db: &str) -> String {
        format!("mysql://{USER}:{PASSWORD}@127.0.0.1:{}/{db}", self.port)
    }

    /// The server's unix socket.
    #[allow(dead_code)]
    pub(crate) fn socket(&self) -> &Path {
        &self.socket
    }

    /// A new, empty database.
    pub(crate) fn fresh_database(&self) -> String {
        use mysql::prelude::Queryable;
        let name = format!("t{}", NEXT_DB.fetch_add(1, Ordering::Relaxed));
        let mut admin =
            mysql::Conn::new(mysql::Opts::from_url(&self.url("mysql")).unwrap()).unwrap();
        admin
            .query_drop(format!("CREATE DATABASE {name} CHARACTER SET utf8mb4"))
            .unwrap();
        self.url(&name)
    }
}
