//! The generic command handler over a toy aggregate: a counter that refuses to go above 3.

use orderflow_engine::{
    Aggregate, CommandError, CommandHandler, CommandOutcome, HandlerConfig, NewEvent, StoredEvent,
};
use uuid::Uuid;

struct Counter;

#[derive(Debug, thiserror::Error)]
#[error("counter is full")]
struct Full;

impl Aggregate for Counter {
    type State = u32;
    type Command = u32;
    type Event = u32;
    type Context = ();
    type Rejection = Full;
    fn initial(_: Uuid) -> u32 {
        0
    }
    fn decide(state: &u32, add: &u32, _: &()) -> Result<Vec<u32>, Full> {
        if state + add > 3 {
            return Err(Full);
        }
        Ok((0..*add).map(|_| 1).collect())
    }
    fn evolve(state: &mut u32, e: &u32) {
        *state += e;
    }
    fn encode(e: &u32) -> Result<NewEvent, String> {
        Ok(NewEvent { event_type: 1, schema_version: 1, payload: e.to_le_bytes().to_vec() })
    }
    fn decode(s: &StoredEvent) -> Result<u32, String> {
        Ok(u32::from_le_bytes(s.payload.as_slice().try_into().map_err(|_| "bad payload".to_string())?))
    }
}

#[tokio::test]
async fn decide_append_reject_and_deduplicate() {
    let dir = tempfile::tempdir().unwrap();
    let log = crate::open(dir.path());
    let h = CommandHandler::<Counter>::new(log.clone(), HandlerConfig::default());
    let s = Uuid::new_v4();
    let cmd = Uuid::new_v4();
    let r = h.execute(s, cmd, &2, &()).await.unwrap();
    assert!(matches!(r, CommandOutcome::Committed { ref events, .. } if events.len() == 2));
    // The same command again is refused by the rules now (2 + 2 > 3), but it already happened:
    // the first result comes back, nothing is written.
    let again = h.execute(s, cmd, &2, &()).await.unwrap();
    assert!(matches!(again, CommandOutcome::Duplicate { commit } if commit == r.commit()));
    let err = h.execute(s, Uuid::new_v4(), &2, &()).await.unwrap_err();
    assert!(matches!(err, CommandError::Rejected(Full)));
    assert_eq!(log.head(), 2);
    assert_eq!(h.load(s).unwrap(), (2, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commands_on_one_stream_retry_conflicts_and_keep_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let log = crate::open(dir.path());
    let h = std::sync::Arc::new(CommandHandler::<Counter>::new(log.clone(), HandlerConfig::default()));
    let s = Uuid::new_v4();
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let h = h.clone();
        tasks.push(tokio::spawn(async move { h.execute(s, Uuid::new_v4(), &1, &()).await }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(CommandOutcome::Committed { .. }) => ok += 1,
            Err(CommandError::Rejected(Full)) | Err(CommandError::Conflict { .. }) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(ok, 3, "exactly three increments fit");
    assert_eq!(log.head(), 3);
    // A fresh handler (empty cache) sees the same state from the log.
    let fresh = CommandHandler::<Counter>::new(log, HandlerConfig::default());
    assert_eq!(fresh.load(s).unwrap(), (3, 3));
}
