//! Regression tests for CLI bugs found by the binary tests: each failed before its fix.

use std::io::Read;
use std::process::Stdio;

use super::{orderflow, Desk, Stage};

#[test]
fn a_closed_stdout_pipe_ends_output_quietly() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Signed);
    let mut child = orderflow(desk.root())
        .args(["order", "history", &id, "--data-dir"])
        .arg(&desk.data)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Close the read end at once, as `| head -0` would.
    drop(child.stdout.take());
    let status = child.wait().expect("wait");
    let mut stderr = String::new();
    child.stderr.take().expect("stderr").read_to_string(&mut stderr).expect("read stderr");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(status.code(), Some(0), "{stderr}");
}

#[test]
fn a_lone_or_doubled_minus_is_not_a_price() {
    let desk = Desk::empty();
    for bad in ["P7:1:-", "P7:1:--5"] {
        desk.run(&["order", "receive", "--customer", "Acme", "--line", bad, "--due", "2099-01-31"])
            .failed_usage(&["is not a price"]);
    }
    assert!(!desk.data.exists(), "a usage error creates no data directory");
}

#[test]
fn malformed_change_values_are_usage_errors_naming_the_option() {
    let desk = Desk::new();
    let id = desk.order_at(Stage::Approved);
    let before = desk.head();
    let change = ["order", "change", &id, "--initiated-by", "customer", "--reason", "more"];
    desk.run(&[&change[..], &["--qty", "1:abc"]].concat()).failed_usage(&["--qty"]);
    desk.run(&[&change[..], &["--price", "1:12.345"]].concat()).failed_usage(&["--price"]);
    assert_eq!(desk.head(), before);
}

#[test]
fn reads_do_not_create_a_missing_data_directory() {
    let desk = Desk::empty();
    let order = "94e75ef0-bedb-50c2-8450-7354d813b26e";
    for args in [
        vec!["order", "show", order],
        vec!["order", "history", order],
        vec!["status"],
        vec!["kpi"],
        vec!["audit", "verify"],
        vec!["rebuild"],
    ] {
        let out = desk.run(&args);
        assert_eq!(out.code, 1, "{args:?}: {out:?}");
        assert!(out.stderr.contains("no orderflow data directory"), "{args:?}: {out:?}");
        assert!(!desk.data.exists(), "{args:?} created {}", desk.data.display());
    }
}

impl super::Out {
    /// Asserts a usage error (exit 2) whose message contains every one of `words`.
    #[track_caller]
    fn failed_usage(self, words: &[&str]) -> Self {
        assert_eq!(self.code, 2, "wrong exit code: {self:?}");
        for word in words {
            assert!(self.stderr.contains(word), "stderr does not mention {word:?}: {self:?}");
        }
        self
    }
}
