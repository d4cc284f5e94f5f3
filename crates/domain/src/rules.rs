//! The product's rules, as pure functions.

use crate::ids::UserId;

/// Longest username, as in the reference (Django's `AbstractUser`).
pub const USERNAME_MAX_CHARS: usize = 150;
/// Shortest acceptable password.
pub const PASSWORD_MIN_CHARS: usize = 8;
/// Longest accepted password: bounds the work one login request can cause.
pub const PASSWORD_MAX_CHARS: usize = 1024;
/// Longest chat message, after trimming.
pub const MESSAGE_MAX_CHARS: usize = 2000;
/// How many messages the compatibility history endpoint returns.
pub const COMPAT_HISTORY_LIMIT: i64 = 50;
/// Longest message nonce (a client's de-duplication key).
pub const NONCE_MAX_CHARS: usize = 64;
/// How long a nonce keeps answering with the message first sent with it.
pub const NONCE_WINDOW_MINUTES: i32 = 10;
/// How many messages a history page holds when the client does not say.
pub const HISTORY_PAGE_DEFAULT: i64 = 50;
/// The most messages one history page may hold.
pub const HISTORY_PAGE_MAX: i64 = 100;

/// Fewest participants of a group conversation (fewer is a direct conversation).
pub const GROUP_MIN_PARTICIPANTS: usize = 3;
/// Most participants of a group conversation.
pub const GROUP_MAX_PARTICIPANTS: usize = 10;
/// Longest group conversation name, after trimming.
pub const GROUP_NAME_MAX_CHARS: usize = 100;

/// A group conversation's name, trimmed, if it has 1 to 100 characters then.
pub fn normalize_group_name(name: &str) -> Option<&str> {
    let name = name.trim();
    let chars = name.chars().count();
    (1..=GROUP_NAME_MAX_CHARS)
        .contains(&chars)
        .then_some(name)
        .filter(|n| !n.chars().any(char::is_control))
}

/// The other participants of a new group conversation, checked: `creator` is left out of
/// `others` (naming yourself is harmless), duplicates are dropped, and the group with its
/// creator must have 3 to 10 participants. `Err` says what is wrong.
pub fn group_participants(creator: UserId, others: &[UserId]) -> Result<Vec<UserId>, String> {
    let mut unique: Vec<UserId> = Vec::with_capacity(others.len());
    for &other in others {
        if other != creator && !unique.contains(&other) {
            unique.push(other);
        }
    }
    let total = unique.len() + 1;
    if !(GROUP_MIN_PARTICIPANTS..=GROUP_MAX_PARTICIPANTS).contains(&total) {
        return Err(format!(
            "A group has {GROUP_MIN_PARTICIPANTS} to {GROUP_MAX_PARTICIPANTS} participants, \
             you included: name 2 to 9 other users"
        ));
    }
    Ok(unique)
}

/// Names nobody may register, so that nobody can pose as the operators (as in the reference).
const RESERVED_USERNAMES: [&str; 3] = ["admin", "root", "superuser"];

/// Problems with a proposed username; empty when it is acceptable.
///
/// 1–150 characters of letters, digits and `@ . + - _`, as Django's username validator allows.
pub fn username_problems(username: &str) -> Vec<&'static str> {
    let mut problems = Vec::new();
    let chars = username.chars().count();
    if chars == 0 {
        problems.push("This field may not be blank.");
    }
    if chars > USERNAME_MAX_CHARS {
        problems.push("Ensure this field has no more than 150 characters.");
    }
    if !username
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '@' | '.' | '+' | '-' | '_'))
    {
        problems.push(
            "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.",
        );
    }
    problems
}

/// Whether a well-formed username is kept back for the operators.
pub fn is_reserved_username(username: &str) -> bool {
    RESERVED_USERNAMES
        .iter()
        .any(|reserved| reserved.eq_ignore_ascii_case(username))
}

