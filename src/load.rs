//! Load: how fetched rows land in the mart. One interface, [`load_table`], takes a table's plan
//! and returns its counts; the mode decides the statements. Set-based only: the window's rows
//! are deleted with one statement and the fetched rows inserted with one `INSERT ... SELECT`
//! per remote query, never row by row.

use crate::error::{DmResult, SpiContext};
use crate::sqlgen::TablePlan;
use pgrx::prelude::*;

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LoadCounts {
    pub fetched: i64,
    pub deleted: i64,
    pub inserted: i64,
    pub updated: i64,
}

/// Runs the plan in the current transaction (the caller commits): delete, then insert.
pub fn load_table(plan: &TablePlan) -> DmResult<LoadCounts> {
    Spi::connect_mut(|client| {
        let deleted = client
            .update(plan.delete_sql.as_str(), None, &[])
            .doing("deleting the window")?
            .len() as i64;
        let mut inserted = 0i64;
        for sql in &plan.insert_sqls {
            inserted += client
                .update(sql.as_str(), None, &[])
                .doing("inserting fetched rows")?
                .len() as i64;
        }
        Ok(LoadCounts {
            fetched: inserted,
            deleted,
            inserted,
            updated: 0,
        })
    })
}
