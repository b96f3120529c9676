//! Customers: the portal's accounts, linked to Odoo partners.

use super::db::{Row, args};
use super::{Result, Store, StoreError, now_text};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Customer {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub odoo_partner_id: Option<i64>,
    #[serde(serialize_with = "super::rfc3339")]
    pub created_at: String,
}

const COLS: &str = "id, name, email, odoo_partner_id, created_at";

fn row(r: &Row<'_>) -> Result<Customer> {
    Ok(Customer {
        id: r.get("id")?,
        name: r.get("name")?,
        email: r.get("email")?,
        odoo_partner_id: r.get("odoo_partner_id")?,
        created_at: r.get("created_at")?,
    })
}

impl Store {
    pub(crate) fn add_customer(
        &self,
        name: &str,
        email: &str,
        odoo_partner_id: Option<i64>,
    ) -> Result<Customer> {
        if let Some(pid) = odoo_partner_id
            && let Some(other) = self.customer_by_partner(pid)?
        {
            return Err(StoreError::Conflict(format!(
                "Odoo partner {pid} is already linked to customer {} ({})",
                other.id, other.email
            )));
        }
        let now = now_text();
        let id = self.insert_id(
            &format!("INSERT INTO {} (name, email, odoo_partner_id, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)", self.customers),
            args![name, email, odoo_partner_id, now],
        )?;
        self.customer(id)
    }

    pub(crate) fn find_customer(&self, id: i64) -> Result<Option<Customer>> {
        self.first(
            &format!("SELECT {COLS} FROM {} WHERE id = ?1", self.customers),
            args![id],
            row,
        )
    }

    pub(crate) fn customer(&self, id: i64) -> Result<Customer> {
        self.find_customer(id)?
            .ok_or_else(|| StoreError::NotFound(format!("there is no customer {id}")))
    }

    /// The oldest customer with this email (compared without case).
    pub(crate) fn customer_by_email(&self, email: &str) -> Result<Option<Customer>> {
        self.first(
            &format!(
                "SELECT {COLS} FROM {} WHERE LOWER(email) = LOWER(?1) ORDER BY id LIMIT 1",
                self.customers
            ),
            args![email],
            row,
        )
    }

    pub(crate) fn customer_by_partner(&self, partner_id: i64) -> Result<Option<Customer>> {
        self.first(
            &format!(
                "SELECT {COLS} FROM {} WHERE odoo_partner_id = ?1",
                self.customers
            ),
            args![partner_id],
            row,
        )
    }

    pub(crate) fn link_customer(&self, id: i64, partner_id: i64) -> Result<Customer> {
        if let Some(other) = self.customer_by_partner(partner_id)?
            && other.id != id
        {
            return Err(StoreError::Conflict(format!(
                "Odoo partner {partner_id} is already linked to customer {}",
                other.id
            )));
        }
        let n = self.exec(
            &format!(
                "UPDATE {} SET odoo_partner_id = ?2, updated_at = ?3 WHERE id = ?1",
                self.customers
            ),
            args![id, partner_id, now_text()],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("there is no customer {id}")));
        }
        self.customer(id)
    }

    pub(crate) fn customers(&self) -> Result<Vec<Customer>> {
        self.all(
            &format!("SELECT {COLS} FROM {} ORDER BY id", self.customers),
            &[],
            row,
        )
    }
}
