//! Reads while `orderflow serve` holds the data directory: `status`, `kpi`, `order show`,
//! `order history` and the audit reads go through the service with `--nats URL`, or without it
//! through the `serve.json` the service leaves in the data directory, and print exactly what a
//! local run prints on the same data, with the same exit codes.

use super::remote::{as_env, cli, code, local_login, stderr, stdout};
use super::*;

/// Runs the CLI and asserts its exit code; returns its standard output.
async fn run_ok(env: &[(&str, &str)], args: &[&str]) -> String {
    let o = cli(args, env).await;
    assert_eq!(code(&o), 0, "orderflow {}: {}", args.join(" "), stderr(&o));
    stdout(&o)
}

/// `args` with `--data-dir DATA` (and `--nats URL`) in front.
fn with<'a>(pre: &[&'a str], args: &[&'a str]) -> Vec<&'a str> {
    pre.iter().chain(args).copied().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_through_the_service_print_what_local_reads_print() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let site = Site::new().await;
        let url = site.url();
        let work = &site.work;
        let data = site.data.clone();
        let data_s = data.to_str().expect("UTF-8").to_string();
        let serve = site.serve(&[]).await;
        // Sales over NATS and locally: its NATS user and its login.
        let mut who = site.env(Grant::Role(Role::Sales));
        who.extend(local_login(Grant::Role(Role::Sales)));
        let env = as_env(&who);
        let remote = ["--data-dir", data_s.as_str(), "--nats", url.as_str()];
        let found = ["--data-dir", data_s.as_str()];

        // serve.json: where the service listens, readable by its owner only.
        let serve_file = data.join("serve.json");
        let recorded: Value =
            serde_json::from_slice(&std::fs::read(&serve_file).expect("serve.json")).expect("JSON");
        assert_eq!(recorded["nats"], json!(url));
        assert_eq!(recorded["pid"], json!(serve.proc.pid()));
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&serve_file).expect("metadata").permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "serve.json mode {mode:o}");
        }

        // Orders written through the service (the second one without --nats: found by serve.json).
        let due = in_days(40);
        let mut orders = Vec::new();
        for (customer, pre) in [("Metro Hotels", &remote[..]), ("Acme Dairy", &found[..])] {
            let args = with(
                pre,
                &["order", "receive", "--customer", customer, "--line", "MILK-1L:10:18.90", "--due", &due],
            );
            orders.push(run_ok(&env, &args).await.trim().to_string());
        }
        let order = orders[0].clone();
        let prefix = order.replace('-', "")[..8].to_string();
        let production = site.env(Grant::Role(Role::Production));
        run_ok(&as_env(&production), &with(&remote, &["order", "approve", &prefix, "--dept", "production"]))
            .await;

        let reads: Vec<Vec<&str>> = vec![
            vec!["status"],
            vec!["status", "--customer", "metro hotels"],
            vec!["status", "--all", "--wide"],
            vec!["--json", "status"],
            vec!["kpi"],
            vec!["kpi", "--by", "channel"],
            vec!["--json", "kpi", "--by", "customer"],
            vec!["order", "show", &prefix],
            vec!["--json", "order", "show", &order],
            vec!["order", "history", &prefix],
            vec!["--json", "order", "history", &order],
            vec!["audit", "retention", &prefix],
        ];
        let mut through_service = Vec::new();
        for args in &reads {
            // A history read is recorded first: the second read also shows the first's record.
            let via_nats = super::without_recorded_reads(&run_ok(&env, &with(&remote, args)).await);
            let via_file = super::without_recorded_reads(&run_ok(&env, &with(&found, args)).await);
            assert_eq!(via_nats, via_file, "{args:?}: --nats and serve.json differ");
            through_service.push(via_nats);
        }
        assert!(through_service[1].contains("Metro Hotels"), "{}", through_service[1]);
        assert!(!through_service[1].contains("Acme Dairy"), "{}", through_service[1]);
        assert!(through_service[7].contains("customer     Metro Hotels"), "{}", through_service[7]);

        // A missing order: exit 3 through the service, as locally.
        let nobody = Uuid::new_v4().to_string();
        let missing: Vec<Vec<&str>> = vec![
            vec!["order", "show", &nobody],
            vec!["order", "history", &nobody],
            vec!["audit", "history", &nobody],
            vec!["audit", "retention", &nobody],
        ];
        let mut missing_remote = Vec::new();
        for args in &missing {
            let o = cli(&with(&remote, args), &env).await;
            assert_eq!(code(&o), 3, "{args:?}: {}", stderr(&o));
            missing_remote.push(stderr(&o));
        }
        let (status, _) = serve.stop().await;
        assert!(status.success(), "serve exited with {status}");
        assert!(!serve_file.exists(), "serve.json left behind after an orderly stop");

        // The same reads, locally on the same data: the same output.
        for (args, expected) in reads.iter().zip(&through_service) {
            let local = run_ok(&env, &with(&found, args)).await;
            assert_eq!(
                super::without_recorded_reads(&local),
                super::without_recorded_reads(expected),
                "{args:?}: local and through the service differ"
            );
        }
        for (args, expected) in missing.iter().zip(&missing_remote) {
            let o = cli(&with(&found, args), &env).await;
            assert_eq!(code(&o), 3, "{args:?}: {}", stderr(&o));
            assert_eq!(&stderr(&o), expected, "{args:?}");
        }
        // Archive reads are recorded first (each adds an event), so they come after the
        // comparison above, with the service started again.
        let serve = site.serve(&[]).await;
        // Audit history is recorded first: each run adds an access, listed by audit access.
        let audit_json = run_ok(
            &env,
            &with(&remote, &["--json", "audit", "history", &prefix, "--purpose", "annual audit"]),
        )
        .await;
        let audit_text = run_ok(&env, &with(&found, &["audit", "history", &prefix])).await;
        assert!(audit_text.contains("archive_accessed"), "{audit_text}");
        let access = run_ok(&env, &with(&remote, &["audit", "access", &prefix])).await;
        // The two audit history reads (the order history reads before were recorded too).
        assert_eq!(access.lines().filter(|l| l.contains("timeline")).count(), 2, "the two reads: {access}");
        assert!(access.starts_with("AT (UTC)"), "{access}");
        assert!(access.contains("timeline; purpose: annual audit"), "{access}");
        let replay = run_ok(&env, &with(&remote, &["audit", "replay", &prefix, "--version", "1"])).await;
        assert!(
            replay.starts_with(&format!("order {} version 1: 1 events\n", &order.replace('-', "")[..8])),
            "{replay}"
        );

        // A refused export writes nothing: an existing file without --force.
        let existing = work.path().join("exists.json");
        std::fs::write(&existing, "keep").expect("write");
        let o = cli(
            &with(&remote, &["audit", "export", &prefix, "--out", existing.to_str().expect("UTF-8")]),
            &env,
        )
        .await;
        assert_eq!(code(&o), 3, "{}", stderr(&o));
        assert!(stderr(&o).contains("already exists"), "{}", stderr(&o));
        assert_eq!(std::fs::read_to_string(&existing).expect("read"), "keep");
        let exported = work.path().join("export.json");
        let out = run_ok(
            &env,
            &with(&remote, &["audit", "export", &prefix, "--out", exported.to_str().expect("UTF-8")]),
        )
        .await;
        assert!(out.starts_with("exported "), "{out}");
        run_ok(&env, &["audit", "verify-export", exported.to_str().expect("UTF-8")]).await;
        // An edited export: exit 5 (tampered), not 1 (a failure).
        let text = std::fs::read_to_string(&exported).expect("read the export");
        assert!(text.contains("MILK-1L"), "{text}");
        let edited = work.path().join("edited.json");
        std::fs::write(&edited, text.replacen("MILK-1L", "MILK-2L", 1)).expect("write");
        let o = cli(&["audit", "verify-export", edited.to_str().expect("UTF-8")], &env).await;
        assert_eq!(code(&o), 5, "{}", stderr(&o));
        assert!(stderr(&o).contains("export damaged"), "{}", stderr(&o));
        run_ok(&env, &with(&remote, &["audit", "verify"])).await;

        let (status, _) = serve.stop().await;
        assert!(status.success(), "serve exited with {status}");
        // Audit history locally: what the service printed, plus the accesses recorded since.
        let local_json = run_ok(&env, &with(&found, &["--json", "audit", "history", &prefix])).await;
        let remote_lines: Vec<&str> = audit_json.lines().collect();
        let local_lines: Vec<&str> = local_json.lines().collect();
        assert_eq!(
            &local_lines[..remote_lines.len()],
            &remote_lines[..],
            "audit history: local and remote differ"
        );
        assert!(local_lines.len() > remote_lines.len());
    })
    .await
    .expect("test timed out");
}
