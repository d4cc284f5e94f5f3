//! Searching messages: what a query asks for, and how a hit is shown.
//!
//! A query is a list of terms, each a word (anything between white space) or a `"quoted
//! phrase"`; a message matches when its content holds every term, ignoring letter case, as a
//! substring: so a term finds text in languages written without spaces (Japanese, Chinese) and
//! inside words that carry endings (Korean particles, Russian cases) as well as English.

use serde::Serialize;

/// Longest query, in characters.
pub const QUERY_MAX_CHARS: usize = 200;
/// At most this many terms in one query.
pub const TERMS_MAX: usize = 8;
/// Hits per page: at most, and when the caller does not say.
pub const PAGE_MAX: i64 = 50;
pub const PAGE_DEFAULT: i64 = 25;
/// About how many characters of a message an excerpt shows.
pub const EXCERPT_CHARS: usize = 160;
/// How many characters an excerpt shows before its first hit, when it cannot show all.
const EXCERPT_LEAD: usize = 40;

/// Why a query is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("the query has no words")]
    Empty,
    #[error("the query is longer than {QUERY_MAX_CHARS} characters")]
    TooLong,
    #[error("the query has more than {TERMS_MAX} words")]
    TooManyTerms,
    #[error("the query holds a control character")]
    ControlCharacter,
}

/// The terms of a query, in order, each once (letter case ignored).
pub fn terms(query: &str) -> Result<Vec<String>, QueryError> {
    if query.chars().count() > QUERY_MAX_CHARS {
        return Err(QueryError::TooLong);
    }
    if query.chars().any(|c| c.is_control() && !c.is_whitespace()) {
        return Err(QueryError::ControlCharacter);
    }
    let mut found: Vec<String> = Vec::new();
    let mut add = |term: &str| {
        let term = term.split_whitespace().collect::<Vec<_>>().join(" ");
        if !term.is_empty() && !found.iter().any(|t| fold(t) == fold(&term)) {
            found.push(term);
        }
    };
    // Outside quotes a term ends at white space; a quote opens a phrase that the next quote
    // (or the end) closes.
    let mut rest = query;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        if let Some(phrase) = rest.strip_prefix('"') {
            let end = phrase.find('"').unwrap_or(phrase.len());
            add(&phrase[..end]);
            rest = phrase.get(end + 1..).unwrap_or("");
        } else {
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '"')
                .unwrap_or(rest.len());
            add(&rest[..end]);
            rest = &rest[end..];
        }
    }
    if found.is_empty() {
        return Err(QueryError::Empty);
    }
    if found.len() > TERMS_MAX {
        return Err(QueryError::TooManyTerms);
    }
    Ok(found)
}

/// The SQL `LIKE` pattern that finds `term` anywhere (`\` escapes, PostgreSQL's default).
pub fn like_pattern(term: &str) -> String {
    let mut pattern = String::with_capacity(term.len() + 2);
    pattern.push('%');
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

fn fold(text: &str) -> String {
    text.chars().flat_map(char::to_lowercase).collect()
}

/// A piece of an excerpt: text, and whether it is a hit of the query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExcerptPart {
    pub text: String,
    pub hit: bool,
}

