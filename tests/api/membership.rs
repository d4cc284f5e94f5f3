use hearth_domain::{ServerId, UserId};
use hearth_tests::{assert_error, both_slashes, send, StatusCode, TestApp};
use serde_json::json;

/// An app with a server owned by "owner" and a second user "member" with a bearer token.
async fn setup() -> (TestApp, ServerId, String, UserId) {
    let app = TestApp::spawn().await;
    let (owner, _) = app.user_with_token("owner").await;
    let category = app.category("misc").await;
    let server = app.server(owner, category, "Place").await;
    let (member, token) = app.user_with_token("member").await;
    (app, server, token, member)
}

fn join_path(server: i64) -> String {
    format!("/api/membership/{server}/membership/")
}
fn leave_path(server: i64) -> String {
    format!("/api/membership/{server}/membership/remove_member/")
}
fn is_member_path(server: i64) -> String {
    format!("/api/membership/{server}/membership/is_member/")
}

async fn is_member(app: &TestApp, server: ServerId, token: &str) -> bool {
    let (status, body) = send(
        app.http
            .get(app.url(&is_member_path(server.0)))
            .bearer_auth(token),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["is_member"]
        .as_bool()
        .unwrap_or_else(|| panic!("no is_member in {body}"))
}

#[tokio::test]
async fn join_returns_200_then_join_twice_returns_409() {
    let (app, server, token, _) = setup().await;
    for (i, path) in both_slashes(&join_path(server.0)).iter().enumerate() {
        let (status, body) = send(app.http.post(app.url(path)).bearer_auth(&token)).await;
        if i == 0 {
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(body, json!({"message": "User joined server successfully"}));
        } else {
            assert_eq!(status, StatusCode::CONFLICT, "{body}");
            assert_eq!(body["error"], "User is already a member");
            assert_error(&body, "already_member");
        }
    }
    assert!(is_member(&app, server, &token).await);
}

#[tokio::test]
async fn join_works_with_the_cookie_session() {
    let (app, server, _, _) = setup().await;
    let (_, browser) = app.logged_in_browser("browser").await;
    let (status, _) = send(browser.post(app.url(&join_path(server.0)))).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn membership_endpoints_return_404_for_unknown_or_malformed_server_ids() {
    let (app, _, token, _) = setup().await;
    for id in ["999", "abc", "99999999999999999999", "-1", "1.5", "%20"] {
        for (method, path) in [
            (
                reqwest::Method::POST,
                format!("/api/membership/{id}/membership/"),
            ),
            (
                reqwest::Method::DELETE,
                format!("/api/membership/{id}/membership/remove_member/"),
            ),
            (
                reqwest::Method::GET,
                format!("/api/membership/{id}/membership/is_member/"),
            ),
        ] {
            for spelled in both_slashes(&path) {
                let (status, body) = send(
                    app.http
                        .request(method.clone(), app.url(&spelled))
                        .bearer_auth(&token),
                )
                .await;
                assert_eq!(status, StatusCode::NOT_FOUND, "{method} {spelled}: {body}");
                assert!(body["code"].is_string(), "{method} {spelled}: {body}");
            }
        }
    }
}

#[tokio::test]
async fn membership_endpoints_require_authentication() {
    let (app, server, _, _) = setup().await;
    for (method, path) in [
        (reqwest::Method::POST, join_path(server.0)),
        (reqwest::Method::DELETE, leave_path(server.0)),
        (reqwest::Method::GET, is_member_path(server.0)),
    ] {
        let (status, body) = send(app.http.request(method.clone(), app.url(&path))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
        assert_error(&body, "not_authenticated");
    }
}

#[tokio::test]
async fn leave_returns_200_then_404_when_no_longer_a_member() {
    let (app, server, token, _) = setup().await;
    let (status, _) = send(
        app.http
            .post(app.url(&join_path(server.0)))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for (i, path) in both_slashes(&leave_path(server.0)).iter().enumerate() {
        let (status, body) = send(app.http.delete(app.url(path)).bearer_auth(&token)).await;
        if i == 0 {
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(body, json!({"message": "User removed from server"}));
        } else {
            assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
            assert_eq!(body["error"], "User is not a member");
            assert_error(&body, "not_member");
        }
    }
    assert!(!is_member(&app, server, &token).await);
}

#[tokio::test]
async fn owner_is_a_member_of_a_new_server_and_cannot_leave_it() {
    let app = TestApp::spawn().await;
    let (owner, token) = app.user_with_token("owner").await;
    let category = app.category("misc").await;
    let server = app.server(owner, category, "Mine").await;
    assert!(is_member(&app, server, &token).await);
    let (status, body) = send(
        app.http
            .delete(app.url(&leave_path(server.0)))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"], "Owners cannot be removed as a member");
    assert_error(&body, "owner_cannot_leave");
    assert!(is_member(&app, server, &token).await);
    let (status, _) = send(
        app.http
            .post(app.url(&join_path(server.0)))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn is_member_reports_both_states_on_both_paths() {
    let (app, server, token, _) = setup().await;
    for path in both_slashes(&is_member_path(server.0)) {
        let (status, body) = send(app.http.get(app.url(&path)).bearer_auth(&token)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, json!({"is_member": false}));
    }
    send(
        app.http
            .post(app.url(&join_path(server.0)))
            .bearer_auth(&token),
    )
    .await;
    for path in both_slashes(&is_member_path(server.0)) {
        let (_, body) = send(app.http.get(app.url(&path)).bearer_auth(&token)).await;
        assert_eq!(body, json!({"is_member": true}));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_joins_by_one_user_give_exactly_one_200() {
    let (app, server, token, _) = setup().await;
    let url = app.url(&join_path(server.0));
    let requests = (0..200).map(|_| {
        let request = app.http.post(&url).bearer_auth(&token);
        async move { send(request).await.0 }
    });
    let statuses = futures_util::future::join_all(requests).await;
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let conflict = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((ok, conflict), (1, 199), "{statuses:?}");
    let (_, listed) = send(app.http.get(app.url(&format!(
        "/api/server/select/?by_serverid={}&with_num_members=true",
        server.0
    ))))
    .await;
    assert_eq!(
        listed[0]["num_members"], 2,
        "owner + one member, no duplicate row"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_join_and_leave_never_leave_a_duplicate_or_a_wrong_answer() {
    let (app, server, token, _) = setup().await;
    let join = app.url(&join_path(server.0));
    let leave = app.url(&leave_path(server.0));
    let requests = (0..100).map(|i| {
        let request = if i % 2 == 0 {
            app.http.post(&join)
        } else {
            app.http.delete(&leave)
        }
        .bearer_auth(&token);
        async move { send(request).await.0 }
    });
    for status in futures_util::future::join_all(requests).await {
        assert!(
            [StatusCode::OK, StatusCode::CONFLICT, StatusCode::NOT_FOUND].contains(&status),
            "{status}"
        );
    }
    let member = is_member(&app, server, &token).await;
    let (_, listed) = send(app.http.get(app.url(&format!(
        "/api/server/select/?by_serverid={}&with_num_members=true",
        server.0
    ))))
    .await;
    assert_eq!(listed[0]["num_members"], if member { 2 } else { 1 });
}

/// `num_members` is kept by the database as members come and go, not counted per request; it
/// must follow every path that changes membership.
#[tokio::test]
async fn member_counts_follow_joins_leaves_removals_and_deleted_accounts() {
    let app = TestApp::spawn().await;
    let (owner, owner_token) = app.user_with_token("owner").await;
    let category = app.category("misc").await;
    let server = app.server(owner, category, "Place").await;
    let count = || async {
        let (status, listed) = send(app.http.get(app.url(&format!(
            "/api/server/select/?by_serverid={}&with_num_members=true",
            server.0
        ))))
        .await;
        assert_eq!(status, StatusCode::OK, "{listed}");
        listed[0]["num_members"].as_i64().unwrap_or(-1)
    };
    let join = |token: &str| {
        send(
            app.http
                .post(app.url(&join_path(server.0)))
                .bearer_auth(token),
        )
    };
    let leave = |token: &str| {
        send(
            app.http
                .delete(app.url(&leave_path(server.0)))
                .bearer_auth(token),
        )
    };
    // The owner removes a member.
    let remove = |member: UserId| {
        let path = format!("/api/servers/{}/members/{}/", server.0, member.0);
        send(app.http.delete(app.url(&path)).bearer_auth(&owner_token))
    };

    assert_eq!(count().await, 1, "a new server counts its owner");
    let mut members = Vec::new();
    for name in ["ann", "bob", "cid", "dee"] {
        let (id, token) = app.user_with_token(name).await;
        assert_eq!(join(&token).await.0, StatusCode::OK);
        members.push((id, token));
    }
    assert_eq!(count().await, 5);
    // A refused join or leave changes nothing.
    join(&members[0].1).await;
    leave(&owner_token).await;
    assert_eq!(count().await, 5);
    assert_eq!(leave(&members[0].1).await.0, StatusCode::OK);
    assert_eq!(count().await, 4, "after a leave");
    assert_eq!(remove(members[1].0).await.0, StatusCode::NO_CONTENT);
    assert_eq!(count().await, 3, "after a removal by the owner");
    hearth_db::users::delete_by_username(&app.db, "cid")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(count().await, 2, "after an account was deleted");
    // Removing an account that no longer exists is "not a member", for the owner.
    let (status, body) = remove(members[2].0).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_error(&body, "not_member");
    assert_eq!(count().await, 2);
    assert!(
        !counted_in_slots(&app, server).await,
        "a quiet server keeps its count in its row"
    );
}

/// One popular server, 1,000 joins and leaves at once (each user's request twice, so the same
/// user races itself too): every answer is right, and the count is exact at the end, as the
/// members are. The count lives in slots that concurrent joins share (migration 8).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_joins_and_leaves_on_one_server_keep_its_count_exact() {
    let secret = b"a test secret that signs the users' tokens".to_vec();
    let app = TestApp::spawn_with({
        let secret = secret.clone();
        move |s| {
            s.jwt_secret = hearth_api::config::JwtSecret::new(secret);
            // The test folds the slots itself, when it means to.
            s.fold_member_counts = false;
        }
    })
    .await;
    let tokens = hearth_api::auth::TokenService::new(
        &hearth_api::config::JwtSecret::new(secret),
        std::time::Duration::from_secs(600),
        std::time::Duration::from_secs(600),
    );
    let (owner, _) = app.user_with_token("owner").await;
    let category = app.category("misc").await;
    let server = app.server(owner, category, "Popular").await;
    // Accounts made directly (hashing 250 passwords would take the test's time), with tokens.
    let mut users = Vec::new();
    for i in 0..250 {
        let user = hearth_db::users::create(&app.db, &format!("user{i}"), "not a hash", false)
            .await
            .unwrap();
        let token = tokens
            .issue(user.id, hearth_api::auth::TokenKind::Access)
            .unwrap();
        users.push(token);
    }
    let (joiners, leavers) = users.split_at(125);
    for token in leavers {
        let (status, body) = send(
            app.http
                .post(app.url(&join_path(server.0)))
                .bearer_auth(token),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    // Every joiner joins twice and every leaver leaves twice, all at once, 2 x 250 requests;
    // and a second round of the same makes 1,000.
    let request = |token: &str, join: bool| {
        let builder = if join {
            app.http.post(app.url(&join_path(server.0)))
        } else {
            app.http.delete(app.url(&leave_path(server.0)))
        };
        send(builder.bearer_auth(token))
    };
    let mut burst = Vec::new();
    for _ in 0..2 {
        for token in joiners {
            burst.push(request(token, true));
            burst.push(request(token, true));
        }
        for token in leavers {
            burst.push(request(token, false));
            burst.push(request(token, false));
        }
    }
    assert_eq!(burst.len(), 1_000);
    let answers: Vec<StatusCode> = futures_util::future::join_all(burst)
        .await
        .into_iter()
        .map(|(status, _)| status)
        .collect();
    // Per user, four requests (two in each round): exactly one of them changed something.
    for i in 0..125 {
        for (first, other) in [
            (2 * i, StatusCode::CONFLICT),
            (250 + 2 * i, StatusCode::NOT_FOUND),
        ] {
            let mut four: Vec<StatusCode> = [first, first + 1, first + 500, first + 501]
                .iter()
                .map(|&n| answers[n])
                .collect();
            four.sort();
            let mut expected = vec![StatusCode::OK, other, other, other];
            expected.sort();
            assert_eq!(four, expected, "user {i}: {answers:?}");
        }
    }

    let (status, listed) = send(app.http.get(app.url(&format!(
        "/api/server/select/?by_serverid={}&with_num_members=true",
        server.0
    ))))
    .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let members: i64 = app
        .sql_client()
        .await
        .query_one(
            "SELECT count(*) FROM server_members WHERE server_id = $1",
            &[&server.0],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(members, 126, "the owner and the joiners");
    assert_eq!(listed[0]["num_members"], members, "the count is exact");
    assert!(counted_in_slots(&app, server).await);
    let slots: i64 = app
        .sql_client()
        .await
        .query_one(
            "SELECT count(*) FROM server_member_counts WHERE server_id = $1",
            &[&server.0],
        )
        .await
        .unwrap()
        .get(0);
    assert!(
        slots > 1,
        "the pool's connections counted in slots of their own"
    );

    // Quiet again, the count goes back to the server's row (the app does this every 10 s).
    assert_eq!(
        hearth_db::servers::fold_member_counts(&app.db, 100)
            .await
            .unwrap(),
        1
    );
    assert!(!counted_in_slots(&app, server).await);
    assert_eq!(num_members(&app, server).await, 126);

    // Folding while everyone changes sides at once (the joiners leave, the leavers join): folds
    // that meet joins or leaves under way leave the server alone, those that do not move its
    // slots, and every count read meanwhile and at the end is right.
    let mut swap = Vec::new();
    for token in joiners {
        swap.push(request(token, false));
    }
    for token in leavers {
        swap.push(request(token, true));
    }
    let folding = async {
        let mut folds = 0;
        for _ in 0..50 {
            folds += hearth_db::servers::fold_member_counts(&app.db, 100)
                .await
                .unwrap();
            let counted = num_members(&app, server).await;
            assert!((1..=251).contains(&counted), "{counted}");
            tokio::task::yield_now().await;
        }
        folds
    };
    let (answers, _) =
        futures_util::future::join(futures_util::future::join_all(swap), folding).await;
    assert!(
        answers.iter().all(|(s, _)| *s == StatusCode::OK),
        "{answers:?}"
    );
    assert_eq!(num_members(&app, server).await, 126);
    hearth_db::servers::fold_member_counts(&app.db, 100)
        .await
        .unwrap();
    assert!(!counted_in_slots(&app, server).await);
    assert_eq!(num_members(&app, server).await, 126);
}

/// `num_members` of `server` in the catalogue.
async fn num_members(app: &TestApp, server: ServerId) -> i64 {
    let (status, listed) = send(app.http.get(app.url(&format!(
        "/api/server/select/?by_serverid={}&with_num_members=true",
        server.0
    ))))
    .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    listed[0]["num_members"].as_i64().unwrap_or(-1)
}

/// Whether the server's count moved to slots (it met concurrent joins or leaves).
async fn counted_in_slots(app: &TestApp, server: ServerId) -> bool {
    app.sql_client()
        .await
        .query_one(
            "SELECT counted_in_slots FROM servers WHERE id = $1",
            &[&server.0],
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .get(0)
}

/// is_member's reads share a connection per worker and are pipelined: answers must still reach
/// the requests that asked, and a connection that dies must be replaced, not kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_is_member_answers_reach_their_own_requests_and_a_killed_connection_is_replaced()
{
    let app = TestApp::spawn().await;
    let (owner, _) = app.user_with_token("owner").await;
    let category = app.category("misc").await;
    let mut servers = Vec::new();
    for name in ["A", "B", "C"] {
        servers.push(app.server(owner, category, name).await);
    }
    let mut users = Vec::new();
    for i in 0..6_usize {
        let (_, token) = app.user_with_token(&format!("user{i}")).await;
        for (j, server) in servers.iter().enumerate() {
            if (i + j) % 2 == 0 {
                let (status, body) = send(
                    app.http
                        .post(app.url(&join_path(server.0)))
                        .bearer_auth(&token),
                )
                .await;
                assert_eq!(status, StatusCode::OK, "{body}");
            }
        }
        users.push(token);
    }
    // (token, server, expected answer: Some(is_member) or None for 404)
    let mut asks = Vec::new();
    for round in 0..10 {
        for (i, token) in users.iter().enumerate() {
            for (j, server) in servers.iter().enumerate() {
                asks.push((token.clone(), server.0, Some((i + j) % 2 == 0)));
            }
            if (i + round) % 3 == 0 {
                asks.push((token.clone(), 999_999, None));
            }
        }
    }
    let ask = |(token, server, expected): (String, i64, Option<bool>)| {
        let request = app
            .http
            .get(app.url(&is_member_path(server)))
            .bearer_auth(token);
        async move { (send(request).await, expected) }
    };
    let answers = futures_util::future::join_all(asks.into_iter().map(ask)).await;
    assert!(answers.len() > 180);
    for ((status, body), expected) in answers {
        match expected {
            Some(member) => {
                assert_eq!(status, StatusCode::OK, "{body}");
                assert_eq!(body, json!({ "is_member": member }));
            }
            None => assert_eq!(status, StatusCode::NOT_FOUND, "{body}"),
        }
    }

    // Kill every connection the server has: reads fail fast (503) at most until a fresh
    // connection replaces the dead one, then answer again.
    let admin = app.sql_client().await;
    admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
            &[],
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut in_a_row = 0;
    for _ in 0..100 {
        let (status, body) = send(
            app.http
                .get(app.url(&is_member_path(servers[0].0)))
                .bearer_auth(&users[0]),
        )
        .await;
        match status {
            StatusCode::OK => {
                assert_eq!(body, json!({ "is_member": true }));
                in_a_row += 1;
                if in_a_row == 10 {
                    return;
                }
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_error(&body, "unavailable");
                in_a_row = 0;
            }
            other => panic!("{other}: {body}"),
        }
    }
    panic!("is_member did not recover after its connection was killed");
}

/// A read stuck behind a lock fails fast with 503 instead of hanging, and is_member answers
/// again once the lock is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn is_member_stuck_behind_a_lock_gets_a_fast_503_then_recovers() {
    let app = TestApp::spawn_with(|s| s.db_timeout = std::time::Duration::from_millis(500)).await;
    let (owner, token) = app.user_with_token("owner").await;
    let category = app.category("misc").await;
    let server = app.server(owner, category, "Place").await;
    let ask = || {
        send(
            app.http
                .get(app.url(&is_member_path(server.0)))
                .bearer_auth(&token)
                .timeout(std::time::Duration::from_secs(10)),
        )
    };
    let (status, body) = ask().await;
    assert_eq!((status, body), (StatusCode::OK, json!({"is_member": true})));

    let mut admin = app.sql_client().await;
    let lock = admin.transaction().await.unwrap_or_else(|e| panic!("{e}"));
    lock.batch_execute("LOCK TABLE server_members IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    for _ in 0..3 {
        let started = std::time::Instant::now();
        let (status, body) = ask().await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_error(&body, "unavailable");
        assert!(started.elapsed() < std::time::Duration::from_secs(3));
    }
    lock.commit().await.unwrap_or_else(|e| panic!("{e}"));
    let mut answered = false;
    for _ in 0..50 {
        let (status, body) = ask().await;
        if status == StatusCode::OK {
            assert_eq!(body, json!({"is_member": true}));
            answered = true;
            break;
        }
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        answered,
        "is_member did not answer again after the lock was released"
    );
}