/// Problems with a proposed password; empty when it is acceptable.
pub fn password_problems(password: &str) -> Vec<&'static str> {
    let mut problems = Vec::new();
    let chars = password.chars().count();
    if chars < PASSWORD_MIN_CHARS {
        problems.push("This password is too short. It must contain at least 8 characters.");
    }
    if chars > PASSWORD_MAX_CHARS {
        problems.push("This password is too long. It must contain at most 1024 characters.");
    }
    if !password.is_empty() && password.chars().all(|c| c.is_ascii_digit()) {
        problems.push("This password is entirely numeric.");
    }
    problems
}

/// Category names are case-insensitive and stored lower-case.
pub fn normalize_category_name(name: &str) -> String {
    name.trim().to_lowercase()
}

/// The stored form of a chat message, or `None` when it is empty or too long once trimmed.
pub fn normalize_message(content: &str) -> Option<&str> {
    let trimmed = content.trim();
    let chars = trimmed.chars().count();
    ((1..=MESSAGE_MAX_CHARS).contains(&chars) && !trimmed.contains('\0')).then_some(trimmed)
}

/// Whether `nonce` is an acceptable de-duplication key: 1–64 characters, none of them control
/// characters. It is an opaque key, compared exactly (never trimmed).
pub fn nonce_is_valid(nonce: &str) -> bool {
    let chars = nonce.chars().count();
    (1..=NONCE_MAX_CHARS).contains(&chars) && !nonce.chars().any(char::is_control)
}

/// Only the author of a message may edit it.
pub fn may_edit_message(author: UserId, user: UserId) -> bool {
    author == user
}

/// The author of a message may delete it, and so may the owner of the server it was posted in.
pub fn may_delete_message(author: UserId, server_owner: Option<UserId>, user: UserId) -> bool {
    author == user || server_owner == Some(user)
}

/// At most this many distinct emoji react to one message.
pub const REACTIONS_MAX: i64 = 20;

/// The emoji a reaction names: `text` must be exactly one emoji of Unicode's list (any skin
/// tone), as its fully-qualified form; `None` for two emoji, text, or anything else.
pub fn reaction_emoji(text: &str) -> Option<&'static str> {
    // The longest emoji (a family with skin tones) is well under 64 bytes.
    if text.len() > 64 {
        return None;
    }
    emojis::get(text).map(emojis::Emoji::as_str)
}

/// At most this many messages are pinned in one channel or conversation.
pub const PINS_MAX: i64 = 50;

/// Who may pin and unpin a message: in a server's channel its author and the server's owner
/// (`server_owner`); in a conversation (`None`) every participant, `user` being one.
pub fn may_pin_message(author: UserId, server_owner: Option<UserId>, user: UserId) -> bool {
    match server_owner {
        Some(owner) => author == user || owner == user,
        None => true,
    }
}

/// Longest server, channel and category name.
/// At most this many distinct users are mentioned by one message; later ones are plain text.
pub const MENTIONS_MAX: usize = 20;

/// The users a message mentions, Discord's way: `<@id>` (or `<@!id>`, the nickname form bots
/// write) anywhere in its content, in order of first appearance, each once, at most
/// [`MENTIONS_MAX`]. Anything else that looks like one (`<@>`, `<@12a>`, an id past `i64`)
/// is text.
pub fn mentioned_users(content: &str) -> Vec<UserId> {
    let mut found: Vec<UserId> = Vec::new();
    let mut rest = content;
    while let Some(at) = rest.find("<@") {
        rest = &rest[at + 2..];
        let digits = rest.strip_prefix('!').unwrap_or(rest);
        let end = digits
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(digits.len());
        if end == 0 || !digits[end..].starts_with('>') {
            continue;
        }
        let Ok(id) = digits[..end].parse::<i64>() else {
            continue;
        };
        let user = UserId(id);
        if id > 0 && !found.contains(&user) {
            found.push(user);
            if found.len() == MENTIONS_MAX {
                break;
            }
        }
    }
    found
}

