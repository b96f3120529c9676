//! TestEnv: a temp dir, a clean environment, a fake Odoo, and the real binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use fake_odoo::{FakeOdoo, FakeOptions, world};
use mysql::prelude::Queryable;

pub(crate) struct TestEnv {
    pub fake: FakeOdoo,
    pub dir: tempfile::TempDir,
    /// The PostgreSQL store's URL, when this test binary runs on PostgreSQL.
    pub pg: Option<String>,
    /// The MySQL (MariaDB) store's URL, when this test binary runs on MySQL.
    pub my: Option<String>,
}

/// Which store a test binary runs the behaviour suite on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(dead_code)] // each binary names one
pub(crate) enum Backend {
    Sqlite,
    Postgres,
    Mysql,
}

pub(crate) struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The report of a `--json` run: the envelope's `data`, whose exit code must be the run's.
    pub(crate) fn json(&self) -> serde_json::Value {
        let envelope = self.envelope();
        assert_eq!(envelope["exit_code"], self.code, "{envelope}");
        envelope["data"].clone()
    }

    /// stdout as the JSON envelope every command prints with `--json`.
    pub(crate) fn envelope(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.all()))
    }

    /// stdout and stderr together, for "never shows X" checks.
    pub(crate) fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

impl TestEnv {
    pub(crate) fn new() -> TestEnv {
        Self::with(FakeOptions::default())
    }

