//! (a) `orderflow --nats URL order ...` sends commands and reads to a running server, with the
//! same output and exit codes as on the data directory.

use std::process::Output;

use tokio::process::Command;

use super::*;

/// How long one CLI run may take (connect 5 s + reply 10 s at most, plus start-up).
const CLI_TIMEOUT: Duration = Duration::from_secs(40);

pub(crate) async fn cli(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env_remove("ORDERFLOW_NATS_URL").env_remove("ORDERFLOW_DATA_DIR").kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    tokio::time::timeout(CLI_TIMEOUT, cmd.output())
        .await
        .unwrap_or_else(|_| panic!("orderflow {} took longer than {CLI_TIMEOUT:?}", args.join(" ")))
        .expect("run orderflow")
}

/// `env` borrowed the way [`cli`] takes it.
pub(crate) fn as_env<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// The environment of a local run logged in as `grant`'s test person.
pub(crate) fn local_login(grant: Grant) -> Vec<(&'static str, String)> {
    let login = login_of(grant);
    vec![("ORDERFLOW_PASSWORD", password_of(&login)), ("ORDERFLOW_USER", login)]
}

pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub(crate) fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_commands_over_nats_match_the_local_path() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let site = Site::new().await;
        let url = site.url();
        let data = site.data.clone();
        let data_s = data.to_str().expect("UTF-8").to_string();
        let serve = site.serve(&[]).await;
        let due = in_days(40);
        let sales = site.env(Grant::Role(Role::Sales));
        let production = site.env(Grant::Role(Role::Production));
        let logistics = site.env(Grant::Role(Role::Logistics));
        let finance = site.env(Grant::Role(Role::Finance));
        let warehouse = site.env(Grant::Role(Role::Warehouse));

        // --nats after the subcommand; receive prints the order id.
        let o = cli(
            &[
                "order",
                "receive",
                "--customer",
                "Acme Dairy",
                "--line",
                "MILK-1L:10:18.90",
                "--due",
                &due,
                "--nats",
                &url,
            ],
            &as_env(&sales),
        )
        .await;
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let order = stdout(&o).trim().to_string();
        let order_id: orderflow_schemas::OrderId = order.parse().expect("an order id");
        let short = order_id.short();

        // --nats before the subcommand.
        let o =
            cli(&["--nats", &url, "order", "approve", &order, "--dept", "production"], &as_env(&production))
                .await;
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        assert_eq!(stdout(&o), format!("order {short}: review_approved (version 2)\n"));

        // A rejection: exit 3, the rule on stderr, as text and as JSON.
        let o =
            cli(&["--nats", &url, "order", "approve", &order, "--dept", "production"], &as_env(&production))
                .await;
        assert_eq!(code(&o), 3, "{}", stderr(&o));
        assert!(stderr(&o).contains("production has already approved revision 1"), "{}", stderr(&o));
        assert!(stdout(&o).is_empty());
        let o = cli(
            &["--nats", &url, "--json", "order", "ship", &order, "--carrier", "DHL", "--tracking", "7"],
            &as_env(&logistics),
        )
        .await;
        assert_eq!(code(&o), 3);
        let e: Value = serde_json::from_str(stderr(&o).trim()).expect("JSON error");
        assert_eq!(e["error"], json!("rejected"));
        assert!(e["message"].as_str().expect("message").contains("cannot ship"), "{e}");

        // Invalid input found by the server (an effective time in the future): exit 3.
        // (As the head of finance: only a head may enter late paperwork at all.)
        let head_finance = site.env(Grant::DeptHead(Role::Finance));
        let o = cli(
            &[
                "--nats",
                &url,
                "order",
                "approve",
                &order,
                "--dept",
                "finance",
                "--at",
                "2999-01-01",
                "--late-reason",
                "paper form",
            ],
            &as_env(&head_finance),
        )
        .await;
        assert_eq!(code(&o), 3, "{}", stderr(&o));
        assert!(stderr(&o).contains("in the future"), "{}", stderr(&o));

        // The environment variable; JSON output; a duplicate by command id.
        let with_url = |who: &[(&'static str, String)]| {
            let mut e = who.to_vec();
            e.push(("ORDERFLOW_NATS_URL", url.clone()));
            e
        };
        let env_finance = with_url(&finance);
        let env = as_env(&env_finance);
        let id = Uuid::new_v4().to_string();
        let o = cli(&["--json", "order", "approve", &order, "--dept", "finance", "--command-id", &id], &env)
            .await;
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let done: Value = serde_json::from_str(stdout(&o).trim()).expect("JSON");
        assert_eq!(done["events"], json!(["review_approved"]));
        assert_eq!((done["command"].clone(), done["command_id"].clone()), (json!("approve"), json!(id)));
        let remote_keys: Vec<String> = done.as_object().expect("object").keys().cloned().collect();
        let o = cli(&["order", "approve", &order, "--dept", "finance", "--command-id", &id], &env).await;
        assert_eq!(code(&o), 0);
        assert_eq!(
            stdout(&o),
            format!("order {short}: already done by this command id (version 3); nothing written\n")
        );

        // Reads over NATS, kept to compare with the local path.
        let reads: [&[&str]; 4] = [
            &["order", "show", &order],
            &["order", "history", &order],
            &["--json", "order", "show", &order],
            &["--json", "order", "history", &order],
        ];
        let mut remote = Vec::new();
        for args in reads {
            let o = cli(args, &env).await;
            assert_eq!(code(&o), 0, "{args:?}: {}", stderr(&o));
            remote.push(stdout(&o));
        }
        assert!(
            remote[0].contains("reviews      revision 1 waiting for procurement, warehouse"),
            "{}",
            remote[0]
        );
        // Three events, and the read itself (recorded before it is answered).
        assert_eq!(remote[1].lines().count(), 4);
        assert!(remote[1].lines().last().is_some_and(|l| l.contains("archive_accessed")), "{}", remote[1]);
        let o = cli(&["order", "show", &Uuid::new_v4().to_string()], &env).await;
        assert_eq!(code(&o), 3);
        assert!(stderr(&o).contains("does not exist"), "{}", stderr(&o));

        let (status, _) = serve.stop().await;
        assert!(status.success(), "serve exited with {status}");

        // No server: exit 1, saying so and how to retry safely (through an import a stopped
        // service shows as no reply, not as no responders).
        let env_warehouse = with_url(&warehouse);
        let o = cli(&["order", "approve", &order, "--dept", "warehouse"], &as_env(&env_warehouse)).await;
        assert_eq!(code(&o), 1, "{}", stderr(&o));
        assert!(stderr(&o).contains("no reply on orderflow.cmd.approve"), "{}", stderr(&o));
        assert!(stderr(&o).contains("retry with --command-id"), "{}", stderr(&o));

        // The local path prints the same.
        let local_sales = local_login(Grant::Role(Role::Sales));
        for (args, remote) in reads.iter().zip(&remote) {
            let mut local_args = vec!["--data-dir", data_s.as_str()];
            local_args.extend_from_slice(args);
            let o = cli(&local_args, &as_env(&local_sales)).await;
            assert_eq!(code(&o), 0, "{args:?}: {}", stderr(&o));
            assert_eq!(
                super::without_recorded_reads(&stdout(&o)),
                super::without_recorded_reads(remote),
                "{args:?}: local and remote differ"
            );
        }
        let o = cli(
            &["--data-dir", &data_s, "--json", "order", "approve", &order, "--dept", "warehouse"],
            &as_env(&local_login(Grant::Role(Role::Warehouse))),
        )
        .await;
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let local: Value = serde_json::from_str(stdout(&o).trim()).expect("JSON");
        let local_keys: Vec<String> = local.as_object().expect("object").keys().cloned().collect();
        assert_eq!(local_keys, remote_keys);

        // serve without --nats is a usage error.
        let o = cli(&["--data-dir", &data_s, "serve"], &[]).await;
        assert_eq!(code(&o), 2, "{}", stderr(&o));
        assert!(stderr(&o).contains("--nats"), "{}", stderr(&o));
    })
    .await
    .expect("test timed out");
}

