//! The business settings of a site (seed 000 四.4 "明確權限和時限"): the review limit of each
//! department, the first-response limit of a complaint, when the follow-up visit is due and how
//! long an archive is kept. They are read from `orderflow.toml` in the data directory when it is
//! there, or from the file `--config FILE` names; else the defaults
//! ([`orderflow_commands::Settings::DEFAULT`]) apply.
//!
//! ```toml
//! [review_hours]
//! production = 48
//! procurement = 24
//! finance = 24
//! warehouse = 12
//! logistics = 24
//!
//! [after_sales]
//! complaint_response_hours = 24
//! visit_after_days = 7
//!
//! [archive]
//! retention_years = 10
//! ```
//!
//! Every key is optional (a missing one keeps its default). An unknown section or key, a value
//! that is not an integer, or one out of its range is refused, naming the key and the file;
//! nothing is opened or written then.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use orderflow_commands::Settings;

use crate::app::AppError;

/// The settings file looked for in the data directory.
pub const SETTINGS_FILE: &str = "orderflow.toml";
/// Bytes a settings file may have at most.
pub const SETTINGS_FILE_BYTES_MAX: u64 = 64 * 1024;
/// Hours a review limit or a first-response limit may be at most (30 days).
pub const LIMIT_HOURS_MAX: i64 = 720;
/// Days after sign-off a follow-up visit may be due at most.
pub const VISIT_AFTER_DAYS_MAX: i64 = 365;
/// Years an archive may be kept at most.
pub const RETENTION_YEARS_MAX: i64 = 100;

/// The file `--config FILE` named, for the whole process (set once by the command line).
static CONFIG_FILE: OnceLock<PathBuf> = OnceLock::new();

/// Makes `file` the settings file of every data directory this process opens (`--config`).
pub fn use_config_file(file: PathBuf) {
    let _ = CONFIG_FILE.set(file);
}

/// Settings and where they came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loaded {
    /// The settings in force.
    pub settings: Settings,
    /// The file read; `None` = the defaults (no file).
    pub source: Option<PathBuf>,
}

impl Loaded {
    /// The defaults, from no file.
    pub fn defaults() -> Self {
        Self { settings: Settings::DEFAULT, source: None }
    }

    /// Where they came from, in words.
    pub fn source_text(&self, data_dir: &Path) -> String {
        match &self.source {
            Some(p) => p.display().to_string(),
            None => format!("defaults (no {})", data_dir.join(SETTINGS_FILE).display()),
        }
    }

    /// The JSON form: `{source, review_hours: {...}, after_sales: {...}, archive: {...}}`.
    pub fn to_json(&self) -> serde_json::Value {
        let s = &self.settings;
        let r = &s.review_hours;
        serde_json::json!({
            "source": self.source.as_ref().map(|p| p.display().to_string()),
            "review_hours": {
                "production": r.production, "procurement": r.procurement, "finance": r.finance,
                "warehouse": r.warehouse, "logistics": r.logistics,
            },
            "after_sales": {
                "complaint_response_hours": s.complaint_response_hours,
                "visit_after_days": s.visit_after_days,
            },
            "archive": { "retention_years": s.retention_years },
        })
    }

    /// The text form: one line per key, as the file spells it, then where from.
    pub fn to_text(&self, data_dir: &Path) -> String {
        let s = &self.settings;
        let r = &s.review_hours;
        let rows: [(&str, i64, &str); 8] = [
            ("review_hours.production", r.production, "hours"),
            ("review_hours.procurement", r.procurement, "hours"),
            ("review_hours.finance", r.finance, "hours"),
            ("review_hours.warehouse", r.warehouse, "hours"),
            ("review_hours.logistics", r.logistics, "hours"),
            ("after_sales.complaint_response_hours", s.complaint_response_hours, "hours"),
            ("after_sales.visit_after_days", s.visit_after_days, "days"),
            ("archive.retention_years", i64::from(s.retention_years), "years"),
        ];
        let mut out = format!("Settings in force, from {}\n", self.source_text(data_dir));
        for (key, value, unit) in rows {
            out.push_str(&format!("  {key:<38} {value:>5} {unit}\n"));
        }
        out
    }
}

/// The settings of `data_dir`: from the `--config` file when one was named (it must exist), else
/// from `orderflow.toml` in the data directory when it is there, else the defaults.
pub fn load(data_dir: &Path) -> Result<Loaded, AppError> {
    if let Some(file) = CONFIG_FILE.get() {
        return load_file(file);
    }
    // A data directory that is not one (missing, a file) has no settings: opening it says why.
    if !data_dir.is_dir() {
        return Ok(Loaded::defaults());
    }
    let file = data_dir.join(SETTINGS_FILE);
    match std::fs::symlink_metadata(&file) {
        Ok(_) => load_file(&file),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Loaded::defaults()),
        Err(e) => Err(AppError::Invalid(format!("cannot read the settings file {}: {e}", file.display()))),
    }
}

