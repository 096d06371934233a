//! Values found by key without a page walk: the value at a path of object keys,
//! read no further than needed (a body's head, an error envelope's `meta`), and
//! the top-level members of one object (where [`crate::json::splice`] edits).

use super::reader::{Reader, Span, Step};

/// The raw text of the value at `path` (object keys from the top), found as soon
/// as it is read: what follows it is not looked at, so `text` may be the head of a
/// body cut short. `stop_at`: a key of the innermost object that, met before the
/// last key of `path`, ends the search (the records list, when only the part of a
/// body before it is wanted). None when the value is not there (or not before
/// `stop_at`), or the text before it is not JSON.
pub fn value_at<'t>(text: &'t str, path: &[&str], stop_at: Option<&str>) -> Option<&'t str> {
    fn find(
        r: &mut Reader<'_>,
        path: &[&str],
        stop_at: Option<&str>,
        found: &mut Option<Span>,
    ) -> Step {
        let Some((&key, rest)) = path.split_first() else {
            return Ok(());
        };
        // Err ends the walk early: found it, or it is not there.
        r.object(|r, k, escaped| {
            if !escaped && k == key.as_bytes() {
                if rest.is_empty() {
                    *found = Some(r.spanned(Reader::value)?);
                    return Err("found");
                }
                if r.peek() == Some(b'{') {
                    find(r, rest, stop_at, found)?;
                    return Err("not inside");
                }
            } else if rest.is_empty() && stop_at.is_some_and(|s| k == s.as_bytes()) {
                return Err("stopped");
            }
            r.value()
        })
    }
    let mut r = Reader::new(text);
    let mut found = None;
    r.ws();
    if r.peek() != Some(b'{') {
        return None;
    }
    let _ = find(&mut r, path, stop_at, &mut found);
    found.and_then(|(s, e)| text.get(s..e))
}

/// One top-level member of an object: its key (raw text, without quotes) and the
/// span of its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member<'t> {
    pub key: &'t str,
    /// The key holds an escape: its raw text is not its value.
    pub escaped: bool,
    pub value: Span,
}

/// The top-level members of `text` and the offset of its closing `}`. None when
/// `text` is not one valid JSON object.
pub fn members(text: &str) -> Option<(Vec<Member<'_>>, usize)> {
    let mut r = Reader::new(text);
    r.ws();
    if r.peek() != Some(b'{') {
        return None;
    }
    let mut out = Vec::new();
    r.object(|r, key, escaped| {
        let value = r.spanned(Reader::value)?;
        out.push(Member {
            key: std::str::from_utf8(key).unwrap_or(""),
            escaped,
            value,
        });
        Ok(())
    })
    .ok()?;
    let close = r.i.checked_sub(1)?;
    r.end().ok()?;
    Some((out, close))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_value_from_the_head() {
        let body =
            r#"{"meta":{"code":200},"data":{"pagination":{"next_cursor":"c"},"trackings":[{"id":"#;
        assert_eq!(
            value_at(body, &["data", "pagination"], Some("trackings")),
            Some(r#"{"next_cursor":"c"}"#)
        );
        assert_eq!(
            value_at(body, &["data", "next_token"], Some("trackings")),
            None
        );
        let late = r#"{"data":{"labels":[],"next_token":"t"}}"#;
        assert_eq!(
            value_at(late, &["data", "next_token"], Some("labels")),
            None,
            "records come first"
        );
        assert_eq!(
            value_at("<html>", &["data", "next_token"], Some("labels")),
            None
        );
    }

    #[test]
    fn members_of_one_object() {
        let text = r#" { "a" : 1 , "b\"c" : {"d":[2]} } "#;
        let (got, close) = members(text).unwrap();
        let got: Vec<(&str, bool, &str)> = got
            .iter()
            .map(|m| (m.key, m.escaped, &text[m.value.0..m.value.1]))
            .collect();
        assert_eq!(got, [("a", false, "1"), (r#"b\"c"#, true, r#"{"d":[2]}"#)]);
        assert_eq!(&text[close..], "} ");
        assert_eq!(members("{}"), Some((vec![], 1)));
        for bad in ["[1]", r#"{"a":1"#, r#"{"a":1} x"#, "1"] {
            assert_eq!(members(bad), None, "{bad}");
        }
    }
}