/// Over NATS a person logged in with `--user` (and their password) needs no NATS user of their
/// own: the CLI connects as `<login>@<account>` of the role the command is issued in (`--role`,
/// else the command's own), with the same password. The server then vouches for that person.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_over_nats_connects_as_the_persons_user_of_the_commands_role() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let site = Site::with_grants(&[
            Grant::Role(Role::Sales),
            Grant::Role(Role::Finance),
            Grant::DeptHead(Role::Production),
        ])
        .await;
        let url = site.url();
        let serve = site.serve(&[]).await;
        let due = in_days(40);
        let sales = local_login(Grant::Role(Role::Sales));
        let o = cli(
            &[
                "--nats",
                &url,
                "order",
                "receive",
                "--customer",
                "Acme Dairy",
                "--line",
                "MILK-1L:10:18.90",
                "--due",
                &due,
            ],
            &as_env(&sales),
        )
        .await;
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let order = stdout(&o).trim().to_string();
        // The command's own role picks the account: finance@finance.
        let finance = local_login(Grant::Role(Role::Finance));
        let o = cli(
            &["--nats", &url, "--json", "order", "approve", &order, "--dept", "finance"],
            &as_env(&finance),
        )
        .await;
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        // --role picks it for a head: head-production@head_production, acting as the head.
        let head = local_login(Grant::DeptHead(Role::Production));
        let args = [
            "--nats",
            &url,
            "order",
            "approve",
            &order,
            "--dept",
            "production",
            "--role",
            "dept_head:production",
        ];
        let o = cli(&args, &as_env(&head)).await;
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        // A role the person does not hold has no NATS user: the server refuses the connection.
        let args = ["--nats", &url, "order", "approve", &order, "--dept", "warehouse", "--role", "warehouse"];
        let o = cli(&args, &as_env(&finance)).await;
        assert_eq!(code(&o), 1, "{}", stderr(&o));
        assert!(
            stderr(&o).contains("finance@warehouse"),
            "the message names the NATS user tried: {}",
            stderr(&o)
        );
        // What the server vouched for is on the events (a read names no role: its NATS user is
        // given).
        let reader = site.env(Grant::Role(Role::Sales));
        let history = cli(&["--nats", &url, "--json", "order", "history", &order], &as_env(&reader)).await;
        assert_eq!(code(&history), 0, "{}", stderr(&history));
        let actors: Vec<(String, String, bool)> = stdout(&history)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .map(|e| {
                (
                    e["actor"]["login"].as_str().unwrap_or("").to_string(),
                    e["actor"]["role"].as_str().unwrap_or("").to_string(),
                    e["actor"]["head"].as_bool().unwrap_or(false),
                )
            })
            .collect();
        assert_eq!(actors[0], ("sales".to_string(), "sales".to_string(), false));
        assert_eq!(actors[1], ("finance".to_string(), "finance".to_string(), false));
        assert_eq!(actors[2], ("head-production".to_string(), "production".to_string(), true));
        let (status, _) = serve.stop().await;
        assert!(status.success(), "serve exited with {status}");
    })
    .await
    .expect("test timed out");
}
