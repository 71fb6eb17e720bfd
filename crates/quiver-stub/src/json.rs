//! The JSON of message fields: a small parser that keeps integers and floats apart (`1` is an
//! integer, `1.0` a float, as in TestKit) and keeps object keys in order.

/// A JSON value as written in a script.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Json>),
    Object(Vec<(String, Json)>),
}

/// A syntax error at a byte offset of the parsed text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JsonError {
    pub(crate) offset: usize,
    pub(crate) message: String,
}

/// Parses white-space separated JSON values (a message line's fields).
pub(crate) fn parse_fields(text: &str) -> Result<Vec<(usize, Json)>, JsonError> {
    let mut parser = Parser { text, pos: 0 };
    let mut fields = Vec::new();
    loop {
        parser.skip_ws();
        if parser.pos >= text.len() {
            return Ok(fields);
        }
        let start = parser.pos;
        fields.push((start, parser.value(0)?));
    }
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

/// Deeper nesting than this is refused (no script needs it; the recursion stays bounded).
const MAX_DEPTH: usize = 100;

impl Parser<'_> {
    fn err<T>(&self, message: impl Into<String>) -> Result<T, JsonError> {
        Err(JsonError {
            offset: self.pos,
            message: message.into(),
        })
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_whitespace() {
                self.pos += c.len_utf8();
            } else {
                break;
            }
        }
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, JsonError> {
        if depth > MAX_DEPTH {
            return self.err("values nested too deeply");
        }
        self.skip_ws();
        match self.peek() {
            None => self.err("expected a value, found the end of the line"),
            Some('{') => {
                self.pos += 1;
                let mut entries = Vec::new();
                self.skip_ws();
                if self.eat('}') {
                    return Ok(Json::Object(entries));
                }
                loop {
                    self.skip_ws();
                    if self.peek() != Some('"') {
                        return self.err("expected a string key in an object");
                    }
                    let key = self.string()?;
                    self.skip_ws();
                    if !self.eat(':') {
                        return self.err("expected `:` after an object key");
                    }
                    let value = self.value(depth + 1)?;
                    entries.push((key, value));
                    self.skip_ws();
                    if self.eat(',') {
                        continue;
                    }
                    if self.eat('}') {
                        return Ok(Json::Object(entries));
                    }
                    return self.err("expected `,` or `}` in an object");
                }
            }
            Some('[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.skip_ws();
                if self.eat(']') {
                    return Ok(Json::List(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.skip_ws();
                    if self.eat(',') {
                        continue;
                    }
                    if self.eat(']') {
                        return Ok(Json::List(items));
                    }
                    return self.err("expected `,` or `]` in a list");
                }
            }
            Some('"') => Ok(Json::Str(self.string()?)),
            Some(c) if c == '-' || c.is_ascii_digit() => self.number(),
            Some(_) => {
                for (word, value) in [
                    ("null", Json::Null),
                    ("true", Json::Bool(true)),
                    ("false", Json::Bool(false)),
                    ("NaN", Json::Float(f64::NAN)),
                    ("Infinity", Json::Float(f64::INFINITY)),
                ] {
                    if self.text[self.pos..].starts_with(word) {
                        self.pos += word.len();
                        return Ok(value);
                    }
                }
                self.err(
                    "expected a JSON value (object, list, string, number, true, false or null)",
                )
            }
        }
    }

    fn number(&mut self) -> Result<Json, JsonError> {
        let start = self.pos;
        if self.text[self.pos..].starts_with("-Infinity") {
            self.pos += "-Infinity".len();
            return Ok(Json::Float(f64::NEG_INFINITY));
        }
        let mut float = false;
        while let Some(c) = self.peek() {
            match c {
                '0'..='9' | '-' | '+' => {}
                '.' | 'e' | 'E' => float = true,
                _ => break,
            }
            self.pos += 1;
        }
        let text = &self.text[start..self.pos];
        let parsed = if float {
            text.parse::<f64>().ok().map(Json::Float)
        } else {
            text.parse::<i64>().ok().map(Json::Int)
        };
        match parsed {
            Some(value) => Ok(value),
            None => {
                self.pos = start;
                self.err(format!(
                    "`{text}` is not a number (or does not fit 64 bits)"
                ))
            }
        }
    }

    fn string(&mut self) -> Result<String, JsonError> {
        // At the opening quote.
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return self.err("unterminated string");
            };
            self.pos += c.len_utf8();
            match c {
                '"' => return Ok(out),
                '\\' => {
                    let Some(escaped) = self.peek() else {
                        return self.err("unterminated string");
                    };
                    self.pos += escaped.len_utf8();
                    match escaped {
                        '"' => out.push('"'),
                        '\\' => out.push('\\'),
                        '/' => out.push('/'),
                        'b' => out.push('\u{8}'),
                        'f' => out.push('\u{c}'),
                        'n' => out.push('\n'),
                        'r' => out.push('\r'),
                        't' => out.push('\t'),
                        'u' => {
                            let unit = self.hex4()?;
                            let c = if (0xD800..0xDC00).contains(&unit) {
                                // A surrogate pair: the low half follows as \uXXXX.
                                if !self.text[self.pos..].starts_with("\\u") {
                                    return self.err("a lone surrogate in a \\u escape");
                                }
                                self.pos += 2;
                                let low = self.hex4()?;
                                let code = 0x10000
                                    + ((unit - 0xD800) << 10)
                                    + (low.wrapping_sub(0xDC00) & 0x3FF);
                                char::from_u32(code)
                            } else {
                                char::from_u32(unit)
                            };
                            match c {
                                Some(c) => out.push(c),
                                None => return self.err("an invalid \\u escape"),
                            }
                        }
                        other => return self.err(format!("unknown escape `\\{other}`")),
                    }
                }
                c => out.push(c),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let digits = self.text.get(self.pos..self.pos + 4);
        match digits.and_then(|d| u32::from_str_radix(d, 16).ok()) {
            Some(unit) => {
                self.pos += 4;
                Ok(unit)
            }
            None => self.err("expected 4 hex digits after \\u"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_keep_ints_floats_and_key_order() {
        let fields = parse_fields(r#"{"b": 1, "a": 1.0} "x\n" [null, true] -5"#).unwrap();
        let values: Vec<Json> = fields.into_iter().map(|(_, v)| v).collect();
        assert_eq!(
            values,
            vec![
                Json::Object(vec![
                    ("b".into(), Json::Int(1)),
                    ("a".into(), Json::Float(1.0))
                ]),
                Json::Str("x\n".into()),
                Json::List(vec![Json::Null, Json::Bool(true)]),
                Json::Int(-5),
            ]
        );
    }

    #[test]
    fn errors_point_at_the_offending_offset() {
        let err = parse_fields(r#"{"n": 1000"#).unwrap_err();
        assert_eq!(err.offset, 10);
        assert!(err.message.contains("`,` or `}`"), "{}", err.message);
        let err = parse_fields(r#"{"n": nope}"#).unwrap_err();
        assert_eq!(err.offset, 6);
    }
}
