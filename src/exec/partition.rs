//! Partitions at load time: the planner decides which monthly partitions to create and which
//! storage parameters to set (`pg_datamart_plan::partition`); before any data moves, this runs
//! its DEFAULT-partition checks: a month the window needs whose rows sit in the DEFAULT
//! partition refuses the load, with the statements that move them.

use crate::error::{DmResult, SpiContext};
use pg_datamart_plan::partition::PartitionPlan;
use pgrx::prelude::*;

pub fn check_default(plan: &PartitionPlan) -> DmResult<()> {
    for check in &plan.default_checks {
        let rows = Spi::get_one::<i64>(&check.count_sql)
            .doing("counting rows in the DEFAULT partition")?
            .unwrap_or(0);
        if rows > 0 {
            return Err(check.refusal(rows).into());
        }
    }
    Ok(())
}
