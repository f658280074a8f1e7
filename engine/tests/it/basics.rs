use orderflow_engine::{
    AppendError, Appended, EventLog, ExpectedVersion, Limits, LogConfig, LogError, NewEvent,
};
use uuid::Uuid;

use crate::{append_req, open};

#[test]
fn appends_get_gap_free_positions_and_contiguous_versions() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let c1 = log.append_blocking(append_req(a, ExpectedVersion::NoStream, Uuid::new_v4(), 2)).unwrap();
    let c2 = log.append_blocking(append_req(b, ExpectedVersion::NoStream, Uuid::new_v4(), 1)).unwrap();
    let c3 = log.append_blocking(append_req(a, ExpectedVersion::Exact(2), Uuid::new_v4(), 3)).unwrap();
    let Appended::Committed(c1) = c1 else { panic!("{c1:?}") };
    let Appended::Committed(c2) = c2 else { panic!("{c2:?}") };
    let Appended::Committed(c3) = c3 else { panic!("{c3:?}") };
    assert_eq!((c1.first_position, c1.first_version, c1.count), (1, 1, 2));
    assert_eq!((c2.first_position, c2.first_version), (3, 1));
    assert_eq!((c3.first_position, c3.first_version, c3.last_position()), (4, 3, 6));
    assert_eq!(log.head(), 6);
    let all = log.read_from(1, 100).unwrap();
    assert_eq!(all.iter().map(|e| e.position).collect::<Vec<_>>(), vec![1, 2, 3, 4, 5, 6]);
    let sa = log.read_stream(a, 1).unwrap();
    assert_eq!(sa.iter().map(|e| e.version).collect::<Vec<_>>(), vec![1, 2, 3, 4, 5]);
    assert_eq!(log.read_stream(a, 4).unwrap().len(), 2);
    assert_eq!(log.read_from(5, 100).unwrap().first().map(|e| e.position), Some(5));
    assert_eq!(log.read_from(2, 2).unwrap().iter().map(|e| e.position).collect::<Vec<_>>(), vec![2, 3]);
    assert_eq!(log.stream_version(a).unwrap(), 5);
    assert_eq!(log.stream_version(Uuid::new_v4()).unwrap(), 0);
}

#[test]
fn stale_expected_version_is_a_conflict_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let s = Uuid::new_v4();
    log.append_blocking(append_req(s, ExpectedVersion::NoStream, Uuid::new_v4(), 1)).unwrap();
    let r = log.append_blocking(append_req(s, ExpectedVersion::Exact(0), Uuid::new_v4(), 1)).unwrap();
    assert_eq!(r, Appended::Conflict { expected: ExpectedVersion::Exact(0), actual: 1 });
    let r = log.append_blocking(append_req(s, ExpectedVersion::NoStream, Uuid::new_v4(), 1)).unwrap();
    assert!(matches!(r, Appended::Conflict { actual: 1, .. }));
    assert_eq!(log.head(), 1);
}

#[test]
fn repeated_command_id_returns_first_result_even_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let s = Uuid::new_v4();
    let cmd = Uuid::new_v4();
    let first = {
        let log = open(dir.path());
        let Appended::Committed(c) =
            log.append_blocking(append_req(s, ExpectedVersion::Any, cmd, 2)).unwrap()
        else {
            panic!()
        };
        let again = log.append_blocking(append_req(s, ExpectedVersion::Exact(0), cmd, 2)).unwrap();
        assert_eq!(again, Appended::Duplicate(c));
        log.close().unwrap();
        c
    };
    let log = open(dir.path());
    let again = log.append_blocking(append_req(s, ExpectedVersion::Any, cmd, 5)).unwrap();
    assert_eq!(again, Appended::Duplicate(first));
    assert_eq!(log.head(), 2);
    assert_eq!(log.find_command(s, cmd).unwrap(), Some(first));
}

#[test]
fn limits_are_typed_errors_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = LogConfig::new(dir.path());
    config.limits = Limits {
        events_per_append_max: 3,
        event_payload_bytes_max: 10,
        events_per_stream_max: 4,
        ..Limits::default()
    };
    let log = EventLog::open(config).unwrap();
    let s = Uuid::new_v4();
    let big = |n| NewEvent { event_type: 1, schema_version: 1, payload: vec![0; n] };
    let req = |events: Vec<NewEvent>| orderflow_engine::AppendRequest {
        stream: s,
        expected: ExpectedVersion::Any,
        command_id: Uuid::new_v4(),
        events,
    };
    assert!(
        matches!(log.append_blocking(req(vec![])), Err(AppendError::Limit(m)) if m.contains("at least one"))
    );
    assert!(
        matches!(log.append_blocking(req(vec![big(1); 4])), Err(AppendError::Limit(m)) if m.contains("events_per_append_max"))
    );
    assert!(
        matches!(log.append_blocking(req(vec![big(11)])), Err(AppendError::Limit(m)) if m.contains("event_payload_bytes_max"))
    );
    log.append_blocking(req(vec![big(1); 3])).unwrap();
    assert!(
        matches!(log.append_blocking(req(vec![big(1); 2])), Err(AppendError::Limit(m)) if m.contains("events_per_stream_max"))
    );
    assert_eq!(log.head(), 3);
}

