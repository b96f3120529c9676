//! `ORDERBRIDGE_DATABASE=laravel`: the database the portal's Laravel `.env` describes.

use crate::env::TestEnv;

/// The .env of a Laravel portal whose database is `db` (DB_* keys), orderbridge told to use it.
pub(crate) fn portal(db: &[(&str, &str)]) -> TestEnv {
    let env = TestEnv::new();
    let mut keys = vec![("ORDERBRIDGE_DATABASE", "laravel")];
    keys.extend_from_slice(db);
    env.write_env(&keys);
    env
}

pub(crate) fn add_customer(env: &TestEnv) {
    let cwd = tempfile::tempdir().unwrap();
    let run = env.run_with_settings(
        cwd.path(),
        &[
            "customers",
            "add",
            "--name",
            "Deco",
            "--email",
            "deco@example.com",
            "--odoo-partner-id",
            "9",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.all());
}

#[test]
fn a_relative_sqlite_database_is_the_app_folders_whatever_the_working_folder() {
    let env = portal(&[
        ("DB_CONNECTION", "sqlite"),
        ("DB_DATABASE", "database/portal.sqlite"),
    ]);
    std::fs::create_dir(env.path("database")).unwrap();
    add_customer(&env);
    assert!(env.path("database/portal.sqlite").exists());
    let elsewhere = tempfile::tempdir().unwrap();
    let list = env.run_with_settings(elsewhere.path(), &["customers", "list", "--json"]);
    assert_eq!(list.code, 0, "{}", list.all());
    assert_eq!(list.json()[0]["email"], "deco@example.com");
}

#[test]
fn config_show_says_which_of_laravels_keys_decided() {
    let env = portal(&[
        ("DB_CONNECTION", "pgsql"),
        ("DB_HOST", "db.example"),
        ("DB_DATABASE", "portal"),
        ("DB_USERNAME", "portal"),
        ("DB_PASSWORD", "p@ss:w/rd"),
    ]);
    let run = env.run_with_settings(env.dir.path(), &["config", "show", "--json"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let j = run.json();
    assert_eq!(
        j["database"], "postgres://portal:***@db.example:5432/portal",
        "{j}"
    );
    assert!(
        j["database_from"]
            .as_str()
            .unwrap()
            .contains("DB_CONNECTION=pgsql"),
        "{j}"
    );
    assert!(!run.all().contains("p@ss"), "{}", run.all());
}

#[test]
fn a_mysql_portal_is_its_db_keys_and_never_shows_its_password() {
    let env = portal(&[
        ("DB_CONNECTION", "mariadb"),
        ("DB_HOST", "db.example"),
        ("DB_DATABASE", "portal"),
        ("DB_USERNAME", "portal"),
        ("DB_PASSWORD", "Sup3r/Secret@PW"),
        ("DB_SOCKET", "/run/mysqld/mysqld.sock"),
    ]);
    let run = env.run_with_settings(env.dir.path(), &["config", "show", "--json"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(
        run.json()["database"],
        "mysql://portal:***@db.example:3306/portal?socket=/run/mysqld/mysqld.sock"
    );
    assert!(!run.all().contains("Sup3r"), "{}", run.all());
}

#[test]
fn without_db_connection_laravel_is_a_clear_settings_error() {
    let env = portal(&[]);
    let run = env.run_with_settings(env.dir.path(), &["orders", "list", "--no-sync"]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains("DB_CONNECTION is not set"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_schedule_of_a_laravel_portal_names_its_env_and_no_password() {
    let env = portal(&[
        ("DB_CONNECTION", "mysql"),
        ("DB_HOST", "db.example"),
        ("DB_DATABASE", "portal"),
        ("DB_USERNAME", "portal"),
        ("DB_PASSWORD", "Sup3rSecretPW"),
    ]);
    let run = env.run_with_settings(env.dir.path(), &["schedule", "--cron"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let env_file = env.path(".env").display().to_string();
    let jobs: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.contains("sync-amounts"))
        .collect();
    assert_eq!(jobs.len(), 2, "{}", run.stdout);
    for line in jobs {
        assert!(line.contains(&format!("--env-file {env_file}")), "{line}");
        assert!(!line.contains("--database"), "the .env says where: {line}");
    }
    assert!(!run.all().contains("Sup3rSecretPW"), "{}", run.all());
    assert!(!run.all().contains("mysql://"), "{}", run.all());
}
