//! The validating JSON reader every walk in `json/` is built on: whitespace,
//! structure (objects, arrays, the depth limit) and tokens (strings and their
//! escapes, numbers, literals), checked as RFC 8259 has them (the text is already
//! UTF-8). Walks drive it key by key ([`Reader::object`], [`Reader::array`]) and
//! skip what they do not look at with [`Reader::value`]; it returns indices into
//! the text, never copies.

/// A byte range `start..end` of the body.
pub type Span = (usize, usize);

/// Nesting deeper than this is refused, so that a hostile body cannot exhaust the
/// stack. It matches serde_json's `Value`, which refuses the 128th level
/// (serde_json's `IgnoredAny` has no depth limit).
const MAX_DEPTH: usize = 127;

pub(super) struct Reader<'a> {
    pub(super) b: &'a [u8],
    pub(super) i: usize,
    depth: usize,
    /// Whether the last string read held an escape.
    escaped: bool,
    /// Whether a line break was met between tokens (pretty-printed JSON).
    pub(super) broken_line: bool,
}

/// What went wrong; where is the reader's position (see [`Reader::describe`]).
/// Kept to a pointer and a length so that results travel in registers.
pub(super) type Fail = &'static str;
pub(super) type Step = Result<(), Fail>;

impl<'a> Reader<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Reader {
            b: text.as_bytes(),
            i: 0,
            depth: 0,
            escaped: false,
            broken_line: false,
        }
    }

    #[inline]
    pub(super) fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    pub(super) fn describe(&self, what: Fail) -> String {
        if self.i >= self.b.len() {
            format!("the body ends early ({what}, at byte {})", self.i)
        } else {
            format!("{what} at byte {} of {}", self.i, self.b.len())
        }
    }

    #[inline]
    pub(super) fn ws(&mut self) {
        while let Some(c @ (b' ' | b'\n' | b'\r' | b'\t')) = self.peek() {
            self.broken_line |= c == b'\n' || c == b'\r';
            self.i += 1;
        }
    }

    /// Only whitespace may follow the value.
    pub(super) fn end(&mut self) -> Step {
        self.ws();
        if self.i == self.b.len() {
            Ok(())
        } else {
            Err("text after the JSON value")
        }
    }

    /// Run `f` over one value and return the span it covered.
    #[inline]
    pub(super) fn spanned(&mut self, f: impl FnOnce(&mut Self) -> Step) -> Result<Span, Fail> {
        let start = self.i;
        f(self)?;
        Ok((start, self.i))
    }

    #[inline]
    fn enter(&mut self) -> Step {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("JSON nested too deeply");
        }
        self.i += 1;
        self.ws();
        Ok(())
    }

    /// An object at `{`; `each` gets every key (raw text, whether it holds an
    /// escape) with the reader at its value, and must read the value.
    #[inline]
    pub(super) fn object(
        &mut self,
        mut each: impl FnMut(&mut Self, &'a [u8], bool) -> Step,
    ) -> Step {
        self.enter()?;
        if self.peek() == Some(b'}') {
            self.i += 1;
            self.depth -= 1;
            return Ok(());
        }
        let b = self.b;
        loop {
            if self.peek() != Some(b'"') {
                return Err("expected a key in quotes");
            }
            let s = self.i + 1;
            let e = self.string()?;
            let escaped = self.escaped;
            self.ws();
            if self.peek() != Some(b':') {
                return Err("expected ':' after a key");
            }
            self.i += 1;
            self.ws();
            each(self, &b[s..e], escaped)?;
            self.ws();
            match self.peek() {
                Some(b',') => {
                    self.i += 1;
                    self.ws();
                }
                Some(b'}') => {
                    self.i += 1;
                    self.depth -= 1;
                    return Ok(());
                }
                _ => return Err("expected ',' or '}' in an object"),
            }
        }
    }

    /// An array at `[`; `each` reads one item, with the reader at it.
    #[inline]
    pub(super) fn array(&mut self, mut each: impl FnMut(&mut Self) -> Step) -> Step {
        self.enter()?;
        if self.peek() == Some(b']') {
            self.i += 1;
            self.depth -= 1;
            return Ok(());
        }
        loop {
            each(self)?;
            self.ws();
            match self.peek() {
                Some(b',') => {
                    self.i += 1;
                    self.ws();
                }
                Some(b']') => {
                    self.i += 1;
                    self.depth -= 1;
                    return Ok(());
                }
                _ => return Err("expected ',' or ']' in an array"),
            }
        }
    }

    /// Any value, validated.
    pub(super) fn value(&mut self) -> Step {
        match self.peek() {
            Some(b'"') => self.string().map(|_| ()),
            Some(b'{') => self.object(|r, _, _| r.value()),
            Some(b'[') => self.array(Reader::value),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err("expected a JSON value"),
        }
    }

    pub(super) fn literal(&mut self, word: &[u8]) -> Step {
        if self.b.get(self.i..self.i + word.len()) == Some(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err("invalid literal")
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Step {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err("invalid number"),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err("invalid number: no digit after '.'");
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err("invalid number: no digit in the exponent");
            }
            self.digits();
        }
        Ok(())
    }

    #[inline]
    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
    }

    /// A string at its opening quote: the index of its closing quote (the contents
    /// start just after the opening one); the reader moves past the closing quote
    /// and `escaped` tells whether the string held an escape.
    #[inline(always)]
    pub(super) fn string(&mut self) -> Result<usize, Fail> {
        let b = self.b;
        let mut i = plain_run(b, self.i + 1);
        if b.get(i) == Some(&b'"') {
            self.escaped = false;
            self.i = i + 1;
            return Ok(i);
        }
        self.escaped = true;
        loop {
            match b.get(i) {
                Some(b'"') => {
                    self.i = i + 1;
                    return Ok(i);
                }
                Some(b'\\') => match b.get(i + 1) {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                    Some(b'u')
                        if b.get(i + 2..i + 6)
                            .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) =>
                    {
                        i += 6
                    }
                    _ => {
                        self.i = i;
                        return Err("invalid escape in a string");
                    }
                },
                Some(_) => {
                    self.i = i;
                    return Err("control character in a string");
                }
                None => {
                    self.i = i;
                    return Err("unterminated string");
                }
            }
            i = plain_run(b, i);
        }
    }
}