/// The part of `content` that shows why it matched `terms`: about [`EXCERPT_CHARS`]
/// characters starting a little before the first hit (`…` where it is cut), split into
/// pieces that are hits and pieces that are not. Letter case is ignored as the search does.
pub fn excerpt(content: &str, terms: &[String]) -> Vec<ExcerptPart> {
    let chars: Vec<char> = content.chars().collect();
    // The content folded to lower case, each folded character knowing the original one it
    // comes from (one character may fold to several).
    let mut folded: Vec<char> = Vec::with_capacity(chars.len());
    let mut origin: Vec<usize> = Vec::with_capacity(chars.len());
    for (i, c) in chars.iter().enumerate() {
        for lower in c.to_lowercase() {
            folded.push(lower);
            origin.push(i);
        }
    }
    // Every occurrence of every term, as ranges of original characters.
    let mut hits: Vec<(usize, usize)> = Vec::new();
    for term in terms {
        let needle: Vec<char> = fold(term).chars().collect();
        if needle.is_empty() || needle.len() > folded.len() {
            continue;
        }
        let mut at = 0;
        while at + needle.len() <= folded.len() {
            if folded[at..at + needle.len()] == needle[..] {
                hits.push((origin[at], origin[at + needle.len() - 1] + 1));
                at += needle.len();
            } else {
                at += 1;
            }
        }
    }
    hits.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(hits.len());
    for (start, end) in hits {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    // The window: everything when it fits, else from a little before the first hit.
    let (from, to) = if chars.len() <= EXCERPT_CHARS {
        (0, chars.len())
    } else {
        let first = merged.first().map_or(0, |hit| hit.0);
        let from = first
            .saturating_sub(EXCERPT_LEAD)
            .min(chars.len() - EXCERPT_CHARS);
        (from, from + EXCERPT_CHARS)
    };
    let mut parts: Vec<ExcerptPart> = Vec::new();
    let mut push = |text: String, hit: bool| {
        if text.is_empty() {
            return;
        }
        match parts.last_mut() {
            Some(last) if last.hit == hit => last.text.push_str(&text),
            _ => parts.push(ExcerptPart { text, hit }),
        }
    };
    let slice = |a: usize, b: usize| chars[a..b].iter().collect::<String>();
    if from > 0 {
        push("…".to_owned(), false);
    }
    let mut at = from;
    for (start, end) in merged {
        let (start, end) = (start.max(from), end.min(to));
        if start >= end {
            continue;
        }
        push(slice(at, start), false);
        push(slice(start, end), true);
        at = end;
    }
    push(slice(at, to), false);
    if to < chars.len() {
        push("…".to_owned(), false);
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms_of(query: &str) -> Vec<String> {
        terms(query).expect("a valid query")
    }

    fn shown(parts: &[ExcerptPart]) -> String {
        parts
            .iter()
            .map(|p| {
                if p.hit {
                    format!("[{}]", p.text)
                } else {
                    p.text.clone()
                }
            })
            .collect()
    }

    #[test]
    fn terms_are_words_and_quoted_phrases_each_once() {
        assert_eq!(terms_of("  hello   world "), ["hello", "world"]);
        assert_eq!(
            terms_of(r#"deploy "friday   night" now"#),
            ["deploy", "friday night", "now"]
        );
        assert_eq!(terms_of("Hello hello HELLO"), ["Hello"]);
        assert_eq!(terms_of(r#""unclosed phrase"#), ["unclosed phrase"]);
        assert_eq!(terms_of(r#"a"b"#), ["a", "b"]);
        assert_eq!(terms_of("회의는 내일"), ["회의는", "내일"]);
        assert_eq!(terms_of("Привет ПРИВЕТ"), ["Привет"]);
    }

    #[test]
    fn refused_queries() {
        assert_eq!(terms(""), Err(QueryError::Empty));
        assert_eq!(terms("   \t "), Err(QueryError::Empty));
        assert_eq!(terms(r#""" "  ""#), Err(QueryError::Empty));
        assert_eq!(
            terms(&"x".repeat(QUERY_MAX_CHARS + 1)),
            Err(QueryError::TooLong)
        );
        assert!(terms(&"가".repeat(QUERY_MAX_CHARS)).is_ok());
        assert_eq!(terms("a b c d e f g h i"), Err(QueryError::TooManyTerms));
        assert!(terms("a b c d e f g h").is_ok());
        assert_eq!(terms("a\0b"), Err(QueryError::ControlCharacter));
        assert_eq!(terms("a\u{7}b"), Err(QueryError::ControlCharacter));
        assert!(terms("a\nb\tc").is_ok());
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("abc"), "%abc%");
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
        assert_eq!(like_pattern("東京"), "%東京%");
    }

    #[test]
    fn short_messages_show_whole_with_hits_marked() {
        let parts = excerpt("Deploy on Friday, deploy again", &terms_of("deploy friday"));
        assert_eq!(shown(&parts), "[Deploy] on [Friday], [deploy] again");
        assert_eq!(
            shown(&excerpt("회의는 내일 아침", &terms_of("회의"))),
            "[회의]는 내일 아침"
        );
        assert_eq!(
            shown(&excerpt("Встреча ЗАВТРА утром", &terms_of("завтра"))),
            "Встреча [ЗАВТРА] утром"
        );
        assert_eq!(
            shown(&excerpt("東京タワーに行く", &terms_of("タワー"))),
            "東京[タワー]に行く"
        );
        // Overlapping terms make one hit.
        assert_eq!(
            shown(&excerpt("abcdef", &terms_of("abcd cdef"))),
            "[abcdef]"
        );
        // No hit (the database folds case another way): the text as it is.
        assert_eq!(shown(&excerpt("plain", &terms_of("zzz"))), "plain");
    }

    #[test]
    fn long_messages_are_cut_around_the_first_hit() {
        let content = format!("{}needle{}", "a".repeat(500), "b".repeat(500));
        let parts = excerpt(&content, &terms_of("needle"));
        let text = shown(&parts);
        assert!(text.starts_with('…') && text.ends_with('…'), "{text}");
        assert!(text.contains(&format!("{}[needle]b", "a".repeat(EXCERPT_LEAD))));
        let visible: usize = parts.iter().map(|p| p.text.chars().count()).sum();
        assert_eq!(visible, EXCERPT_CHARS + 2);
        // A hit near the end: the window ends with the message.
        let content = format!("{}needle", "a".repeat(500));
        let text = shown(&excerpt(&content, &terms_of("needle")));
        assert!(
            text.starts_with('…') && text.ends_with("[needle]"),
            "{text}"
        );
        // A hit near the start: no leading cut.
        let content = format!("needle{}", "a".repeat(500));
        let text = shown(&excerpt(&content, &terms_of("needle")));
        assert!(
            text.starts_with("[needle]") && text.ends_with('…'),
            "{text}"
        );
    }

    #[test]
    fn folding_that_changes_length_keeps_the_original_text() {
        // 'İ' folds to two characters; the hit still covers the original ones.
        let parts = excerpt("İstanbul trip", &terms_of("trip"));
        assert_eq!(shown(&parts), "İstanbul [trip]");
        let parts = excerpt("İstanbul", &terms_of("i̇stanbul"));
        assert_eq!(shown(&parts), "[İstanbul]");
    }
}
