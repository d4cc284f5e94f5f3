//! Demo data: a few categories, servers with channels, users and messages.
//!
//! Idempotent: running it twice changes nothing the second time.

use crate::auth::PasswordHasher;
use hearth_db::{Db, DomainError};
use hearth_domain::model::JoinOutcome;
use hearth_domain::{CategoryId, ServerId, UserId};

/// The password of every demo user (documented in the README).
pub const DEMO_PASSWORD: &str = "hearth-demo";

const USERS: [&str; 4] = ["alice", "bob", "carol", "dave"];

const CATEGORIES: [(&str, &str); 4] = [
    ("gaming", "Play together, speedrun, and trade tips"),
    ("music", "Listening parties and making music"),
    ("programming", "Languages, tools and code review"),
    ("art", "Drawing, pixel art and feedback"),
];

/// (owner, category, name, description, channels)
const SERVERS: [(&str, &str, &str, &str, &[&str]); 5] = [
    (
        "alice",
        "programming",
        "Rustaceans",
        "All things Rust",
        &["general", "help", "showcase"],
    ),
    (
        "bob",
        "programming",
        "Web Builders",
        "Frontend, backend, everything in between",
        &["general", "react"],
    ),
    (
        "carol",
        "gaming",
        "Speedrunners",
        "Routes, splits and world records",
        &["general", "routing"],
    ),
    (
        "bob",
        "music",
        "Lo-fi Lounge",
        "Beats to relax and chat to",
        &["general", "now-playing"],
    ),
    (
        "dave",
        "art",
        "Pixel Art",
        "Tiny pictures, big ideas",
        &["general", "critique"],
    ),
];

const MESSAGES: [(&str, &str); 3] = [
    ("alice", "Welcome to Rustaceans! Say hi 👋"),
    ("bob", "Hi all, glad to be here."),
    (
        "carol",
        "Has anyone tried the new borrow checker diagnostics?",
    ),
];

/// Summary of what a seed run created.
#[derive(Debug, Default)]
pub struct SeedReport {
    pub users: usize,
    pub categories: usize,
    pub servers: usize,
}

async fn ensure_user(
    db: &Db,
    hasher: &PasswordHasher,
    name: &str,
) -> anyhow::Result<(UserId, bool)> {
    if let Some(credentials) = hearth_db::users::credentials(db, name).await? {
        return Ok((credentials.user.id, false));
    }
    let hash = hasher.hash(DEMO_PASSWORD).await?;
    match hearth_db::users::create(db, name, &hash, false).await {
        Ok(user) => Ok((user.id, true)),
        // Another seeder won the race.
        Err(DomainError::Conflict(_)) => {
            let credentials = hearth_db::users::credentials(db, name)
                .await?
                .ok_or_else(|| anyhow::anyhow!("user {name} vanished while seeding"))?;
            Ok((credentials.user.id, false))
        }
        Err(e) => Err(e.into()),
    }
}

async fn ensure_category(
    db: &Db,
    name: &str,
    description: &str,
) -> anyhow::Result<(CategoryId, bool)> {
    match hearth_db::categories::create(db, name, description).await {
        Ok(category) => Ok((category.id, true)),
        Err(DomainError::Conflict(_)) => {
            let category = hearth_db::categories::find_by_name(db, name)
                .await?
                .ok_or_else(|| anyhow::anyhow!("category {name} vanished while seeding"))?;
            Ok((category.id, false))
        }
        Err(e) => Err(e.into()),
    }
}

/// Creates whatever part of the demo data is missing.
pub async fn run(db: &Db, hasher: &PasswordHasher) -> anyhow::Result<SeedReport> {
    let mut report = SeedReport::default();
    let mut users = Vec::new();
    for name in USERS {
        let (id, created) = ensure_user(db, hasher, name).await?;
        report.users += usize::from(created);
        users.push((name, id));
    }
    let user_id = |name: &str| {
        users
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, id)| *id)
            .ok_or_else(|| anyhow::anyhow!("unknown demo user {name}"))
    };
    let mut categories = Vec::new();
    for (name, description) in CATEGORIES {
        let (id, created) = ensure_category(db, name, description).await?;
        report.categories += usize::from(created);
        categories.push((name, id));
    }

    for (owner, category, name, description, channels) in SERVERS {
        let owner_id = user_id(owner)?;
        if hearth_db::servers::find_owned_by_name(db, owner_id, name)
            .await?
            .is_some()
        {
            continue;
        }
        let category_id = categories
            .iter()
            .find(|(n, _)| *n == category)
            .map(|(_, id)| *id)
            .ok_or_else(|| anyhow::anyhow!("unknown demo category {category}"))?;
        let server =
            hearth_db::servers::create(db, owner_id, category_id, name, description, None).await?;
        report.servers += 1;
        let mut first_channel = None;
        for channel in channels {
            let created = hearth_db::channels::create(db, server, owner_id, channel, "").await?;
            first_channel.get_or_insert(created.id);
        }
        // Everybody joins the first two servers; the rest keep only their owner.
        if server_is_popular(name) {
            for (_, member) in &users {
                join(db, server, *member).await?;
            }
            if let Some(channel) = first_channel {
                for (sender, text) in MESSAGES {
                    let sender = hearth_domain::UserRef {
                        id: user_id(sender)?,
                        username: (*sender).to_owned(),
                    };
                    let stored =
                        hearth_db::messages::create(db, Some(server), channel, &sender, text, None)
                            .await?;
                    if !matches!(stored, hearth_db::messages::Stored::Created(_)) {
                        anyhow::bail!("seed message not stored: {stored:?}");
                    }
                }
            }
        }
    }
    Ok(report)
}

fn server_is_popular(name: &str) -> bool {
    SERVERS.iter().take(2).any(|(_, _, n, _, _)| *n == name)
}

async fn join(db: &Db, server: ServerId, user: UserId) -> anyhow::Result<()> {
    match hearth_db::members::join(db, server, user).await? {
        JoinOutcome::Joined | JoinOutcome::AlreadyMember => Ok(()),
        JoinOutcome::NoSuchServer => Err(anyhow::anyhow!("server {server} vanished while seeding")),
    }
}
