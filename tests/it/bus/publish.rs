//! (a) A scenario is published; every department gets exactly what it needs, once, in order.

use orderflow::bus::subjects::{self, EventHeaders};
use orderflow::bus::{ConsumerPlan, RoutingTable};
use orderflow_schemas::{decode_event, event_from_json, event_type_by_code, EVENT_TYPES};

use super::scenario::append_orders;
use super::*;
use crate::support::{connect, NatsServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_reaches_every_department_once_in_order() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let server = NatsServer::start();
        let dir = tempfile::tempdir().expect("temp dir");
        let log = open_log(dir.path());
        let client = connect(&server).await;
        let js = jetstream(&client);

        // Half before the publisher starts, half while it runs (it must wake up by itself).
        let mut appended = append_orders(&log, 1, 0..20).await;
        let publisher = RunningPublisher::spawn(client.clone(), &log, test_publisher_config());
        publisher.wait_published(&log).await;
        // Caught up with nothing in flight: the events appended next reach it only if it wakes up.
        let head = log.head();
        publisher
            .wait_for("idle after the first half", |s| s.acked_position == head && s.in_flight == 0)
            .await;
        appended += append_orders(&log, 1, 20..40).await;
        assert_eq!(appended, log.head());
        publisher.wait_published(&log).await;
        let report = publisher.stop().await;
        assert!(report.drained);
        assert_eq!(report.stats.published_total, log.head());
        assert_eq!(report.stats.duplicates_total, 0);
        assert_eq!(report.stats.checkpoint_saved, log.head(), "checkpoint saved on stop");
        assert_eq!(orderflow::bus::saved_checkpoint(&log).expect("checkpoint"), log.head());

        check_stream_count(&js, &log).await;

        // Every message: subject, headers and payload match the log's event at that position.
        let stream = js.get_stream("ORDERFLOW").await.expect("stream");
        for e in all_events(&log) {
            let m = stream.get_raw_message(e.position).await.expect("message");
            let ty = event_type_by_code(e.event_type).expect("type");
            assert_eq!(m.subject.as_str(), format!("orderflow.events.{}.{}", ty.name, e.stream));
            let h = EventHeaders::parse(&m.headers).expect("headers");
            assert_eq!(
                h,
                EventHeaders {
                    event_id: e.event_id,
                    event_type: ty.name.to_string(),
                    schema_version: e.schema_version,
                    position: e.position,
                    order_version: e.version,
                    order_id: orderflow_schemas::OrderId(e.stream),
                }
            );
            assert_eq!(
                m.headers.get(subjects::HEADER_MSG_ID).map(|v| v.as_str().to_string()),
                Some(e.event_id.to_string())
            );
            let json: serde_json::Value = serde_json::from_slice(&m.payload).expect("JSON");
            let (event, envelope) = event_from_json(&json).expect("event_from_json");
            assert_eq!(event, decode_event(e.event_type, e.schema_version, &e.payload).expect("decode"));
            assert_eq!(
                (envelope.position, envelope.version, envelope.event_id),
                (e.position, e.version, e.event_id)
            );
        }

        // The scenario exercises every department and most event types.
        let events = all_events(&log);
        let routing = RoutingTable::default();
        for d in routing.departments() {
            let wanted = routing.event_types(d).expect("types");
            assert!(
                wanted.iter().all(|t| events.iter().any(|e| type_name(e) == *t)),
                "{d}: type never appended"
            );
        }
        let used = EVENT_TYPES.iter().filter(|t| events.iter().any(|e| e.event_type == t.code)).count();
        assert!(used >= 20, "only {used} event types in the scenario");

        for d in routing.departments().collect::<Vec<_>>() {
            check_department(&js, &log, &routing, d).await;
        }

        // A department of one type filters on the server.
        let single =
            RoutingTable::from_json_str(r#"{"departments": {"quality": ["quality_inspected"]}}"#, "test")
                .expect("routing");
        let plan = ConsumerPlan::new(&single, "quality").expect("plan");
        assert_eq!(plan.filter_subject, "orderflow.events.quality_inspected.>");
        // A fresh durable name: the default quality consumer above already acknowledged everything.
        stream.delete_consumer("orderflow-quality").await.expect("delete consumer");
        check_department(&js, &log, &single, "quality").await;
        let info = stream.consumer_info("orderflow-quality").await.expect("consumer info");
        assert_eq!(info.config.filter_subject, "orderflow.events.quality_inspected.>");
        let inspected = events.iter().filter(|e| type_name(e) == "quality_inspected").count() as u64;
        assert_eq!(info.delivered.consumer_sequence, inspected, "the server delivered other types");
        log.close().expect("close");
    })
    .await
    .expect("test timed out");
}
