//! The closed sets of pg_datamart: load modes, VACUUM policies, run and step statuses, column
//! mapping sources, access levels. Each is defined once, here; `match`es on them are
//! exhaustive, the SQL CHECK constraints of `sql/schema.sql` and the docs' tables are tested
//! against [`Closed::ALL`].

use crate::error::{PlanError, PlanResult};
use serde::{Deserialize, Serialize};

/// A closed set of SQL-visible names.
pub trait Closed: Sized + Copy + 'static {
    /// Every member, in documentation order.
    const ALL: &'static [Self];
    /// What the set is called in messages ("mode", "vacuum_policy").
    const WHAT: &'static str;
    fn as_str(self) -> &'static str;

    /// The member named `text`, or an error naming `argument` and listing the valid names.
    fn parse(argument: &str, text: &str) -> PlanResult<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|m| m.as_str() == text)
            .ok_or_else(|| {
                PlanError::invalid_argument(
                    argument,
                    format!(
                        "unknown {} \"{text}\" (valid: {})",
                        Self::WHAT,
                        Self::names().join(", ")
                    ),
                    format!("Pass one of: {}.", Self::names().join(", ")),
                )
            })
    }

    fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|m| m.as_str()).collect()
    }

    /// `column IN ('a', 'b')`, the body of the CHECK constraint of a column holding the set.
    fn check_sql(column: &str) -> String {
        let list: Vec<String> = Self::ALL
            .iter()
            .map(|m| format!("'{}'", m.as_str()))
            .collect();
        format!("{column} IN ({})", list.join(", "))
    }
}

macro_rules! closed_set {
    ($(#[$meta:meta])* $name:ident, $what:literal, { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl Closed for $name {
            const ALL: &'static [Self] = &[$($name::$variant),+];
            const WHAT: &'static str = $what;
            fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

closed_set!(
    /// How a table's window is written.
    Mode, "mode", {
        /// Delete the window's rows for the accounts, then insert every fetched row.
        DeleteInsert => "delete_insert",
        /// Merge on the mart table's key: delete rows gone upstream, update changed rows,
        /// insert new ones.
        Upsert => "upsert",
    }
);

closed_set!(
    /// What to do when a VACUUM runs on a table about to be loaded.
    VacuumPolicy, "vacuum_policy", {
        /// Wait up to the section's vacuum_wait seconds, then load.
        Wait => "wait",
        /// Skip the table (recorded).
        Skip => "skip",
        /// Load at once.
        Proceed => "proceed",
    }
);

closed_set!(
    /// The state of a run (`dm.run.status`).
    RunStatus, "run status", {
        Running => "running",
        Succeeded => "succeeded",
        Failed => "failed",
        Skipped => "skipped",
        Cancelled => "cancelled",
    }
);

closed_set!(
    /// The state of a table of a run (`dm.run_step.status`).
    StepStatus, "step status", {
        Pending => "pending",
        Running => "running",
        Succeeded => "succeeded",
        Failed => "failed",
        Skipped => "skipped",
        Cancelled => "cancelled",
    }
);

closed_set!(
    /// Where a column mapping came from (`dm.column_map.source`).
    MappingSource, "mapping source", {
        Declared => "declared",
        Discovered => "discovered",
    }
);

closed_set!(
    /// What `dm_grant` gives a role (`dm.access.access`); each level includes the ones before it.
    Access, "access", {
        /// Reads dm_status, the run history and the configuration.
        Monitor => "monitor",
        /// Monitor, plus dm_sync, dm_resume, dm_preview and the generated procedures.
        Loader => "loader",
        /// Loader, plus every configuration function and writes to the configuration tables.
        Admin => "admin",
    }
);

impl Access {
    /// The level's rank: monitor 0, loader 1, admin 2 (levels nest in this order).
    pub fn rank(self) -> usize {
        Self::ALL
            .iter()
            .position(|a| *a == self)
            .expect("a member of ALL")
    }

    /// The level just below this one (none below monitor).
    pub fn below(self) -> Option<Access> {
        self.rank().checked_sub(1).map(|r| Self::ALL[r])
    }

    /// Whether this level includes `other` (admin includes loader includes monitor).
    pub fn includes(self, other: Access) -> bool {
        self.rank() >= other.rank()
    }
}

impl RunStatus {
    /// A run that ended badly may be resumed.
    pub fn resumable(self) -> bool {
        match self {
            RunStatus::Failed | RunStatus::Cancelled => true,
            RunStatus::Running | RunStatus::Succeeded | RunStatus::Skipped => false,
        }
    }
}

/// How a step that did not load ended: the step's status and its run's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    Failed,
    Cancelled,
}

impl Failure {
    pub fn step(self) -> StepStatus {
        match self {
            Failure::Failed => StepStatus::Failed,
            Failure::Cancelled => StepStatus::Cancelled,
        }
    }

    pub fn run(self) -> RunStatus {
        match self {
            Failure::Failed => RunStatus::Failed,
            Failure::Cancelled => RunStatus::Cancelled,
        }
    }
}
