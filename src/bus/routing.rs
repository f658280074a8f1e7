//! Which department needs which event types: the routing table behind the department consumers.
//!
//! A routing file is JSON (the workspace already depends on `serde_json`; no TOML parser is
//! needed for a map of lists):
//!
//! ```json
//! { "departments": { "production": ["order_approved", "order_changed"], "finance": ["order_received"] } }
//! ```
//!
//! Departments are the words of [`DEPARTMENTS`]; event types are names from the event table
//! (`orderflow_schemas::EVENT_TYPES`). A file that names an unknown department or event type, lists
//! no department, or gives a department no event type is refused with an error that names what is
//! wrong. A file replaces the default table as a whole.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use orderflow_schemas::event_type_by_name;
use serde::Deserialize;
use thiserror::Error;

/// Every department a routing table may name.
pub const DEPARTMENTS: &[&str] = &[
    "sales",
    "production",
    "procurement",
    "finance",
    "warehouse",
    "logistics",
    "quality",
    "customer_service",
];

/// Bytes of a routing file read at most.
pub const ROUTING_FILE_BYTES_MAX: u64 = 1024 * 1024;

/// The default table: department -> event types it needs.
const DEFAULT_ROUTES: &[(&str, &[&str])] = &[
    (
        "production",
        &["order_approved", "order_changed", "order_cancelled", "production_scheduled", "quality_inspected"],
    ),
    ("procurement", &["order_approved", "order_changed", "order_cancelled"]),
    ("finance", &["order_received", "order_approved", "order_signed", "order_cancelled", "order_refused"]),
    ("warehouse", &["order_approved", "order_changed", "order_cancelled", "order_shipped"]),
    (
        "logistics",
        &[
            "order_approved",
            "production_completed",
            "order_shipped",
            "shipment_delayed",
            "order_delivered",
            "order_cancelled",
        ],
    ),
    ("quality", &["quality_inspected", "complaint_opened", "complaint_resolved", "complaint_reopened"]),
    (
        "customer_service",
        &[
            "order_signed",
            "order_refused",
            "complaint_opened",
            "complaint_resolved",
            "complaint_reopened",
            "feedback_recorded",
        ],
    ),
];

/// Why a routing file was refused.
#[derive(Debug, Error)]
pub enum RoutingError {
    /// The file could not be read.
    #[error("cannot read routing file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than [`ROUTING_FILE_BYTES_MAX`].
    #[error("routing file {path} has {bytes} bytes (routing_file_bytes_max = {ROUTING_FILE_BYTES_MAX})")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        bytes: u64,
    },
    /// The text is not JSON of the expected shape.
    #[error(
        "routing file {origin} is not of the form {{\"departments\": {{\"<department>\": [\"<event type>\", ...]}}}}: {detail}"
    )]
    Syntax {
        /// Where the text came from.
        origin: String,
        /// What the JSON parser said.
        detail: String,
    },
    /// Event type names not in the event table.
    #[error("routing file {origin} names unknown event types: {}; known types: {}", pairs(.unknown), known_types())]
    UnknownEventTypes {
        /// Where the text came from.
        origin: String,
        /// `(department, event type)` of each unknown name.
        unknown: Vec<(String, String)>,
    },
    /// Departments not in [`DEPARTMENTS`].
    #[error("routing file {origin} names unknown departments: {}; known departments: {}", .unknown.join(", "), DEPARTMENTS.join(", "))]
    UnknownDepartments {
        /// Where the text came from.
        origin: String,
        /// The unknown names.
        unknown: Vec<String>,
    },
    /// A department with an empty list.
    #[error("routing file {origin} gives departments no event type: {}", .departments.join(", "))]
    EmptyDepartments {
        /// Where the text came from.
        origin: String,
        /// The departments with empty lists.
        departments: Vec<String>,
    },
    /// No department at all.
    #[error("routing file {origin} lists no department")]
    NoDepartment {
        /// Where the text came from.
        origin: String,
    },
}

fn pairs(p: &[(String, String)]) -> String {
    p.iter().map(|(d, t)| format!("'{t}' ({d})")).collect::<Vec<_>>().join(", ")
}

