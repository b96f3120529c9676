//! systemd units: the two scheduled syncs and `serve`. One source for what
//! `orderbridge schedule --systemd` prints and for the units the Debian package ships
//! (`schedule --systemd --packaged --write DIR` writes them at build time).

/// Where the Debian package puts things.
pub(crate) mod packaged {
    pub(crate) const EXE: &str = "/usr/bin/orderbridge";
    pub(crate) const ENV_FILE: &str = "/etc/orderbridge/orderbridge.env";
    pub(crate) const STATE_DIR: &str = "/var/lib/orderbridge";
    pub(crate) const DATABASE: &str = "/var/lib/orderbridge/orderbridge.db";
    pub(crate) const USER: &str = "orderbridge";
}

/// How the units run the program.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    /// The program and the options every unit passes (settings files, database, log).
    pub command: Vec<String>,
    pub user: Option<String>,
    pub workdir: String,
    /// The folders the service may write under `ProtectSystem=strict`.
    pub writable: Vec<String>,
    /// The package's layout: a system user whose home is the state folder, logs to the
    /// journal, the state folder made by systemd.
    pub packaged: bool,
}

impl Layout {
    /// The units as the Debian package installs them.
    pub(crate) fn packaged() -> Layout {
        Layout {
            command: vec![
                packaged::EXE.into(),
                "--env-file".into(),
                packaged::ENV_FILE.into(),
                // The journal keeps what the log file would: info and up.
                "--verbose".into(),
            ],
            user: Some(packaged::USER.into()),
            workdir: packaged::STATE_DIR.into(),
            writable: vec![packaged::STATE_DIR.into()],
            packaged: true,
        }
    }

    fn exec(&self, args: &[&str]) -> String {
        let line: Vec<String> = self
            .command
            .iter()
            .map(String::as_str)
            .chain(args.iter().copied())
            .map(quote)
            .collect();
        line.join(" ")
    }

    /// The command a unit runs, as a shell line (also cron's).
    pub(crate) fn command_line(&self, args: &[&str]) -> String {
        self.exec(args)
    }

    fn user_lines(&self) -> String {
        match &self.user {
            Some(u) if self.packaged => format!("User={u}\nGroup={u}\n"),
            Some(u) => format!("User={u}\n"),
            None => "# User= (set the account that owns the database)\n".to_string(),
        }
    }

    /// Least privilege: the service writes only its store's folder and its log's.
    fn hardening(&self) -> String {
        let mut h = String::from(
            "NoNewPrivileges=yes\nProtectSystem=strict\nPrivateTmp=yes\nPrivateDevices=yes\n\
             ProtectKernelTunables=yes\nProtectKernelModules=yes\nProtectKernelLogs=yes\n\
             ProtectControlGroups=yes\nRestrictSUIDSGID=yes\nRestrictRealtime=yes\n\
             RestrictNamespaces=yes\nLockPersonality=yes\nSystemCallArchitectures=native\n\
             RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6\nUMask=0027\n",
        );
        if self.packaged {
            // The state folder is the system user's home; nothing else of /home is needed.
            h.push_str("ProtectHome=yes\nStateDirectory=orderbridge\nStateDirectoryMode=0750\n");
        }
        if !self.writable.is_empty() {
            let dirs: Vec<String> = self.writable.iter().map(|d| quote(d)).collect();
            h.push_str(&format!("ReadWritePaths={}\n", dirs.join(" ")));
        }
        h
    }

    /// A scheduled sync's service: one run, 75 (another run holds the lock) not a failure.
    pub(crate) fn sync_service(&self, what: &str, args: &[&str]) -> String {
        format!(
            "[Unit]\nDescription=orderbridge: {what}\nDocumentation=man:orderbridge(1)\n\
             Wants=network-online.target\nAfter=network-online.target\n\n\
             [Service]\nType=oneshot\n{}WorkingDirectory={}\nExecStart={}\n\
             # 75: another sync holds the lock; not a failure. Every other non-zero exit is.\n\
             SuccessExitStatus=75\n{}",
            self.user_lines(),
            escape(&self.workdir),
            escape(&self.exec(args)),
            self.hardening()
        )
    }

    pub(crate) fn timer(name: &str, what: &str, on_calendar: &str) -> String {
        format!(
            "[Unit]\nDescription=Run {name}: {what}\nDocumentation=man:orderbridge(1)\n\n\
             [Timer]\nOnCalendar={on_calendar}\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n"
        )
    }

    /// `serve`: restarted when it fails; stopped with SIGTERM, which lets the requests under
    /// way finish.
    pub(crate) fn serve_service(&self) -> String {
        format!(
            "[Unit]\nDescription=orderbridge: Odoo's webhooks, the incremental sync and the order API\n\
             Documentation=man:orderbridge(1)\n\
             Wants=network-online.target\nAfter=network-online.target\n\n\
             [Service]\nType=exec\n{}WorkingDirectory={}\nExecStart={}\n\
             Restart=on-failure\nRestartSec=5\nTimeoutStopSec=60\n{}{}\n\
             [Install]\nWantedBy=multi-user.target\n",
            self.user_lines(),
            escape(&self.workdir),
            escape(&self.exec(&["serve"])),
            self.hardening(),
            // /run/orderbridge for the order API's unix socket (ORDERBRIDGE_API_SOCKET), a
            // folder the portal's user reaches through the service's group.
            if self.packaged {
                "RuntimeDirectory=orderbridge\nRuntimeDirectoryMode=0750\n"
            } else {
                ""
            }
        )
    }
}

/// systemd expands %-specifiers: a literal % is %%.
fn escape(s: &str) -> String {
    s.replace('%', "%%")
}

/// Quotes an argument for a shell line (and systemd's ExecStart) if it needs it.
pub(crate) fn quote(a: &str) -> String {
    if !a.is_empty()
        && a.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@".contains(c))
    {
        a.to_string()
    } else {
        format!("'{}'", a.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packaged_units_read_the_env_file_as_the_system_user() {
        let l = Layout::packaged();
        let s = l.sync_service("sync", &["orders", "sync-amounts", "--changed"]);
        assert!(s.contains(
            "ExecStart=/usr/bin/orderbridge --env-file /etc/orderbridge/orderbridge.env"
        ));
        assert!(s.contains("User=orderbridge\nGroup=orderbridge\n"));
        assert!(s.contains("ReadWritePaths=/var/lib/orderbridge\n"));
        assert!(s.contains("SuccessExitStatus=75\n"));
    }

    #[test]
    fn a_percent_in_a_path_is_escaped_for_systemd() {
        let mut l = Layout::packaged();
        l.workdir = "/srv/50%".into();
        assert!(l.serve_service().contains("WorkingDirectory=/srv/50%%\n"));
    }
}
