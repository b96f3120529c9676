//! TestEnv: a temp dir, a clean environment, a fake Odoo, and the real binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use fake_odoo::{FakeOdoo, FakeOptions, world};

pub(crate) struct TestEnv {
    pub fake: FakeOdoo,
    pub dir: tempfile::TempDir,
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

    /// Holds the sync lock, as a running sync would, until the file is dropped.
    pub(crate) fn hold_sync_lock(&self) -> std::fs::File {
        let mut name = self.database().file_name().unwrap().to_os_string();
        name.push(".sync-amounts.lock");
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.database().with_file_name(name))
            .unwrap();
        lock.try_lock().unwrap();
        lock
    }

    pub(crate) fn database(&self) -> PathBuf {
        self.path("orderbridge.db")
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
            .arg(self.database())
            .args(args);
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