const ONES: u64 = u64::MAX / 255;
const HIGH: u64 = ONES << 7;

/// The index of the first byte at or after `i` that is `"`, `\` or a control
/// character (or the end): eight bytes at a time, then one by one.
#[inline]
fn plain_run(b: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = b.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let ctrl = x.wrapping_sub(ONES * 0x20) & !x;
        let q = x ^ (ONES * u64::from(b'"'));
        let quote = q.wrapping_sub(ONES) & !q;
        let s = x ^ (ONES * u64::from(b'\\'));
        let slash = s.wrapping_sub(ONES) & !s;
        let hit = (ctrl | quote | slash) & HIGH;
        if hit != 0 {
            // The lowest flagged byte is exact (borrows only run upwards).
            return i + (hit.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            break;
        }
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The span of the one value `text` holds, or the reader's complaint.
    fn read(text: &str) -> Result<Span, Fail> {
        let mut r = Reader::new(text);
        r.ws();
        let span = r.spanned(Reader::value)?;
        r.end()?;
        Ok(span)
    }

    #[test]
    fn strings_long_and_short_with_escapes() {
        for s in [
            "",
            "a",
            "exactly8",
            "a longer string over several words",
            r#"esc \" quote"#,
            r#"\\"#,
            r#"\u00e9 and \n"#,
            "ünïcödé 中文 text past eight bytes",
        ] {
            let body = format!(r#""{s}""#);
            assert_eq!(read(&body), Ok((0, body.len())), "{s:?}");
        }
        for (bad, why) in [
            ("\u{1}", "control character"),
            ("abcdefgh\u{1f}", "control character"),
            ("\\x", "invalid escape"),
            ("\\u12", "invalid escape"),
            ("no end", "unterminated"),
        ] {
            let e = read(&format!(r#""{bad}"#)).unwrap_err();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
    }

    #[test]
    fn tokens_and_structure() {
        for ok in ["0", "-1.5e+3", "true", "null", " [ 1 , { \"a\" : [ ] } ] "] {
            assert!(read(ok).is_ok(), "{ok}");
        }
        for (bad, why) in [
            ("01", "text after"),
            ("1.", "no digit after"),
            ("1e", "exponent"),
            ("tru", "literal"),
            ("[1,]", "expected a JSON value"),
            ("{\"a\":1,}", "key in quotes"),
            ("{\"a\" 1}", "':'"),
            ("[1 2]", "',' or ']'"),
        ] {
            let e = read(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn depth_limit_is_serde_json_values() {
        for depth in [MAX_DEPTH, MAX_DEPTH + 1] {
            let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            let ours = read(&text);
            let serde = serde_json::from_str::<serde_json::Value>(&text);
            assert_eq!(ours.is_ok(), serde.is_ok(), "depth {depth}");
            assert_eq!(ours.is_ok(), depth <= MAX_DEPTH, "depth {depth}");
        }
        assert!(read(&"[".repeat(1000)).unwrap_err().contains("deeply"));
    }
}
