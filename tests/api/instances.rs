//! Several instances on one database, as behind a load balancer.

use chrono::TimeDelta;

use crate::helpers::{TEST_PASSWORD, TestApp, TestContext};

fn total_writes(instances: &[&TestApp]) -> u64 {
    instances.iter().map(|app| app.last_seen_writes()).sum()
}

async fn settle_all(instances: &[&TestApp]) {
    for app in instances {
        app.settle().await;
    }
}

pub async fn three_instances_share_sessions_and_write_last_seen_once_per_interval(
    ctx: TestContext,
) {
    let url = ctx.new_database().await;
    let first = ctx.spawn_app_on(&url, &[]).await;
    let second = ctx.spawn_instance(&url, &[], first.clock.clone()).await;
    let third = ctx.spawn_instance(&url, &[], first.clock.clone()).await;
    let all = [&first, &second, &third];

    let laptop = first.signed_in_user("ada@example.com").await;
    let phone = second.browser();
    phone.login("ada@example.com", TEST_PASSWORD).await;
    let tablet = third.browser();
    tablet.login("ada@example.com", TEST_PASSWORD).await;
    settle_all(&all).await;
    let writes_after_three_sign_ins = total_writes(&all);

    let mut writes_per_interval = Vec::new();
    for hour in 0..3 {
        first.clock.advance(TimeDelta::hours(1));
        for (n, device) in [&laptop, &phone, &tablet].into_iter().enumerate() {
            let instance = all[(n + hour) % all.len()];
            let response = device.at(instance).get("/dashboard").await;
            assert_eq!(
                response.status(),
                200,
                "a session did not travel between instances"
            );
        }
        settle_all(&all).await;
        writes_per_interval.push(total_writes(&all));
    }

    assert_eq!(writes_after_three_sign_ins, 1);
    assert_eq!(writes_per_interval, vec![2, 3, 4]);
}

pub async fn one_browser_alternating_between_instances_writes_once_per_interval(ctx: TestContext) {
    let url = ctx.new_database().await;
    let first = ctx.spawn_app_on(&url, &[]).await;
    let second = ctx.spawn_instance(&url, &[], first.clock.clone()).await;
    let third = ctx.spawn_instance(&url, &[], first.clock.clone()).await;
    let all = [&first, &second, &third];
    let browser = first.signed_in_user("ada@example.com").await;

    for step in 0..12 {
        first.clock.advance(TimeDelta::minutes(20));
        let response = browser.at(all[step % 3]).get("/dashboard").await;
        assert_eq!(response.status(), 200);
        // Real minutes pass between these requests: let each write land before the next.
        settle_all(&all).await;
    }
    settle_all(&all).await;

    let touches: Vec<u64> = all.iter().map(|app| app.touches()).collect();
    assert_eq!(
        total_writes(&all),
        1 + 4,
        "one at sign-in, then one per hour; {touches:?}"
    );
}
