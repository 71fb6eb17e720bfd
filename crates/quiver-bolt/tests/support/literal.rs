//! A small literal syntax for PackStream values, used by the transcripts:
//! `null true 1 -2 1.5 "text" [1, 2] {"key": 1, bare: 2} #4E(1, ["L"], {})` (a structure with
//! tag 0x4E) and `b"0A FF"` (bytes, hex).

use bytes::Bytes;
use quiver_packstream::{Map, PackStr, Structure, Value};

pub struct Parser<'a> {
    src: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    pub fn new(src: &'a str) -> Self {
        Parser {
            src: src.as_bytes(),
            pos: 0,
        }
    }

    fn skip_ws(&mut self) {
        while self.pos < self.src.len() && (self.src[self.pos] as char).is_whitespace() {
            self.pos += 1;
        }
    }

    pub fn at_end(&mut self) -> bool {
        self.skip_ws();
        self.pos >= self.src.len()
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.src.get(self.pos).copied()
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(format!(
                "expected '{}' at {} in {:?}",
                c as char,
                self.pos,
                self.text()
            ))
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(self.src).into_owned()
    }

    fn word(&mut self) -> &'a str {
        let start = self.pos;
        while self.pos < self.src.len()
            && (self.src[self.pos].is_ascii_alphanumeric() || b"_.-+".contains(&self.src[self.pos]))
        {
            self.pos += 1;
        }
        std::str::from_utf8(&self.src[start..self.pos]).unwrap()
    }

    fn string(&mut self) -> Result<String, String> {
        self.expect(b'"')?;
        let mut out = String::new();
        let rest = std::str::from_utf8(&self.src[self.pos..]).unwrap();
        let mut chars = rest.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next().map(|(_, c)| c) {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some('u') => {
                        let hex: String = (0..4)
                            .filter_map(|_| chars.next().map(|(_, c)| c))
                            .collect();
                        let code = u32::from_str_radix(&hex, 16).map_err(|e| e.to_string())?;
                        out.push(char::from_u32(code).ok_or("bad \\u escape")?);
                    }
                    Some(c) => out.push(c),
                    None => break,
                },
                c => out.push(c),
            }
        }
        Err(format!("unterminated string in {:?}", self.text()))
    }

    fn items(&mut self, close: u8) -> Result<Vec<Value>, String> {
        let mut items = Vec::new();
        if self.peek() == Some(close) {
            self.pos += 1;
            return Ok(items);
        }
        loop {
            items.push(self.value()?);
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(c) if c == close => {
                    self.pos += 1;
                    return Ok(items);
                }
                _ => {
                    return Err(format!(
                        "expected ',' or '{}' in {:?}",
                        close as char,
                        self.text()
                    ));
                }
            }
        }
    }

    pub fn value(&mut self) -> Result<Value, String> {
        match self.peek().ok_or("unexpected end")? {
            b'"' => Ok(Value::String(PackStr::from(self.string()?))),
            b'[' => {
                self.pos += 1;
                Ok(Value::List(self.items(b']')?))
            }
            b'{' => {
                self.pos += 1;
                let mut map = Map::new();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                    return Ok(Value::Map(map));
                }
                loop {
                    let key = if self.peek() == Some(b'"') {
                        self.string()?
                    } else {
                        self.word().to_owned()
                    };
                    self.expect(b':')?;
                    let value = self.value()?;
                    map.insert(key, value);
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(Value::Map(map));
                        }
                        _ => return Err(format!("expected ',' or '}}' in {:?}", self.text())),
                    }
                }
            }
            b'#' => {
                self.pos += 1;
                let tag = u8::from_str_radix(self.word(), 16).map_err(|e| e.to_string())?;
                self.expect(b'(')?;
                Ok(Value::Structure(Structure {
                    tag,
                    fields: self.items(b')')?,
                }))
            }
            b'b' if self.src.get(self.pos + 1) == Some(&b'"') => {
                self.pos += 1;
                let hex = self.string()?;
                let bytes: Result<Vec<u8>, _> = hex
                    .split_whitespace()
                    .map(|h| u8::from_str_radix(h, 16))
                    .collect();
                Ok(Value::Bytes(Bytes::from(bytes.map_err(|e| e.to_string())?)))
            }
            _ => {
                let word = self.word();
                match word {
                    "null" => Ok(Value::Null),
                    "true" => Ok(Value::Boolean(true)),
                    "false" => Ok(Value::Boolean(false)),
                    w if w.contains(['.', 'e']) => w
                        .parse::<f64>()
                        .map(Value::Float)
                        .map_err(|e| format!("{w}: {e}")),
                    w => w
                        .parse::<i64>()
                        .map(Value::Integer)
                        .map_err(|e| format!("{w:?}: {e}")),
                }
            }
        }
    }
}

pub fn parse(src: &str) -> Value {
    let mut p = Parser::new(src);
    let v = p.value().unwrap_or_else(|e| panic!("{e}"));
    assert!(p.at_end(), "trailing text in {src:?}");
    v
}

pub fn render(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Boolean(b) => b.to_string(),
        Value::Integer(i) => i.to_string(),
        Value::Float(f) => format!("{f:?}"),
        Value::Bytes(b) => format!(
            "b\"{}\"",
            b.iter()
                .map(|x| format!("{x:02X}"))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        Value::String(s) => format!("{:?}", s.as_str()),
        Value::List(l) => format!("[{}]", l.iter().map(render).collect::<Vec<_>>().join(", ")),
        Value::Map(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{:?}: {}", k.as_str(), render(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Structure(s) => format!(
            "#{:02X}({})",
            s.tag,
            s.fields.iter().map(render).collect::<Vec<_>>().join(", ")
        ),
    }
}
