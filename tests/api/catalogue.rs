use hearth_domain::{CategoryId, ServerId, UserId};
use hearth_tests::{assert_error, both_slashes, send, StatusCode, TestApp};
use serde_json::{json, Value};

struct World {
    app: TestApp,
    alice: UserId,
    alice_token: String,
    gaming: CategoryId,
    quest: ServerId,
    raid: ServerId,
    jazz: ServerId,
}

/// alice owns Quest and Raid (gaming) and Jazz (music); bob joined Quest.
async fn world() -> World {
    let app = TestApp::spawn().await;
    let (alice, alice_token) = app.user_with_token("alice").await;
    let gaming = app.category("Gaming").await;
    let music = app.category("music").await;
    let quest = app.server(alice, gaming, "Quest").await;
    let raid = app.server(alice, gaming, "Raid").await;
    let jazz = app.server(alice, music, "Jazz").await;
    app.channel(quest, alice, "general").await;
    app.channel(quest, alice, "lfg").await;
    let (_, bob_token) = app.user_with_token("bob").await;
    let (status, _) = send(
        app.http
            .post(app.url(&format!("/api/membership/{}/membership/", quest.0)))
            .bearer_auth(&bob_token),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    World {
        app,
        alice,
        alice_token,
        gaming,
        quest,
        raid,
        jazz,
    }
}

fn ids(body: &Value) -> Vec<i64> {
    body.as_array()
        .unwrap_or_else(|| panic!("not a list: {body}"))
        .iter()
        .filter_map(|s| s["id"].as_i64())
        .collect()
}

#[tokio::test]
async fn categories_are_listed_lower_case_with_null_icons() {
    let w = world().await;
    for path in both_slashes("/api/server/category/") {
        let (status, body) = send(w.app.http.get(w.app.url(&path))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            json!([
                {"id": w.gaming.0, "name": "gaming", "description": "about it", "icon": null},
                {"id": w.gaming.0 + 1, "name": "music", "description": "about it", "icon": null},
            ])
        );
    }
}

#[tokio::test]
async fn server_list_has_the_reference_shape() {
    let w = world().await;
    for path in both_slashes("/api/server/select/") {
        let (status, body) = send(w.app.http.get(w.app.url(&path))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(ids(&body), vec![w.quest.0, w.raid.0, w.jazz.0]);
        let quest = &body[0];
        assert_eq!(quest["name"], "Quest");
        assert_eq!(quest["owner"], w.alice.0);
        assert_eq!(quest["category"], "gaming");
        assert_eq!(quest["description"], "a server");
        assert_eq!(quest["icon"], Value::Null);
        assert_eq!(quest["banner"], Value::Null);
        assert!(
            quest.get("num_members").is_none(),
            "only when asked: {quest}"
        );
        let channels = quest["channel_server"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(channels.len(), 2);
        assert_eq!(channels[0]["name"], "general");
        assert_eq!(channels[0]["topic"], "");
        assert_eq!(channels[0]["owner"], w.alice.0);
        assert_eq!(channels[0]["server"], w.quest.0);
        assert!(channels[0]["id"].is_i64());
        assert_eq!(body[1]["channel_server"], json!([]));
    }
}

#[tokio::test]
async fn server_list_filters_by_category_name_in_any_case() {
    let w = world().await;
    for category in ["gaming", "GAMING"] {
        let (_, body) = send(
            w.app.http.get(
                w.app
                    .url(&format!("/api/server/select?category={category}")),
            ),
        )
        .await;
        assert_eq!(ids(&body), vec![w.quest.0, w.raid.0]);
    }
    let (status, body) = send(
        w.app
            .http
            .get(w.app.url("/api/server/select/?category=nothing")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!([]));
}

#[tokio::test]
async fn server_list_qty_limits_and_malformed_qty_is_400() {
    let w = world().await;
    let (_, body) = send(w.app.http.get(w.app.url("/api/server/select/?qty=2"))).await;
    assert_eq!(ids(&body), vec![w.quest.0, w.raid.0]);
    let (_, body) = send(w.app.http.get(w.app.url("/api/server/select/?qty=0"))).await;
    assert_eq!(body, json!([]));
    for qty in ["abc", "-1", "1.5", "", "99999999999999999999"] {
        let (status, body) = send(
            w.app
                .http
                .get(w.app.url(&format!("/api/server/select/?qty={qty}"))),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "qty={qty}");
        assert_error(&body, "invalid_query");
    }
}

#[tokio::test]
async fn server_list_by_user_needs_authentication_and_filters_memberships() {
    let w = world().await;
    let (status, body) = send(
        w.app
            .http
            .get(w.app.url("/api/server/select/?by_user=true")),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body, "not_authenticated");

    let (_, bob) = w.app.logged_in_browser("carol").await;
    let (status, body) = send(bob.get(w.app.url("/api/server/select?by_user=true"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!([]), "carol joined nothing");

    let (_, body) = send(
        w.app
            .http
            .get(
                w.app
                    .url("/api/server/select/?by_user=true&category=gaming"),
            )
            .bearer_auth(&w.alice_token),
    )
    .await;
    assert_eq!(
        ids(&body),
        vec![w.quest.0, w.raid.0],
        "owner is a member; AND with category"
    );
    // Anything but `true` is no filter, as in the reference.
    let (status, body) = send(
        w.app
            .http
            .get(w.app.url("/api/server/select/?by_user=false")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&body).len(), 3);
}

#[tokio::test]
async fn server_list_by_serverid_returns_one_or_400() {
    let w = world().await;
    let (status, body) = send(
        w.app.http.get(
            w.app
                .url(&format!("/api/server/select/?by_serverid={}", w.raid.0)),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&body), vec![w.raid.0]);
    for id in ["999", "abc", "", "99999999999999999999"] {
        let (status, body) = send(
            w.app
                .http
                .get(w.app.url(&format!("/api/server/select/?by_serverid={id}"))),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "by_serverid={id}: {body}");
        assert!(body["code"].is_string());
    }
}

#[tokio::test]
async fn server_list_with_num_members_counts_members() {
    let w = world().await;
    for path in both_slashes("/api/server/select/?with_num_members=true") {
        let (_, body) = send(w.app.http.get(w.app.url(&path))).await;
        let counts: Vec<i64> = body
            .as_array()
            .map(|servers| {
                servers
                    .iter()
                    .filter_map(|s| s["num_members"].as_i64())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(counts, vec![2, 1, 1], "{path}");
    }
    let (_, body) = send(w.app.http.get(w.app.url(&format!(
        "/api/server/select/?by_serverid={}&with_num_members=true&qty=1",
        w.quest.0
    ))))
    .await;
    assert_eq!(body[0]["num_members"], 2);
}

/// Reads `/api/servers/` page by page from the start; the ids of every page, in order.
async fn pages(app: &TestApp, query: &str, limit: usize) -> Vec<Vec<i64>> {
    let mut pages = Vec::new();
    let mut after = 0;
    loop {
        let (status, page) = send(
            app.http
                .get(app.url(&format!("/api/servers/?limit={limit}&after={after}{query}"))),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let ids: Vec<i64> = page
            .as_array()
            .unwrap_or_else(|| panic!("not a list: {page}"))
            .iter()
            .map(|s| s["id"].as_i64().unwrap_or_else(|| panic!("no id: {s}")))
            .collect();
        let last = ids.len() < limit;
        if let Some(&id) = ids.last() {
            after = id;
        }
        pages.push(ids);
        if last {
            return pages;
        }
    }
}

#[tokio::test]
async fn the_catalogue_pages_neither_skip_nor_repeat_while_servers_are_created() {
    let w = world().await;
    let mut before = vec![w.quest.0, w.raid.0, w.jazz.0];
    for i in 0..7 {
        before.push(
            w.app
                .server(w.alice, w.gaming, &format!("Early {i}"))
                .await
                .0,
        );
    }
    // The first page, then servers created meanwhile, then the rest.
    let (status, first) = send(w.app.http.get(w.app.url("/api/servers/?limit=4"))).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first.as_array().unwrap().len(), 4);
    assert_eq!(first[0]["channel_server"].as_array().map(Vec::len), Some(2));
    assert!(first[0].get("num_members").is_none(), "only on request");
    let mut seen: Vec<i64> = first
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    let mut created = Vec::new();
    for i in 0..3 {
        created.push(
            w.app
                .server(w.alice, w.gaming, &format!("Late {i}"))
                .await
                .0,
        );
    }
    let mut after = *seen.last().unwrap();
    loop {
        let (status, page) = send(w.app.http.get(w.app.url(&format!(
            "/api/servers/?limit=4&after={after}&with_num_members=true"
        ))))
        .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let page = page.as_array().unwrap();
        assert!(page.iter().all(|s| s["num_members"].is_i64()), "{page:?}");
        seen.extend(page.iter().map(|s| s["id"].as_i64().unwrap()));
        match page.last() {
            Some(last) if page.len() == 4 => after = last["id"].as_i64().unwrap(),
            _ => break,
        }
    }
    before.extend(created);
    assert_eq!(seen, before, "every server once, by id, the late ones last");
}

#[tokio::test]
async fn catalogue_pages_filter_by_category_and_refuse_bad_limits() {
    let w = world().await;
    assert_eq!(
        pages(&w.app, "&category=GAMING", 1).await.concat(),
        [w.quest.0, w.raid.0]
    );
    assert_eq!(pages(&w.app, "&category=music", 50).await, [vec![w.jazz.0]]);
    assert_eq!(
        pages(&w.app, "&category=nothing", 50).await,
        [Vec::<i64>::new()]
    );
    // Past the end, an empty page.
    let (status, page) = send(
        w.app
            .http
            .get(w.app.url(&format!("/api/servers/?after={}", w.jazz.0))),
    )
    .await;
    assert_eq!((status, page), (StatusCode::OK, json!([])));
    for bad in [
        "limit=0",
        "limit=101",
        "limit=x",
        "after=x",
        "after=99999999999999999999",
    ] {
        let (status, body) = send(w.app.http.get(w.app.url(&format!("/api/servers/?{bad}")))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
    // Public: a token is not needed, and a bad one does not matter.
    let (status, _) = send(
        w.app
            .http
            .get(w.app.url("/api/servers/"))
            .bearer_auth("not a token"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}
