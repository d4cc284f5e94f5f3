//! Storing a socket's queued messages in one round trip (`hearth_db::messages::create_many`):
//! the same rules as one message at a time, in order, one outcome per message.

use hearth_db::messages::{create_many, Draft, Stored};
use hearth_domain::{ChannelId, DomainError, ServerId, UserRef};
use hearth_tests::TestApp;

async fn user(app: &TestApp, name: &str) -> UserRef {
    let (id, _) = app.user_with_token(name).await;
    UserRef {
        id,
        username: name.to_owned(),
    }
}

/// A server owned by `owner`, with one channel.
async fn channel_of(app: &TestApp, owner: &UserRef) -> (ServerId, ChannelId) {
    let category = app.category("misc").await;
    let server = app.server(owner.id, category, "Place").await;
    (server, app.channel(server, owner.id, "general").await.id)
}

fn draft<'a>(content: &'a str, nonce: Option<&'a str>) -> Draft<'a> {
    Draft {
        content,
        nonce,
        reply_to: None,
    }
}

fn seq_of(outcome: &Result<Stored, DomainError>) -> Option<i64> {
    match outcome {
        Ok(Stored::Created(message)) => Some(message.seq),
        _ => None,
    }
}

#[tokio::test]
async fn a_batch_is_numbered_in_order_and_each_message_gets_its_own_outcome() {
    let app = TestApp::spawn().await;
    let alice = user(&app, "alice").await;
    let (server, channel) = channel_of(&app, &alice).await;

    let first = [
        draft("one", None),
        draft("two", Some("n-2")),
        draft("three", None),
    ];
    let stored = create_many(&app.db, Some(server), channel, &alice, &first)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        stored.iter().map(seq_of).collect::<Vec<_>>(),
        [Some(1), Some(2), Some(3)]
    );
    let contents: Vec<String> = stored
        .iter()
        .filter_map(|s| match s {
            Ok(Stored::Created(m)) => Some(m.content.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(contents, ["one", "two", "three"]);

    // A nonce used before (or earlier in the same batch) replays; a NUL character, which
    // PostgreSQL cannot store, refuses that message only; the others keep their order.
    let second = [
        draft("four", Some("n-4")),
        draft("two again", Some("n-2")),
        draft("bad\u{0}text", None),
        draft("four again", Some("n-4")),
        draft("five", None),
    ];
    let stored = create_many(&app.db, Some(server), channel, &alice, &second)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stored.len(), 5);
    assert_eq!(seq_of(&stored[0]), Some(4));
    match &stored[1] {
        Ok(Stored::Replayed(m)) => assert_eq!((m.seq, m.content.as_str()), (2, "two")),
        other => panic!("expected a replay of the second message, got {other:?}"),
    }
    assert!(
        matches!(stored[2], Err(DomainError::InvalidInput(_))),
        "{:?}",
        stored[2]
    );
    match &stored[3] {
        Ok(Stored::Replayed(m)) => assert_eq!((m.seq, m.content.as_str()), (4, "four")),
        other => panic!("expected a replay of the fourth message, got {other:?}"),
    }
    assert_eq!(seq_of(&stored[4]), Some(5));

    let history = hearth_db::messages::since(&app.db, channel, 0, 100)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let numbered: Vec<(i64, &str)> = history
        .iter()
        .map(|m| (m.seq, m.content.as_str()))
        .collect();
    assert_eq!(
        numbered,
        [
            (1, "one"),
            (2, "two"),
            (3, "three"),
            (4, "four"),
            (5, "five")
        ]
    );
}

#[tokio::test]
async fn a_non_members_batch_stores_nothing() {
    let app = TestApp::spawn().await;
    let owner = user(&app, "owner").await;
    let stranger = user(&app, "stranger").await;
    let (server, channel) = channel_of(&app, &owner).await;
    let batch = [draft("hi", None), draft("there", Some("n"))];
    let stored = create_many(&app.db, Some(server), channel, &stranger, &batch)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        stored.iter().all(|s| matches!(s, Ok(Stored::NotMember))),
        "{stored:?}"
    );
    let history = hearth_db::messages::since(&app.db, channel, 0, 100)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(history.is_empty());
    // No batch at all is no call at all.
    let none = create_many(&app.db, Some(server), channel, &stranger, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(none.is_empty());
}