/// The settings of one file, which must exist.
pub fn load_file(file: &Path) -> Result<Loaded, AppError> {
    let cannot = |e: std::io::Error| {
        AppError::Invalid(format!("cannot read the settings file {}: {e}", file.display()))
    };
    let len = std::fs::metadata(file).map_err(cannot)?.len();
    if len > SETTINGS_FILE_BYTES_MAX {
        return Err(AppError::Invalid(format!(
            "{}: the settings file has {len} bytes (settings_file_bytes_max = {SETTINGS_FILE_BYTES_MAX})",
            file.display()
        )));
    }
    let text = std::fs::read_to_string(file).map_err(cannot)?;
    let settings = parse(&text).map_err(|e| AppError::Invalid(format!("{}: {e}", file.display())))?;
    Ok(Loaded { settings, source: Some(file.to_path_buf()) })
}

/// The sections and their keys, as the file spells them.
const KEYS: [(&str, &[&str]); 3] = [
    ("review_hours", &["production", "procurement", "finance", "warehouse", "logistics"]),
    ("after_sales", &["complaint_response_hours", "visit_after_days"]),
    ("archive", &["retention_years"]),
];

/// The settings a file's text gives (the defaults for what it leaves out); an error names the
/// key (and its line) and what is wrong.
pub fn parse(text: &str) -> Result<Settings, String> {
    let doc = toml_edit::Document::parse(text).map_err(|e| format!("not a TOML file: {e}"))?;
    let line_of = |item: &toml_edit::Item| -> String {
        item.span()
            .map(|s| format!(" (line {})", text[..s.start.min(text.len())].matches('\n').count() + 1))
            .unwrap_or_default()
    };
    let mut settings = Settings::DEFAULT;
    let root = doc.as_item().as_table_like().ok_or("the file is not a table")?;
    for (section, item) in root.iter() {
        let Some((_, known)) = KEYS.iter().find(|(s, _)| *s == section) else {
            let sections: Vec<&str> = KEYS.iter().map(|(s, _)| *s).collect();
            return Err(format!(
                "unknown key {section}{}: the sections are [{}]",
                line_of(item),
                sections.join("], [")
            ));
        };
        let table = item
            .as_table_like()
            .ok_or_else(|| format!("{section}{} must be a table ([{section}])", line_of(item)))?;
        for (key, value) in table.iter() {
            let name = format!("{section}.{key}");
            if !known.contains(&key) {
                return Err(format!(
                    "unknown key {name}{}: [{section}] has {}",
                    line_of(value),
                    known.join(", ")
                ));
            }
            let n = value.as_integer().ok_or_else(|| {
                format!("{name}{} must be a whole number, not {}", line_of(value), value.type_name())
            })?;
            let (max, unit) = match section {
                "after_sales" if key == "visit_after_days" => (VISIT_AFTER_DAYS_MAX, "days"),
                "archive" => (RETENTION_YEARS_MAX, "years"),
                _ => (LIMIT_HOURS_MAX, "hours"),
            };
            if !(1..=max).contains(&n) {
                return Err(format!("{name} = {n}{}: must be 1 to {max} {unit}", line_of(value)));
            }
            let r = &mut settings.review_hours;
            match name.as_str() {
                "review_hours.production" => r.production = n,
                "review_hours.procurement" => r.procurement = n,
                "review_hours.finance" => r.finance = n,
                "review_hours.warehouse" => r.warehouse = n,
                "review_hours.logistics" => r.logistics = n,
                "after_sales.complaint_response_hours" => settings.complaint_response_hours = n,
                "after_sales.visit_after_days" => settings.visit_after_days = n,
                "archive.retention_years" => {
                    settings.retention_years = i32::try_from(n).map_err(|_| format!("{name} is too large"))?
                }
                _ => return Err(format!("unknown key {name}")),
            }
        }
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_sets_what_it_names_and_keeps_the_rest() {
        let s =
            parse("[review_hours]\nproduction = 48\nlogistics = 6\n[after_sales]\nvisit_after_days = 14\n")
                .expect("parse");
        assert_eq!(s.review_hours.production, 48);
        assert_eq!(s.review_hours.logistics, 6);
        assert_eq!(s.review_hours.finance, Settings::DEFAULT.review_hours.finance);
        assert_eq!(s.visit_after_days, 14);
        assert_eq!(s.retention_years, Settings::DEFAULT.retention_years);
        assert_eq!(parse("").expect("empty"), Settings::DEFAULT);
    }

    #[test]
    fn bad_values_and_unknown_keys_are_refused_by_name() {
        let cases = [
            ("[review_hours]\nfinance = 0\n", "review_hours.finance = 0 (line 2): must be 1 to 720 hours"),
            ("[review_hours]\nfinance = \"24\"\n", "review_hours.finance (line 2) must be a whole number"),
            ("[review_hours]\nquality = 5\n", "unknown key review_hours.quality (line 2)"),
            ("[limits]\nx = 5\n", "unknown key limits"),
            ("review_hours = 5\n", "review_hours (line 1) must be a table"),
            (
                "[archive]\nretention_years = 1000\n",
                "archive.retention_years = 1000 (line 2): must be 1 to 100 years",
            ),
            ("[review_hours\n", "not a TOML file"),
        ];
        for (text, wanted) in cases {
            let e = parse(text).expect_err(text);
            assert!(e.contains(wanted), "{text:?}: {e}");
        }
    }
}