#[test]
fn a_second_open_of_the_same_directory_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let _log = open(dir.path());
    let err = EventLog::open(LogConfig::new(dir.path())).unwrap_err();
    assert!(matches!(err, LogError::Locked { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("in use by another process") && msg.contains(&std::process::id().to_string()),
        "{msg}"
    );
}

#[test]
fn an_unknown_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    open(dir.path()).close().unwrap();
    std::fs::write(dir.path().join("FORMAT"), "orderflow-log 99\n").unwrap();
    let err = EventLog::open(LogConfig::new(dir.path())).unwrap_err();
    assert!(matches!(err, LogError::UnknownFormat { .. }), "{err}");
    assert!(err.to_string().contains("orderflow-log 99"), "{err}");
}

#[test]
fn verify_passes_on_an_intact_log_and_reports_counts() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    for i in 0..20 {
        let s = Uuid::from_u128(i % 4);
        log.append_blocking(append_req(s, ExpectedVersion::Any, Uuid::new_v4(), 1 + (i as usize % 3)))
            .unwrap();
    }
    let report = log.verify(&mut |_| {}).unwrap();
    assert_eq!(report.records, 20);
    assert_eq!(report.events, log.head());
    assert_eq!(report.streams, 4);
    assert_ne!(report.head_log_hash, [0; 32]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appenders_share_flushes_and_stay_gap_free() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let mut tasks = Vec::new();
    for t in 0..32u128 {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            let s = Uuid::from_u128(t + 1);
            for v in 0..20u64 {
                let r =
                    log.append(append_req(s, ExpectedVersion::Exact(v), Uuid::new_v4(), 1)).await.unwrap();
                assert!(matches!(r, Appended::Committed(c) if c.first_version == v + 1), "{r:?}");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(log.head(), 640);
    let all = log.read_from(1, 10_000).unwrap();
    assert!(all.iter().enumerate().all(|(i, e)| e.position == i as u64 + 1));
    log.verify(&mut |_| {}).unwrap();
}

#[tokio::test]
async fn subscribers_wake_when_the_head_moves() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let mut rx = log.subscribe();
    let writer = log.clone();
    tokio::spawn(async move {
        writer.append(append_req(Uuid::new_v4(), ExpectedVersion::Any, Uuid::new_v4(), 2)).await.unwrap();
    });
    tokio::time::timeout(std::time::Duration::from_secs(10), rx.changed()).await.unwrap().unwrap();
    assert_eq!(*rx.borrow(), 2);
}

#[test]
fn closed_log_refuses_appends() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    log.close().unwrap();
    let r = log.append_blocking(append_req(Uuid::new_v4(), ExpectedVersion::Any, Uuid::new_v4(), 1));
    assert_eq!(r, Err(AppendError::Closed));
}

#[test]
fn streams_are_found_by_any_hex_prefix_of_their_id() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let ids = [
        0xabc1_2300_0000_0000_0000_0000_0000_0001u128,
        0xabc1_2400_0000_0000_0000_0000_0000_0002,
        0xabc2_0000_0000_0000_0000_0000_0000_0003,
        0x0000_0000_0000_0000_0000_0000_0000_0004,
        0xffff_ffff_ffff_ffff_ffff_ffff_ffff_ffff,
    ];
    for (i, id) in ids.iter().enumerate() {
        // Several appends per stream: each stream is still returned once.
        let stream = Uuid::from_u128(*id);
        log.append_blocking(append_req(stream, ExpectedVersion::NoStream, Uuid::new_v4(), 1)).unwrap();
        log.append_blocking(append_req(stream, ExpectedVersion::Exact(1), Uuid::new_v4(), i + 1)).unwrap();
    }
    let found = |p: &str, max: usize| -> Vec<u128> {
        log.streams_with_prefix(p, max).unwrap().into_iter().map(|u| u.as_u128()).collect()
    };
    assert_eq!(found("abc12", 10), vec![ids[0], ids[1]]);
    assert_eq!(found("ABC123", 10), vec![ids[0]], "upper case is the same prefix");
    assert_eq!(found("abc1", 10), vec![ids[0], ids[1]]);
    assert_eq!(found("abc", 10), vec![ids[0], ids[1], ids[2]]);
    assert_eq!(found("abc", 2), vec![ids[0], ids[1]], "at most max");
    assert_eq!(found("", 10), vec![ids[3], ids[0], ids[1], ids[2], ids[4]]);
    assert_eq!(found("ffffffffffffffffffffffffffffffff", 10), vec![ids[4]], "the last id; no overflow");
    assert_eq!(found("abc3", 10), Vec::<u128>::new());
    assert_eq!(found("abz", 10), Vec::<u128>::new(), "not hex: nothing");
}
