//! The demo's lifecycle (what `make demo` runs): the real infra/event-tier, through cargo lambda,
//! created and destroyed with nothing left behind.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_lifecycle_creates_a_non_empty_tier_and_leaves_nothing_behind() {
    let stack = event_tier_tests::Stack::get().await;
    // Its own event id: other tests use the sample's at the same time.
    let event = event_tier_tests::unique_event("demo");
    let report = event_tier_tests::demo::lifecycle(&stack, true, Some(&event)).await;
    let summary = report.summary();
    println!("{summary}");
    assert_eq!(report.start_status, "applied", "{summary}");
    assert_eq!(report.stop_status, "destroyed", "{summary}");
    assert_eq!(
        report.extended_secs, 3600,
        "a signed Slack request extends the event once: {summary}"
    );
    assert!(
        report
            .slack
            .iter()
            .any(|p| p.text.starts_with("demo extended *") && p.text.contains("by 1h")),
        "{summary}"
    );
    for kind in [
        "aws_lb.",
        "aws_ecs_service.",
        "aws_appautoscaling_target.",
        "aws_db_instance.",
        "aws_dms_replication_task.",
        "aws_scheduler_schedule.",
    ] {
        assert!(
            report.created.iter().any(|a| a.starts_with(kind)),
            "{kind} missing from {:?}",
            report.created
        );
    }
    assert!(report.left_in_state.is_empty(), "{summary}");
    assert_eq!(report.live_runners, 0);
    // The rehearsal's runner and the event's.
    assert_eq!(report.runners_terminated, 2);
    // The sample event needs 20 tasks × 0.5 vCPU; a new account's Fargate quota is 6 vCPU.
    assert_eq!(report.rehearsal_status, "no_go", "{summary}");
    let said = report.rehearsal.join("\n");
    for line in [
        ":white_check_mark: plan: creates ",
        ":x: quota Fargate On-Demand vCPU resource count: needs 10 vCPU (max_count 20 × 0.5 vCPU) (use not counted) of ",
        ":white_check_mark: quota Application Load Balancers per Region: needs 1 load balancers",
        ":white_check_mark: quota DB instances: needs 1 DB instances",
        ":white_check_mark: quota DMS replication instances: needs 1 replication instances",
        ":white_check_mark: operations secret: ",
        ":white_check_mark: runner AMI: ",
        ":white_check_mark: nothing left: runner ",
    ] {
        assert!(said.contains(line), "{line} in {said}");
    }
    assert!(report.leftovers.is_empty(), "{:?}", report.leftovers);
    assert!(
        report
            .slack
            .iter()
            .any(|p| p.text.contains("start succeeded")),
        "{summary}"
    );
    assert!(
        report
            .slack
            .iter()
            .any(|p| p.text.contains("stop succeeded")
                && p.text.contains("final migration finished")),
        "{summary}"
    );
    for secret in [
        "the runner's SSH key",
        "the Slack webhook",
        "the operations database's password",
        "the event database's password",
    ] {
        assert!(
            report.searched.iter().any(|s| s == secret),
            "{secret} not searched for: {:?}",
            report.searched
        );
    }
    assert!(report.leaked.is_empty(), "{:?}", report.leaked);
    assert!(report.ok());
    assert!(summary.contains("nothing was left behind"));
}