fn known_types() -> String {
    orderflow_schemas::EVENT_TYPES.iter().map(|t| t.name).collect::<Vec<_>>().join(", ")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoutingFile {
    departments: BTreeMap<String, Vec<String>>,
}

/// Department -> the event type names it needs.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct RoutingTable {
    departments: BTreeMap<String, BTreeSet<&'static str>>,
}

impl Default for RoutingTable {
    fn default() -> Self {
        let departments = DEFAULT_ROUTES
            .iter()
            .map(|(d, types)| {
                let names = types
                    .iter()
                    .map(|t| event_type_by_name(t).map(|ty| ty.name).unwrap_or("unknown"))
                    .collect();
                (d.to_string(), names)
            })
            .collect();
        Self { departments }
    }
}

impl RoutingTable {
    /// Parses and validates a routing file's text; `origin` names it in errors.
    pub fn from_json_str(text: &str, origin: &str) -> Result<Self, RoutingError> {
        let file: RoutingFile = serde_json::from_str(text)
            .map_err(|e| RoutingError::Syntax { origin: origin.to_string(), detail: e.to_string() })?;
        if file.departments.is_empty() {
            return Err(RoutingError::NoDepartment { origin: origin.to_string() });
        }
        let unknown_departments: Vec<String> =
            file.departments.keys().filter(|d| !DEPARTMENTS.contains(&d.as_str())).cloned().collect();
        if !unknown_departments.is_empty() {
            return Err(RoutingError::UnknownDepartments {
                origin: origin.to_string(),
                unknown: unknown_departments,
            });
        }
        let mut unknown_types = Vec::new();
        let mut empty = Vec::new();
        let mut departments = BTreeMap::new();
        for (department, types) in &file.departments {
            if types.is_empty() {
                empty.push(department.clone());
            }
            let mut names = BTreeSet::new();
            for t in types {
                match event_type_by_name(t) {
                    Some(ty) => {
                        names.insert(ty.name);
                    }
                    None => unknown_types.push((department.clone(), t.clone())),
                }
            }
            departments.insert(department.clone(), names);
        }
        if !unknown_types.is_empty() {
            return Err(RoutingError::UnknownEventTypes {
                origin: origin.to_string(),
                unknown: unknown_types,
            });
        }
        if !empty.is_empty() {
            return Err(RoutingError::EmptyDepartments { origin: origin.to_string(), departments: empty });
        }
        Ok(Self { departments })
    }

    /// Reads a routing file (at most [`ROUTING_FILE_BYTES_MAX`] bytes).
    pub fn load(path: &Path) -> Result<Self, RoutingError> {
        let read_err = |source| RoutingError::Read { path: path.to_path_buf(), source };
        let bytes = std::fs::metadata(path).map_err(read_err)?.len();
        if bytes > ROUTING_FILE_BYTES_MAX {
            return Err(RoutingError::TooLarge { path: path.to_path_buf(), bytes });
        }
        let text = std::fs::read_to_string(path).map_err(read_err)?;
        Self::from_json_str(&text, &path.display().to_string())
    }

    /// The departments, in name order.
    pub fn departments(&self) -> impl Iterator<Item = &str> {
        self.departments.keys().map(String::as_str)
    }

    /// The event types a department needs; `None` for a department not in the table.
    pub fn event_types(&self, department: &str) -> Option<&BTreeSet<&'static str>> {
        self.departments.get(department)
    }

    /// Whether a department needs an event type.
    pub fn wants(&self, department: &str, event_type: &str) -> bool {
        self.departments.get(department).is_some_and(|t| t.contains(event_type))
    }

    /// The table as routing-file JSON (what [`RoutingTable::from_json_str`] reads back).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "departments": self.departments })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn departments_are_role_words() {
        for d in DEPARTMENTS {
            assert!(d.parse::<orderflow_schemas::Role>().is_ok(), "{d} is not a role");
        }
    }

    #[test]
    fn default_table_names_only_known_types() {
        let t = RoutingTable::default();
        assert!(t.departments.values().flatten().all(|n| *n != "unknown"));
        let text = t.to_json().to_string();
        assert_eq!(RoutingTable::from_json_str(&text, "default").expect("round trip"), t);
    }
}
