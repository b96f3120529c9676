//! `odoo test-connection`: can we reach Odoo, log in, and work with sale orders?

use crate::error::Error;
use crate::error::{Exit, ExitStatus};
use crate::odoo::{OdooClient, Protocol};

#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct AccessRights {
    pub read: bool,
    pub create: bool,
    pub write: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct ConnectionReport {
    pub url: String,
    pub database: String,
    pub protocol: Protocol,
    pub server_version: String,
    pub uid: i64,
    pub login: String,
    /// Access rights of the user on `sale.order`.
    pub sale_order: AccessRights,
    pub round_trips: u64,
    /// Every check passed: the exit code is 0 only then.
    pub ok: bool,
}

impl Exit for ConnectionReport {
    /// 0 when every check passed, else 1.
    fn exit_status(&self) -> ExitStatus {
        if self.ok {
            ExitStatus::Ok
        } else {
            ExitStatus::Failed
        }
    }
}

pub(crate) async fn run(client: &OdooClient) -> Result<ConnectionReport, Error> {
    let session = client.session().await?.clone();
    let version = client.version().await?;
    let (uid, login) = client.whoami().await?;
    let model = "sale.order";
    let sale_order = AccessRights {
        read: client.check_access_rights(model, "read").await?,
        create: client.check_access_rights(model, "create").await?,
        write: client.check_access_rights(model, "write").await?,
    };
    Ok(ConnectionReport {
        url: client.url().to_string(),
        database: client.db().to_string(),
        protocol: session.protocol,
        server_version: version.server_version,
        uid,
        login,
        ok: sale_order.read && sale_order.create && sale_order.write,
        sale_order,
        round_trips: client.round_trips(),
    })
}