pub const NAME_MAX_CHARS: usize = 100;
/// Longest server or category description.
pub const DESCRIPTION_MAX_CHARS: usize = 500;
/// Longest channel topic.
pub const TOPIC_MAX_CHARS: usize = 1024;
/// The channel every new server starts with.
pub const FIRST_CHANNEL: &str = "general";

/// Channel names are stored lower-case (as in the reference) and trimmed; `None` when the
/// result is empty or too long, or when the name holds control characters (anywhere, as
/// [`name_is_valid`] checks: trimming does not make "\tgeneral" acceptable).
pub fn normalize_channel_name(name: &str) -> Option<String> {
    if name.chars().any(char::is_control) {
        return None;
    }
    let name = name.trim().to_lowercase();
    let chars = name.chars().count();
    (1..=NAME_MAX_CHARS).contains(&chars).then_some(name)
}

/// A display name (server, category) is trimmed and must have 1–100 characters and no control
/// characters.
pub fn name_is_valid(name: &str) -> bool {
    let chars = name.trim().chars().count();
    (1..=NAME_MAX_CHARS).contains(&chars) && !name.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_reaction_is_exactly_one_emoji() {
        for emoji in ["👍", "🇫🇷", "👍🏽", "❤️", "👩‍👩‍👧‍👦", "1️⃣"]
        {
            assert_eq!(reaction_emoji(emoji), Some(emoji), "{emoji}");
        }
        for text in [
            "", "a", "👍👍", "👍 ", " 👍", "ok", ":+1:", "🇫", "<@1>", "\u{0}",
        ] {
            assert_eq!(reaction_emoji(text), None, "{text:?}");
        }
        assert_eq!(reaction_emoji(&"👍".repeat(1000)), None);
    }

    #[test]
    fn authors_and_owners_pin_in_servers_and_participants_in_conversations() {
        let (author, owner, other) = (UserId(1), UserId(2), UserId(3));
        assert!(may_pin_message(author, Some(owner), author));
        assert!(may_pin_message(author, Some(owner), owner));
        assert!(!may_pin_message(author, Some(owner), other));
        assert!(may_pin_message(author, None, other));
    }

    #[test]
    fn mentions_are_discords_form_in_order_once_each_and_at_most_twenty() {
        let ids = |content: &str| -> Vec<i64> {
            mentioned_users(content).into_iter().map(|u| u.0).collect()
        };
        assert_eq!(ids("hi <@12> and <@!7>, <@12> again"), vec![12, 7]);
        assert_eq!(ids("<@3><@4>"), vec![3, 4]);
        assert!(ids("no one: <@> <@x> <@12 <@-3> <@0> <12> @12 <@!>").is_empty());
        assert!(ids("<@99999999999999999999>").is_empty());
        assert_eq!(ids("<@<@5>"), vec![5]);
        assert_eq!(ids("Über <@8> — 한국어 <@9>"), vec![8, 9]);
        let many: String = (1..=30).map(|i| format!("<@{i}> ")).collect();
        assert_eq!(ids(&many), (1..=20).collect::<Vec<_>>());
    }

    use super::*;

    #[test]
    fn group_names_are_trimmed_and_bounded() {
        assert_eq!(
            normalize_group_name("  weekend plans "),
            Some("weekend plans")
        );
        assert_eq!(normalize_group_name("   "), None);
        assert_eq!(
            normalize_group_name(&"x".repeat(100)),
            Some("x".repeat(100).as_str())
        );
        assert_eq!(normalize_group_name(&"x".repeat(101)), None);
        assert_eq!(normalize_group_name("a\u{0}b"), None);
    }

    #[test]
    fn a_group_has_three_to_ten_participants_without_duplicates() {
        let me = UserId(1);
        let ids = |range: std::ops::RangeInclusive<i64>| range.map(UserId).collect::<Vec<_>>();
        assert_eq!(group_participants(me, &ids(2..=3)), Ok(ids(2..=3)));
        assert_eq!(group_participants(me, &ids(2..=10)), Ok(ids(2..=10)));
        assert!(group_participants(me, &ids(2..=11)).is_err(), "eleven");
        assert!(
            group_participants(me, &ids(2..=2)).is_err(),
            "two is a direct conversation"
        );
        assert!(group_participants(me, &[]).is_err());
        // Yourself and repeats do not count.
        assert!(group_participants(me, &[UserId(1), UserId(2), UserId(2)]).is_err());
        assert_eq!(
            group_participants(me, &[UserId(3), UserId(1), UserId(2), UserId(3)]),
            Ok(vec![UserId(3), UserId(2)])
        );
    }

    #[test]
    fn usernames_follow_django_rules() {
        assert!(username_problems("alice").is_empty());
        assert!(username_problems("a.l+i-c_e@x").is_empty());
        assert!(username_problems("zoë").is_empty());
        assert!(!username_problems("").is_empty());
        assert!(!username_problems("has space").is_empty());
        assert!(!username_problems("semi;colon").is_empty());
        assert!(username_problems(&"a".repeat(150)).is_empty());
        assert!(!username_problems(&"a".repeat(151)).is_empty());
    }

    #[test]
    fn reserved_usernames_are_refused_in_any_case() {
        assert!(is_reserved_username("admin"));
        assert!(is_reserved_username("ROOT"));
        assert!(!is_reserved_username("administrator"));
    }

    #[test]
    fn passwords_need_eight_chars_not_all_digits() {
        assert!(password_problems("correct horse").is_empty());
        assert!(!password_problems("short").is_empty());
        assert!(!password_problems("12345678901").is_empty());
        assert!(!password_problems(&"x".repeat(1025)).is_empty());
    }

    #[test]
    fn messages_are_trimmed_and_bounded() {
        assert_eq!(normalize_message("  hi  "), Some("hi"));
        assert_eq!(normalize_message("nul\0inside"), None);
        assert_eq!(normalize_message("   "), None);
        assert!(normalize_message(&"é".repeat(2000)).is_some());
        assert!(normalize_message(&"é".repeat(2001)).is_none());
    }

    #[test]
    fn nonces_are_short_opaque_keys() {
        assert!(nonce_is_valid("5f0c6c1e-8d5b-4a53-9a8e-3f1d2c9b7a10"));
        assert!(nonce_is_valid(" spaced "));
        assert!(nonce_is_valid(&"é".repeat(64)));
        assert!(!nonce_is_valid(&"x".repeat(65)));
        assert!(!nonce_is_valid(""));
        assert!(!nonce_is_valid("tab\there"));
        assert!(!nonce_is_valid("nul\0"));
    }

    #[test]
    fn authors_edit_and_authors_or_server_owners_delete() {
        let (author, owner, stranger) = (UserId(1), UserId(2), UserId(3));
        assert!(may_edit_message(author, author));
        assert!(!may_edit_message(author, owner));
        assert!(may_delete_message(author, Some(owner), author));
        assert!(may_delete_message(author, Some(owner), owner));
        assert!(!may_delete_message(author, Some(owner), stranger));
        assert!(!may_delete_message(author, None, stranger));
    }

    #[test]
    fn channel_names_are_trimmed_lower_case_and_bounded() {
        assert_eq!(
            normalize_channel_name("  Off-Topic "),
            Some("off-topic".to_owned())
        );
        assert_eq!(normalize_channel_name("   "), None);
        assert_eq!(normalize_channel_name("bad\u{0}name"), None);
        assert_eq!(normalize_channel_name("\tpadded\n"), None);
        assert_eq!(normalize_channel_name("\u{85}x"), None);
        assert!(normalize_channel_name(&"c".repeat(100)).is_some());
        assert!(normalize_channel_name(&"c".repeat(101)).is_none());
    }

    #[test]
    fn display_names_need_visible_characters() {
        assert!(name_is_valid("Rustaceans"));
        assert!(!name_is_valid("  "));
        assert!(!name_is_valid("tab\there"));
        assert!(!name_is_valid(&"n".repeat(101)));
    }

    #[test]
    fn category_names_are_lower_case() {
        assert_eq!(normalize_category_name("  Gaming "), "gaming");
    }
}