    pub(crate) fn with(opts: FakeOptions) -> TestEnv {
        let env = TestEnv {
            fake: FakeOdoo::start(opts).expect("fake odoo"),
            dir: tempfile::tempdir().unwrap(),
            pg: (crate::BACKEND == Backend::Postgres)
                .then(|| crate::pg_server::server().fresh_database()),
            my: (crate::BACKEND == Backend::Mysql)
                .then(|| crate::my_server::server().fresh_database()),
        };
        env.write_env(&[]);
        env
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes the `.env` pointing at the fake as admin, with `overrides` (KEY, VALUE) on top;
    /// a VALUE of "" removes the key.
    pub(crate) fn write_env(&self, overrides: &[(&str, &str)]) {
        let url = self.fake.url();
        let mut vals: Vec<(String, String)> = vec![
            ("ODOO_URL".into(), url),
            ("ODOO_DB".into(), world::DB.into()),
            ("ODOO_USERNAME".into(), world::ADMIN_LOGIN.into()),
            ("ODOO_PASSWORD".into(), world::ADMIN_PASSWORD.into()),
        ];
        for (k, v) in overrides {
            vals.retain(|(key, _)| key != k);
            if !v.is_empty() {
                vals.push((k.to_string(), v.to_string()));
            }
        }
        let text: String = vals.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        std::fs::write(self.path(".env"), text).unwrap();
    }

    /// Adds customer 1, linked to the demo's Odoo partner 9 (Deco Addict, 5 orders).
    pub(crate) fn link_deco(&self) {
        let run = self.run(&[
            "customers",
            "add",
            "--name",
            "Deco",
            "--email",
            "deco@example.com",
            "--odoo-partner-id",
            "9",
        ]);
        assert_eq!(run.code, 0, "{}", run.all());
    }

    /// Sets an Odoo order's total, as staff would by editing its lines.
    pub(crate) fn set_total(&self, odoo_id: i64, total: &str) {
        let total = rust_decimal::Decimal::from_str_exact(total).unwrap();
        self.fake.with_world(|w| w.set_order_total(odoo_id, total));
    }

    /// The portal amount stored for an Odoo order, if one is stored.
    pub(crate) fn portal_amount(&self, odoo_id: i64) -> Option<String> {
        let run = self.run(&[
            "orders",
            "show",
            "--odoo-id",
            &odoo_id.to_string(),
            "--json",
        ]);
        (run.code == 0).then(|| run.json()["total_amount"].as_str().unwrap().to_string())
    }

    /// The Odoo id of the first stored order listed.
    pub(crate) fn first_odoo_id(&self) -> i64 {
        self.run(&["orders", "list", "--no-sync", "--json"]).json()["orders"][0]["odoo_order_id"]
            .as_i64()
            .unwrap()
    }

    /// Holds the sync lock, as a running sync would (on this host or another), until the
    /// guard is dropped.
    pub(crate) fn hold_sync_lock(&self) -> LockGuard {
        if let Some(url) = &self.my {
            let mut c = my_conn(url);
            let got: Option<i64> = c
                .query_first("SELECT GET_LOCK(CONCAT('orderbridge.run.', DATABASE()), 0)")
                .unwrap()
                .flatten();
            assert_eq!(got, Some(1));
            return LockGuard::My(c);
        }
        match &self.pg {
            Some(url) => {
                let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
                c.batch_execute("SELECT pg_advisory_lock(28514, 2)")
                    .unwrap();
                LockGuard::Pg(c)
            }
            None => {
                let mut name = self.database().file_name().unwrap().to_os_string();
                name.push(".sync-amounts.lock");
                let lock = std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(self.database().with_file_name(name))
                    .unwrap();
                lock.try_lock().unwrap();
                LockGuard::File(lock)
            }
        }
    }

    /// Holds the store's write lock, as a long write transaction would, until dropped.
    pub(crate) fn hold_write_lock(&self) -> LockGuard {
        if let Some(url) = &self.my {
            let mut c = my_conn(url);
            c.query_drop(
                "START TRANSACTION; SELECT name FROM orderbridge_locks WHERE name = 'write' FOR UPDATE",
            )
            .unwrap();
            return LockGuard::My(c);
        }
        match &self.pg {
            Some(url) => {
                let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
                c.batch_execute("BEGIN; SELECT pg_advisory_xact_lock(28514, 1)")
                    .unwrap();
                LockGuard::Pg(c)
            }
            None => {
                let lock = rusqlite::Connection::open(self.database()).unwrap();
                lock.execute_batch("BEGIN EXCLUSIVE").unwrap();
                LockGuard::Sqlite(lock)
            }
        }
    }

    /// The SQLite file (tests of what only a file has).
    pub(crate) fn database(&self) -> PathBuf {
        self.path("orderbridge.db")
    }

    /// What `--database` gets: the file, or the PostgreSQL URL.
    pub(crate) fn database_arg(&self) -> String {
        match (&self.pg, &self.my) {
            (Some(url), _) | (None, Some(url)) => url.clone(),
            (None, None) => self.database().display().to_string(),
        }
    }

    /// Runs SQL on the store, whichever it is (values inlined; tests only).
    pub(crate) fn sql(&self, sql: &str) {
        if let Some(url) = &self.my {
            my_conn(url).query_drop(sql).unwrap();
            return;
        }
        match &self.pg {
            Some(url) => postgres::Client::connect(url, postgres::NoTls)
                .unwrap()
                .batch_execute(sql)
                .unwrap(),
            None => rusqlite::Connection::open(self.database())
                .unwrap()
                .execute_batch(sql)
                .unwrap(),
        }
    }

    /// The rows of a query on the store, each column as text (NULL as `None`).
    pub(crate) fn rows(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        if let Some(url) = &self.my {
            let rows: Vec<mysql::Row> = my_conn(url).query(sql).unwrap();
            return rows
                .into_iter()
                .map(|r| {
                    r.unwrap()
                        .into_iter()
                        .map(|v| match v {
                            mysql::Value::NULL => None,
                            mysql::Value::Bytes(b) => {
                                Some(String::from_utf8_lossy(&b).into_owned())
                            }
                            mysql::Value::Int(i) => Some(i.to_string()),
                            mysql::Value::UInt(u) => Some(u.to_string()),
                            other => Some(other.as_sql(true).trim_matches('\'').to_string()),
                        })
                        .collect()
                })
                .collect();
        }
        match &self.pg {
            Some(url) => {
                let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
                // The text protocol gives every column as PostgreSQL prints it.
                c.simple_query(sql)
                    .unwrap()
                    .into_iter()
                    .filter_map(|m| match m {
                        postgres::SimpleQueryMessage::Row(r) => {
                            Some((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect())
                        }
                        _ => None,
                    })
                    .collect()
            }
            None => {
                let conn = rusqlite::Connection::open(self.database()).unwrap();
                let mut st = conn.prepare(sql).unwrap();
                let n = st.column_count();
                st.query_map([], |r| {
                    (0..n)
                        .map(|i| {
                            Ok(match r.get_ref(i)? {
                                rusqlite::types::ValueRef::Null => None,
                                rusqlite::types::ValueRef::Integer(x) => Some(x.to_string()),
                                rusqlite::types::ValueRef::Real(x) => Some(x.to_string()),
                                rusqlite::types::ValueRef::Text(t) => {
                                    Some(String::from_utf8_lossy(t).into_owned())
                                }
                                rusqlite::types::ValueRef::Blob(_) => Some("<blob>".into()),
                            })
                        })
                        .collect()
                })
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap()
            }
        }
    }

    /// The first column of the first row of a query, if any (and not NULL).
    pub(crate) fn scalar(&self, sql: &str) -> Option<String> {
        self.rows(sql).into_iter().next().and_then(|r| r[0].clone())
    }

    /// Runs the binary with a clean environment, the test's .env and database.
    pub(crate) fn run(&self, args: &[&str]) -> Run {
        self.run_in(self.dir.path(), args)
    }

    pub(crate) fn run_in(&self, cwd: &Path, args: &[&str]) -> Run {
        let out = self.command(cwd, args).output().expect("run orderbridge");
        Self::collect(out)
    }

    pub(crate) fn command(&self, cwd: &Path, args: &[&str]) -> Command {
        self.command_on(cwd, &self.database_arg(), args)
    }

    /// Runs the binary on another store (`--database`), in the test's folder.
    #[allow(dead_code)]
    pub(crate) fn run_on(&self, database: &str, args: &[&str]) -> Run {
        let out = self
            .command_on(self.dir.path(), database, args)
            .output()
            .expect("run orderbridge");
        Self::collect(out)
    }

    /// Runs the binary with no `--database`: the store comes from the settings.
    #[allow(dead_code)]
    pub(crate) fn run_with_settings(&self, cwd: &Path, args: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_orderbridge"))
            .current_dir(cwd)
            .env_clear()
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_DATA_HOME", self.path("data"))
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .arg("--env-file")
            .arg(self.path(".env"))
            .args(args)
            .output()
            .expect("run orderbridge");
        Self::collect(out)
    }

    /// [`TestEnv::command`] on another store (`--database`).
    pub(crate) fn command_on(&self, cwd: &Path, database: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_orderbridge"));
        cmd.current_dir(cwd)
            .env_clear()
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_DATA_HOME", self.path("data"))
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .arg("--env-file")
            .arg(self.path(".env"))
            .arg("--database")
            .arg(database)
            .args(args);
        cmd
    }

    /// [`TestEnv::command`] as a process of another host (its claims name that host).
    #[allow(dead_code)]
    pub(crate) fn host_command(&self, host: &str, args: &[&str]) -> Command {
        let mut cmd = self.command(self.dir.path(), args);
        cmd.env("ORDERBRIDGE_HOST_ID", host)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        cmd
    }

    pub(crate) fn collect(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// A lock a test holds on the store; released when dropped.
#[allow(dead_code)]
pub(crate) enum LockGuard {
    File(std::fs::File),
    Sqlite(rusqlite::Connection),
    Pg(postgres::Client),
    My(mysql::Conn),
}

/// A session on the MySQL store, as the store's own: UTC, quoted identifiers.
fn my_conn(url: &str) -> mysql::Conn {
    let mut c = mysql::Conn::new(mysql::Opts::from_url(url).unwrap()).unwrap();
    c.query_drop(
        "SET time_zone = '+00:00'; SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@sql_mode, ''), 'ANSI_QUOTES', 'PIPES_AS_CONCAT')",
    )
    .unwrap();
    c
}
