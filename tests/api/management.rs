//! The native management API: servers, channels, members and categories, with every
//! permission rule (owner, member, stranger, staff, anonymous), cascades and live events.

use hearth_domain::{ServerId, UserId};
use hearth_tests::ws::{connect, Auth, WsClient};
use hearth_tests::{assert_error, send, StatusCode, TestApp};
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

/// alice owns "Place" (created through the API, so it has a `general` channel); bob is a member;
/// carol is a stranger.
struct World {
    app: TestApp,
    server: ServerId,
    general: i64,
    alice: String,
    bob_id: UserId,
    bob: String,
    carol: String,
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    app.category("misc").await;
    let (_, alice) = app.user_with_token("alice").await;
    let (status, created) = send(
        app.http
            .post(app.url("/api/servers/"))
            .bearer_auth(&alice)
            .json(&json!({"name": "Place", "description": "A place", "category": "misc"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let server = ServerId(created["id"].as_i64().unwrap_or_default());
    let general = created["channel_server"][0]["id"]
        .as_i64()
        .unwrap_or_default();
    let (bob_id, bob) = app.user_with_token("bob").await;
    let (status, _) = send(
        app.http
            .post(app.url(&format!("/api/membership/{}/membership/", server.0)))
            .bearer_auth(&bob),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, carol) = app.user_with_token("carol").await;
    World {
        app,
        server,
        general,
        alice,
        bob_id,
        bob,
        carol,
    }
}

impl World {
    fn url(&self, path: &str) -> String {
        self.app.url(path)
    }

    async fn socket(&self, token: &str, channel: i64) -> WsClient {
        let path = format!("/ws/servers/{}/channels/{channel}", self.server.0);
        let mut socket = connect(self.app.port, &path, Auth::Bearer(token.to_owned()))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        socket.recv_type("presence.list", WAIT).await;
        socket
    }

    /// Sends as each of (anonymous, stranger, member) and expects 401, 403, 403.
    async fn only_the_owner_may(&self, method: reqwest::Method, path: &str, body: Option<Value>) {
        for (token, expected) in [
            (None, StatusCode::UNAUTHORIZED),
            (Some(&self.carol), StatusCode::FORBIDDEN),
            (Some(&self.bob), StatusCode::FORBIDDEN),
        ] {
            let mut request = self.app.http.request(method.clone(), self.url(path));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            if let Some(body) = &body {
                request = request.json(body);
            }
            let (status, response) = send(request).await;
            assert_eq!(status, expected, "{method} {path}: {response}");
            assert!(response["code"].is_string());
        }
    }
}

#[tokio::test]
async fn creating_a_server_makes_the_caller_owner_and_member_with_a_general_channel() {
    let w = world().await;
    let (status, server) = send(
        w.app
            .http
            .get(w.url(&format!("/api/servers/{}/", w.server.0))),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(server["name"], "Place");
    assert_eq!(server["category"], "misc");
    assert_eq!(server["channel_server"][0]["name"], "general");
    assert_eq!(server["num_members"], 2);
    let (_, membership) = send(
        w.app
            .http
            .get(w.url(&format!(
                "/api/membership/{}/membership/is_member/",
                w.server.0
            )))
            .bearer_auth(&w.alice),
    )
    .await;
    assert_eq!(membership, json!({"is_member": true}));
    // A category may be given by id too.
    let (_, categories) = send(w.app.http.get(w.url("/api/server/category/"))).await;
    let (status, _) = send(
        w.app
            .http
            .post(w.url("/api/servers"))
            .bearer_auth(&w.carol)
            .json(&json!({"name": "Second", "category": categories[0]["id"]})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn creating_a_server_validates_its_input() {
    let w = world().await;
    let (status, body) = send(
        w.app
            .http
            .post(w.url("/api/servers/"))
            .json(&json!({"name": "x", "category": "misc"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body, "not_authenticated");
    for (input, field) in [
        (json!({"name": "", "category": "misc"}), "name"),
        (json!({"name": "   ", "category": "misc"}), "name"),
        (json!({"name": "n".repeat(101), "category": "misc"}), "name"),
        (
            json!({"name": "ok", "description": "d".repeat(501), "category": "misc"}),
            "description",
        ),
        (
            json!({"name": "ok", "category": "no-such-category"}),
            "category",
        ),
        (json!({"name": "ok", "category": 424242}), "category"),
    ] {
        let (status, body) = send(
            w.app
                .http
                .post(w.url("/api/servers/"))
                .bearer_auth(&w.alice)
                .json(&input),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{input}");
        assert_error(&body, "validation_failed");
        assert!(body["fields"][field].is_array(), "{input}: {body}");
    }
    let (status, _) = send(
        w.app
            .http
            .post(w.url("/api/servers/"))
            .bearer_auth(&w.alice)
            .json(&json!({"name": "no category"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn unknown_servers_are_404() {
    let w = world().await;
    for path in [
        "/api/servers/999999/",
        "/api/servers/abc/",
        "/api/servers/99999999999999999999/",
    ] {
        let (status, body) = send(w.app.http.get(w.url(path))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_error(&body, "not_found");
    }
    let (status, _) = send(
        w.app
            .http
            .patch(w.url("/api/servers/999999/"))
            .bearer_auth(&w.alice)
            .json(&json!({"name": "x"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(
        w.app
            .http
            .delete(w.url("/api/servers/999999/"))
            .bearer_auth(&w.alice),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn only_the_owner_changes_a_server_and_its_sockets_hear_of_it() {
    let w = world().await;
    let path = format!("/api/servers/{}/", w.server.0);
    w.only_the_owner_may(
        reqwest::Method::PATCH,
        &path,
        Some(json!({"name": "Hijacked"})),
    )
    .await;
    let mut socket = w.socket(&w.bob, w.general).await;
    w.app.category("other").await;
    let (status, body) = send(
        w.app
            .http
            .patch(w.url(&path))
            .bearer_auth(&w.alice)
            .json(&json!({"name": "Renamed", "category": "other"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["name"], "Renamed");
    assert_eq!(body["category"], "other");
    assert_eq!(body["description"], "A place", "untouched fields stay");
    let event = socket.recv_type("server.updated", WAIT).await;
    assert_eq!(event["server"]["name"], "Renamed");
    assert_eq!(event["server"]["id"], w.server.0);
}

#[tokio::test]
async fn deleting_a_server_cascades_and_closes_its_sockets() {
    let w = world().await;
    let path = format!("/api/servers/{}/", w.server.0);
    w.only_the_owner_may(reqwest::Method::DELETE, &path, None)
        .await;
    let mut socket = w.socket(&w.bob, w.general).await;
    socket.say("soon gone").await;
    socket.recv_type("chat.message", WAIT).await;
    let (status, _) = send(w.app.http.delete(w.url(&path)).bearer_auth(&w.alice)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        socket.recv_type("server.deleted", WAIT).await["server_id"],
        w.server.0
    );
    assert_eq!(socket.recv_close(WAIT).await, Some(4004));
    let (status, _) = send(w.app.http.get(w.url(&path))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, history) = send(
        w.app
            .http
            .get(w.url(&format!("/api/messages/?channel_id={}", w.general))),
    )
    .await;
    assert_eq!(history, json!([]), "messages went with the server");
    let (_, mine) = send(
        w.app
            .http
            .get(w.url("/api/server/select/?by_user=true"))
            .bearer_auth(&w.bob),
    )
    .await;
    assert_eq!(mine, json!([]), "memberships went with the server");
}

#[tokio::test]
async fn channels_are_managed_by_the_owner_with_unique_lower_case_names() {
    let w = world().await;
    let create = format!("/api/servers/{}/channels/", w.server.0);
    w.only_the_owner_may(
        reqwest::Method::POST,
        &create,
        Some(json!({"name": "mine"})),
    )
    .await;
    let mut socket = w.socket(&w.bob, w.general).await;
    let (status, channel) = send(
        w.app
            .http
            .post(w.url(&create))
            .bearer_auth(&w.alice)
            .json(&json!({"name": "  Off-Topic ", "topic": "anything"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{channel}");
    assert_eq!(channel["name"], "off-topic");
    assert_eq!(channel["server"], w.server.0);
    assert_eq!(
        socket.recv_type("channel.created", WAIT).await["channel"]["name"],
        "off-topic"
    );
    let (status, body) = send(
        w.app
            .http
            .post(w.url(&create))
            .bearer_auth(&w.alice)
            .json(&json!({"name": "OFF-TOPIC"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_error(&body, "channel_name_taken");
    for name in ["", "   ", &"c".repeat(101)] {
        let (status, _) = send(
            w.app
                .http
                .post(w.url(&create))
                .bearer_auth(&w.alice)
                .json(&json!({"name": name})),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name:?}");
    }

    let channel_path = format!("/api/channels/{}/", channel["id"]);
    w.only_the_owner_may(
        reqwest::Method::PATCH,
        &channel_path,
        Some(json!({"topic": "x"})),
    )
    .await;
    let (status, renamed) = send(
        w.app
            .http
            .patch(w.url(&channel_path))
            .bearer_auth(&w.alice)
            .json(&json!({"name": "Random"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(renamed["name"], "random");
    assert_eq!(renamed["topic"], "anything");
    assert_eq!(
        socket.recv_type("channel.updated", WAIT).await["channel"]["name"],
        "random"
    );
    let (status, _) = send(
        w.app
            .http
            .patch(w.url(&channel_path))
            .bearer_auth(&w.alice)
            .json(&json!({"name": "general"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "renaming onto a taken name");

    w.only_the_owner_may(reqwest::Method::DELETE, &channel_path, None)
        .await;
    let mut inside = w
        .socket(&w.bob, channel["id"].as_i64().unwrap_or_default())
        .await;
    let (status, _) = send(
        w.app
            .http
            .delete(w.url(&channel_path))
            .bearer_auth(&w.alice),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let deleted = socket.recv_type("channel.deleted", WAIT).await;
    assert_eq!(deleted["channel_id"], channel["id"]);
    inside.recv_type("channel.deleted", WAIT).await;
    assert_eq!(
        inside.recv_close(WAIT).await,
        Some(4004),
        "sockets on the deleted channel close"
    );
    let (status, _) = send(
        w.app
            .http
            .delete(w.url(&channel_path))
            .bearer_auth(&w.alice),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn members_are_listed_a_page_at_a_time() {
    let w = world().await;
    let mut ids = vec![w.bob_id.0];
    for name in ["dave", "erin", "frank"] {
        let (id, token) = w.app.user_with_token(name).await;
        send(
            w.app
                .http
                .post(w.url(&format!("/api/membership/{}/membership/", w.server.0)))
                .bearer_auth(&token),
        )
        .await;
        ids.push(id.0);
    }
    let path = format!("/api/servers/{}/members/", w.server.0);
    let (status, body) = send(w.app.http.get(w.url(&path))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body, "not_authenticated");
    let (status, first) = send(
        w.app
            .http
            .get(w.url(&format!("{path}?limit=3")))
            .bearer_auth(&w.carol),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let page: Vec<Value> = first.as_array().cloned().unwrap_or_default();
    assert_eq!(page.len(), 3);
    assert_eq!(page[0]["username"], "alice");
    assert!(page[0]["joined_at"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));
    let last = page[2]["user_id"].as_i64().unwrap_or_default();
    let (_, second) = send(
        w.app
            .http
            .get(w.url(&format!("{path}?limit=3&after={last}")))
            .bearer_auth(&w.carol),
    )
    .await;
    let names: Vec<&str> = second
        .as_array()
        .map(|m| m.iter().filter_map(|m| m["username"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, ["erin", "frank"]);
    for query in ["?limit=0", "?limit=101", "?limit=abc", "?after=x"] {
        let (status, _) = send(
            w.app
                .http
                .get(w.url(&format!("{path}{query}")))
                .bearer_auth(&w.carol),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
    }
    let (status, _) = send(
        w.app
            .http
            .get(w.url("/api/servers/999999/members/"))
            .bearer_auth(&w.carol),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_owner_removes_members_who_then_cannot_post_on_open_sockets() {
    let w = world().await;
    let path = format!("/api/servers/{}/members/{}/", w.server.0, w.bob_id.0);
    w.only_the_owner_may(reqwest::Method::DELETE, &path, None)
        .await;
    let mut owner_socket = w.socket(&w.alice, w.general).await;
    let mut bob_socket = w.socket(&w.bob, w.general).await;
    let (status, _) = send(w.app.http.delete(w.url(&path)).bearer_auth(&w.alice)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        owner_socket.recv_type("member.left", WAIT).await["user_id"],
        w.bob_id.0
    );
    bob_socket.say("am I still here?").await;
    assert_eq!(
        bob_socket.recv_type("error", WAIT).await["code"],
        "not_member"
    );
    let (status, body) = send(w.app.http.delete(w.url(&path)).bearer_auth(&w.alice)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body, "not_member");
    let alice_id = {
        let (_, server) = send(
            w.app
                .http
                .get(w.url(&format!("/api/servers/{}/", w.server.0))),
        )
        .await;
        server["owner"].as_i64().unwrap_or_default()
    };
    let (status, body) = send(
        w.app
            .http
            .delete(w.url(&format!("/api/servers/{}/members/{alice_id}/", w.server.0)))
            .bearer_auth(&w.alice),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_error(&body, "owner_cannot_leave");
}

#[tokio::test]
async fn categories_are_managed_by_staff_only() {
    let w = world().await;
    let (_, staff) = w.app.staff_with_token("root_staff").await;
    for (token, expected) in [
        (None, StatusCode::UNAUTHORIZED),
        (Some(&w.alice), StatusCode::FORBIDDEN),
    ] {
        let mut request = w
            .app
            .http
            .post(w.url("/api/categories/"))
            .json(&json!({"name": "Nope"}));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let (status, _) = send(request).await;
        assert_eq!(status, expected);
    }
    let (status, created) = send(
        w.app
            .http
            .post(w.url("/api/categories/"))
            .bearer_auth(&staff)
            .json(&json!({"name": "Board Games", "description": "Meeples"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["name"], "board games");
    let (status, body) = send(
        w.app
            .http
            .post(w.url("/api/categories/"))
            .bearer_auth(&staff)
            .json(&json!({"name": "BOARD GAMES"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_error(&body, "category_name_taken");
    let path = format!("/api/categories/{}/", created["id"]);
    let (status, _) = send(
        w.app
            .http
            .patch(w.url(&path))
            .bearer_auth(&w.alice)
            .json(&json!({"description": "x"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, updated) = send(
        w.app
            .http
            .patch(w.url(&path))
            .bearer_auth(&staff)
            .json(&json!({"description": "Dice too"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(updated["description"], "Dice too");
    let (_, listed) = send(w.app.http.get(w.url("/api/server/category/"))).await;
    assert!(listed
        .as_array()
        .is_some_and(|c| c.iter().any(|c| c["name"] == "board games")));
    let (status, _) = send(w.app.http.delete(w.url(&path)).bearer_auth(&w.alice)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = send(w.app.http.delete(w.url(&path)).bearer_auth(&staff)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(w.app.http.delete(w.url(&path)).bearer_auth(&staff)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A category that servers belong to is not deleted from under them.
    let misc = listed
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "misc"))
        .map(|c| c["id"].clone())
        .unwrap_or_default();
    let (status, body) = send(
        w.app
            .http
            .delete(w.url(&format!("/api/categories/{misc}/")))
            .bearer_auth(&staff),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_error(&body, "category_not_empty");
}
