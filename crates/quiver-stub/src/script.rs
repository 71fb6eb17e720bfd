//! The script language: parsing into blocks, compiling blocks into a small program of
//! instructions (client line, server line, split, jump) that the runner walks.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use quiver_bolt::Version;

use crate::json::{Json, parse_fields};
use crate::value::{Pat, Val, to_pat, to_val};

/// A script that does not parse: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// What is wrong and, where it helps, what would be right.
    pub message: String,
}

/// A parsed script, ready to run (cheap to clone: the program is shared).
#[derive(Debug, Clone)]
pub struct Script {
    pub(crate) program: Arc<Program>,
}

#[derive(Debug)]
pub(crate) struct Program {
    pub(crate) version: Version,
    pub(crate) restart: bool,
    pub(crate) concurrent: bool,
    pub(crate) auto: Vec<String>,
    pub(crate) handshake_delay: Option<Duration>,
    pub(crate) instrs: Vec<Instr>,
}

#[derive(Debug)]
pub(crate) enum Instr {
    Client(ClientLine),
    Server(ServerLine),
    /// Try the first target, then the second (the first is preferred, as TestKit's greedy
    /// matching prefers entering optional and repeated blocks and earlier alternatives).
    Split(usize, usize),
    Jump(usize),
    End,
}

/// A `C:` (or auto `A:` / `?:` / `*:` / `+:`) line.
#[derive(Debug)]
pub(crate) struct ClientLine {
    pub(crate) line: usize,
    pub(crate) text: String,
    pub(crate) name: String,
    pub(crate) fields: Vec<Pat>,
    /// Answered with `SUCCESS {}` by the stub itself (auto lines).
    pub(crate) auto: bool,
}

#[derive(Debug)]
pub(crate) struct ServerLine {
    pub(crate) line: usize,
    pub(crate) text: String,
    pub(crate) action: ServerAction,
}

#[derive(Debug)]
pub(crate) enum ServerAction {
    Success(Val),
    Record(Vec<Val>),
    Failure(Val),
    Ignored,
    Exit,
    Noop,
    Raw(Vec<u8>),
    Sleep(Duration),
    /// `<ASSERT ORDER>`: the client must send nothing for this long.
    AssertSilence(Duration),
}

/// The requests a `C:` line can name.
const CLIENT_MESSAGES: [&str; 13] = [
    "HELLO",
    "GOODBYE",
    "RESET",
    "RUN",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "DISCARD",
    "PULL",
    "ROUTE",
    "LOGON",
    "LOGOFF",
    "TELEMETRY",
];

/// A block of the script.
#[derive(Debug)]
enum Block {
    Client(ClientLine),
    Server(ServerLine),
    Optional(Vec<Block>),
    Repeat0(Vec<Block>),
    Repeat1(Vec<Block>),
    Alternatives(Vec<Vec<Block>>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Curly,
    Optional,
    Repeat0,
    Repeat1,
}

struct Frame {
    open: Open,
    line: usize,
    /// Finished branches of a `{{ … ---- … }}`.
    branches: Vec<Vec<Block>>,
    blocks: Vec<Block>,
}

fn err<T>(line: usize, column: usize, message: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError {
        line,
        column,
        message: message.into(),
    })
}

impl Script {
    /// Parses a script. Errors say the line and column of the problem.
    pub fn parse(text: &str) -> Result<Script, ParseError> {
        let mut version = None;
        let mut restart = false;
        let mut concurrent = false;
        let mut auto = Vec::new();
        let mut handshake_delay = None;
        let mut stack = vec![Frame {
            open: Open::Curly,
            line: 0,
            branches: Vec::new(),
            blocks: Vec::new(),
        }];
        // The marker a line without one continues (`C:` or `S:`).
        let mut continues: Option<char> = None;
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let trimmed = raw.trim();
            let column = raw.len() - raw.trim_start().len() + 1;
            if trimmed.is_empty() {
                continue;
            }
            if trimmed.starts_with('#') {
                continue;
            }
            let top = stack.len() - 1;
            let (marker, rest) = match trimmed.split_once(':') {
                Some((m, rest))
                    if matches!(
                        m,
                        "!" | "C" | "S" | "A" | "?" | "*" | "+" | "IF" | "ELIF" | "ELSE" | "PY"
                    ) =>
                {
                    (Some(m), rest.trim())
                }
                _ => (None, trimmed),
            };
            let rest_column = raw.len() - raw.trim_start().len() + 1 + trimmed.len() - rest.len();
            match (marker, trimmed) {
                (None, "{{" | "{?" | "{*" | "{+") => {
                    stack.push(Frame {
                        open: match trimmed {
                            "{{" => Open::Curly,
                            "{?" => Open::Optional,
                            "{*" => Open::Repeat0,
                            _ => Open::Repeat1,
                        },
                        line,
                        branches: Vec::new(),
                        blocks: Vec::new(),
                    });
                    continues = None;
                }
                (None, "----") => {
                    if top == 0 || stack[top].open != Open::Curly {
                        return err(line, column, "`----` outside a `{{ … }}` block");
                    }
                    let blocks = std::mem::take(&mut stack[top].blocks);
                    stack[top].branches.push(blocks);
                    continues = None;
                }
                (None, "++++") => {
                    return err(
                        line,
                        column,
                        "parallel blocks (`{{ … ++++ … }}`) are not supported",
                    );
                }
                (None, "}}" | "?}" | "*}" | "+}") => {
                    let expected = match trimmed {
                        "}}" => Open::Curly,
                        "?}" => Open::Optional,
                        "*}" => Open::Repeat0,
                        _ => Open::Repeat1,
                    };
                    if top == 0 {
                        return err(line, column, format!("`{trimmed}` closes no block"));
                    }
                    if stack[top].open != expected {
                        return err(
                            line,
                            column,
                            format!(
                                "`{trimmed}` does not close the block opened on line {}",
                                stack[top].line
                            ),
                        );
                    }
                    let frame = stack.pop().expect("checked: not the top level");
                    if frame.blocks.is_empty() {
                        return err(line, column, "an empty block");
                    }
                    let Frame {
                        open,
                        branches,
                        blocks,
                        ..
                    } = frame;
                    let (block, blocks) = match open {
                        Open::Curly if branches.is_empty() => (None, blocks),
                        Open::Curly => {
                            let mut branches = branches;
                            branches.push(blocks);
                            if branches.iter().any(Vec::is_empty) {
                                return err(line, column, "an empty alternative");
                            }
                            (Some(Block::Alternatives(branches)), Vec::new())
                        }
                        Open::Optional => (Some(Block::Optional(blocks)), Vec::new()),
                        Open::Repeat0 => (Some(Block::Repeat0(blocks)), Vec::new()),
                        Open::Repeat1 => (Some(Block::Repeat1(blocks)), Vec::new()),
                    };
                    let parent = &mut stack.last_mut().expect("the top level stays").blocks;
                    match block {
                        Some(block) => parent.push(block),
                        // `{{ … }}` without alternatives just groups.
                        None => parent.extend(blocks),
                    }
                    continues = None;
                }
                (Some("!"), _) => {
                    let words: Vec<&str> = rest.split_whitespace().collect();
                    match words.as_slice() {
                        ["BOLT", v] => {
                            let parsed = v.split_once('.').and_then(|(a, b)| {
                                Some(Version::new(a.parse().ok()?, b.parse().ok()?))
                            });
                            match parsed {
                                Some(v) if v.is_supported() => version = Some(v),
                                Some(v) => {
                                    return err(
                                        line,
                                        rest_column + 5,
                                        format!(
                                            "Bolt {v} is not supported (4.4, 5.0–5.8 and 6.0 are)"
                                        ),
                                    );
                                }
                                None => {
                                    return err(
                                        line,
                                        rest_column + 5,
                                        format!(
                                            "`{v}` is not a Bolt version such as 5.4 (Bolt 3 and older are not supported)"
                                        ),
                                    );
                                }
                            }
                        }
                        ["ALLOW", "RESTART"] => restart = true,
                        ["ALLOW", "CONCURRENT"] => concurrent = true,
                        ["AUTO", name] => {
                            if !CLIENT_MESSAGES.contains(name) {
                                return err(
                                    line,
                                    rest_column + 5,
                                    format!("`{name}` is not a Bolt request"),
                                );
                            }
                            auto.push((*name).to_owned());
                        }
                        ["HANDSHAKE_DELAY", secs] => match secs.parse::<f64>() {
                            Ok(s) if s >= 0.0 && s.is_finite() => {
                                handshake_delay = Some(Duration::from_secs_f64(s))
                            }
                            _ => {
                                return err(
                                    line,
                                    rest_column + 16,
                                    "HANDSHAKE_DELAY takes seconds, e.g. 0.5",
                                );
                            }
                        },
                        ["HANDSHAKE", ..] => {
                            return err(
                                line,
                                column,
                                "`!: HANDSHAKE` (a raw handshake reply) is not supported",
                            );
                        }
                        ["PY", ..] => {
                            return err(
                                line,
                                column,
                                "`!: PY` (Python in scripts) is not supported",
                            );
                        }
                        _ => {
                            return err(
                                line,
                                rest_column,
                                format!(
                                    "unknown directive `!: {rest}` (known: BOLT, ALLOW RESTART, ALLOW CONCURRENT, AUTO, HANDSHAKE_DELAY)"
                                ),
                            );
                        }
                    }
                    continues = None;
                }
                (Some("IF" | "ELIF" | "ELSE" | "PY"), _) => {
                    return err(
                        line,
                        column,
                        format!(
                            "`{}:` (Python conditions in scripts) is not supported",
                            marker.unwrap_or_default()
                        ),
                    );
                }
                (Some(m @ ("C" | "A" | "?" | "*" | "+")), _) => {
                    let client = client_line(line, rest_column, rest, trimmed, m != "C")?;
                    let block = match m {
                        "C" | "A" => Block::Client(client),
                        "?" => Block::Optional(vec![Block::Client(client)]),
                        "*" => Block::Repeat0(vec![Block::Client(client)]),
                        _ => Block::Repeat1(vec![Block::Client(client)]),
                    };
                    stack[top].blocks.push(block);
                    continues = (m == "C").then_some('C');
                }
                (Some("S"), _) => {
                    let server = server_line(line, rest_column, rest, trimmed)?;
                    stack[top].blocks.push(Block::Server(server));
                    continues = Some('S');
                }
                (None, _) => match continues {
                    Some('C') => {
                        let client = client_line(line, column, trimmed, trimmed, false)?;
                        stack[top].blocks.push(Block::Client(client));
                    }
                    Some(_) => {
                        let server = server_line(line, column, trimmed, trimmed)?;
                        stack[top].blocks.push(Block::Server(server));
                    }
                    None => {
                        return err(
                            line,
                            column,
                            format!(
                                "`{trimmed}`: a line must start with `C:`, `S:`, `A:`, `?:`, `*:`, `+:`, `!:` or a block bracket"
                            ),
                        );
                    }
                },
                (Some(_), _) => unreachable!("markers are matched above"),
            }
        }
        if stack.len() > 1 {
            let frame = &stack[stack.len() - 1];
            return err(frame.line, 1, "this block is never closed");
        }
        let Some(version) = version else {
            return err(
                1,
                1,
                "the script does not say its Bolt version (`!: BOLT 5.4`)",
            );
        };
        let frame = stack.pop().expect("the top level");
        let mut instrs = Vec::new();
        compile(frame.blocks, &mut instrs);
        instrs.push(Instr::End);
        Ok(Script {
            program: Arc::new(Program {
                version,
                restart,
                concurrent,
                auto,
                handshake_delay,
                instrs,
            }),
        })
    }

    /// The Bolt version the script speaks (`!: BOLT x.y`).
    pub fn version(&self) -> Version {
        self.program.version
    }

    /// Whether a new connection runs the script again (`!: ALLOW RESTART`).
    pub fn allows_restart(&self) -> bool {
        self.program.restart
    }

    /// Whether several connections run the script at the same time (`!: ALLOW CONCURRENT`).
    pub fn allows_concurrent(&self) -> bool {
        self.program.concurrent
    }
}

fn fields_of(
    line: usize,
    column: usize,
    text: &str,
) -> Result<(String, Vec<(usize, Json)>), ParseError> {
    let name_len = text.find(char::is_whitespace).unwrap_or(text.len());
    let name = &text[..name_len];
    let fields = parse_fields(&text[name_len..]).map_err(|e| ParseError {
        line,
        column: column + text[..name_len + e.offset].chars().count(),
        message: format!(
            "{} (message fields are white-space separated JSON)",
            e.message
        ),
    })?;
    let fields = fields
        .into_iter()
        .map(|(offset, json)| (column + text[..name_len + offset].chars().count(), json))
        .collect();
    Ok((name.to_owned(), fields))
}

fn client_line(
    line: usize,
    column: usize,
    text: &str,
    full: &str,
    auto: bool,
) -> Result<ClientLine, ParseError> {
    let (name, fields) = fields_of(line, column, text)?;
    if !CLIENT_MESSAGES.contains(&name.as_str()) {
        return err(
            line,
            column,
            format!(
                "`{name}` is not a Bolt request ({})",
                CLIENT_MESSAGES.join(", ")
            ),
        );
    }
    let fields = fields
        .iter()
        .map(|(col, json)| {
            to_pat(json).map_err(|m| ParseError {
                line,
                column: *col,
                message: m,
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(ClientLine {
        line,
        text: full.to_owned(),
        name,
        fields,
        auto,
    })
}

fn server_line(
    line: usize,
    column: usize,
    text: &str,
    full: &str,
) -> Result<ServerLine, ParseError> {
    let action = if let Some(command) = text.strip_prefix('<') {
        let Some((command, args)) = command.split_once('>') else {
            return err(
                line,
                column,
                "a command is written `<NAME>` (EXIT, NOOP, RAW, SLEEP)",
            );
        };
        let args = args.trim();
        let args_column = column + text.len() - text[text.len() - args.len()..].len();
        let seconds = |what: &str| -> Result<Duration, ParseError> {
            match args.parse::<f64>() {
                Ok(s) if s >= 0.0 && s.is_finite() => Ok(Duration::from_secs_f64(s)),
                _ => err(
                    line,
                    args_column,
                    format!("{what} takes seconds, e.g. `<{what}> 0.5`"),
                ),
            }
        };
        match command {
            "EXIT" | "NOOP" if !args.is_empty() => {
                return err(line, args_column, format!("<{command}> takes no arguments"));
            }
            "EXIT" => ServerAction::Exit,
            "NOOP" => ServerAction::Noop,
            "SLEEP" => ServerAction::Sleep(seconds("SLEEP")?),
            "ASSERT ORDER" if args.is_empty() => {
                ServerAction::AssertSilence(Duration::from_secs(1))
            }
            "ASSERT ORDER" => ServerAction::AssertSilence(seconds("ASSERT ORDER")?),
            "RAW" => {
                let digits: String = args.chars().filter(|c| !c.is_whitespace()).collect();
                let bytes = (0..digits.len())
                    .step_by(2)
                    .map(|i| {
                        digits
                            .get(i..i + 2)
                            .and_then(|d| u8::from_str_radix(d, 16).ok())
                    })
                    .collect::<Option<Vec<u8>>>();
                match bytes {
                    Some(bytes) => ServerAction::Raw(bytes),
                    None => {
                        return err(
                            line,
                            args_column,
                            "<RAW> takes hex bytes, e.g. `<RAW> 00 00`",
                        );
                    }
                }
            }
            other => {
                return err(
                    line,
                    column,
                    format!("unknown command `<{other}>` (EXIT, NOOP, RAW, SLEEP, ASSERT ORDER)"),
                );
            }
        }
    } else {
        let (name, fields) = fields_of(line, column, text)?;
        let vals = fields
            .iter()
            .map(|(col, json)| {
                to_val(json).map_err(|m| ParseError {
                    line,
                    column: *col,
                    message: m,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let one_map = |vals: Vec<Val>| -> Result<Val, ParseError> {
            match vals.as_slice() {
                [] => Ok(Val::Map(Vec::new())),
                [Val::Map(_)] => Ok(vals.into_iter().next().unwrap_or(Val::Null)),
                _ => err(line, column, format!("{name} takes one map")),
            }
        };
        match name.as_str() {
            "SUCCESS" => ServerAction::Success(one_map(vals)?),
            "FAILURE" => ServerAction::Failure(one_map(vals)?),
            "IGNORED" => ServerAction::Ignored,
            "RECORD" => match vals.as_slice() {
                [Val::List(items)] => ServerAction::Record(items.clone()),
                _ => return err(line, column, "RECORD takes one list of values"),
            },
            other => {
                return err(
                    line,
                    column,
                    format!(
                        "`{other}` is not a server message (SUCCESS, RECORD, FAILURE, IGNORED) or a <COMMAND>"
                    ),
                );
            }
        }
    };
    Ok(ServerLine {
        line,
        text: full.to_owned(),
        action,
    })
}

/// Appends the blocks' instructions (see [`Instr`]).
fn compile(blocks: Vec<Block>, out: &mut Vec<Instr>) {
    for block in blocks {
        match block {
            Block::Client(line) => out.push(Instr::Client(line)),
            Block::Server(line) => out.push(Instr::Server(line)),
            Block::Optional(body) => {
                let split = out.len();
                out.push(Instr::Split(split + 1, 0));
                compile(body, out);
                let after = out.len();
                out[split] = Instr::Split(split + 1, after);
            }
            Block::Repeat0(body) => {
                let split = out.len();
                out.push(Instr::Split(split + 1, 0));
                compile(body, out);
                out.push(Instr::Jump(split));
                let after = out.len();
                out[split] = Instr::Split(split + 1, after);
            }
            Block::Repeat1(body) => {
                let start = out.len();
                compile(body, out);
                let split = out.len();
                out.push(Instr::Split(start, split + 1));
            }
            Block::Alternatives(branches) => {
                let count = branches.len();
                let mut jumps = Vec::new();
                for (i, branch) in branches.into_iter().enumerate() {
                    let split = (i + 1 < count).then(|| {
                        out.push(Instr::Split(0, 0));
                        out.len() - 1
                    });
                    compile(branch, out);
                    jumps.push(out.len());
                    out.push(Instr::Jump(0));
                    if let Some(split) = split {
                        let next = out.len();
                        out[split] = Instr::Split(split + 1, next);
                    }
                }
                let end = out.len();
                for jump in jumps {
                    out[jump] = Instr::Jump(end);
                }
            }
        }
    }
}

impl fmt::Display for ClientLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_blocks_and_directives() {
        let script = Script::parse(
            "!: BOLT 5.4\n!: ALLOW RESTART\n!: AUTO RESET\n\n# a comment\nC: HELLO {\"user_agent\": \"*\"}\nS: SUCCESS {\"server\": \"Neo4j/5.26.0\"}\n{?\n  C: LOGON {\"scheme\": \"basic\", \"[principal]\": \"*\"}\n  S: SUCCESS {}\n?}\n{{\n  C: RUN \"RETURN 1\" {} {}\n----\n  C: BEGIN {}\n}}\n*: RESET\nS: <EXIT>\n",
        )
        .unwrap();
        assert_eq!(script.version(), Version::V5_4);
        assert!(script.allows_restart());
        assert!(!script.allows_concurrent());
        assert_eq!(script.program.auto, vec!["RESET".to_owned()]);
    }

    #[test]
    fn errors_have_line_and_column() {
        let e = Script::parse("!: BOLT 5.4\nC: RUN \"x\" {\"a\": }").unwrap_err();
        assert_eq!((e.line, e.column), (2, 18), "{e}");
        let e = Script::parse("!: BOLT 5.4\n  C: FOO {}").unwrap_err();
        assert_eq!((e.line, e.column), (2, 6), "{e}");
        assert!(e.message.contains("not a Bolt request"), "{e}");
        let e = Script::parse("!: BOLT 5.4\n{?\nC: RESET\n*}").unwrap_err();
        assert_eq!(e.line, 4);
        assert!(e.message.contains("line 2"), "{e}");
        let e = Script::parse("C: RESET").unwrap_err();
        assert!(e.message.contains("Bolt version"), "{e}");
        let e = Script::parse("!: BOLT 3\nC: RESET").unwrap_err();
        assert_eq!((e.line, e.column), (1, 9), "{e}");
        let e = Script::parse("!: BOLT 5.4\nS: <SLEEP> soon").unwrap_err();
        assert_eq!((e.line, e.column), (2, 12), "{e}");
    }

    #[test]
    fn continuation_lines_keep_their_kind() {
        let script = Script::parse("!: BOLT 4.4\nC: RUN \"x\" {} {}\n   PULL {\"n\": 1000}\nS: SUCCESS {}\n   RECORD [1]\n").unwrap();
        let kinds: Vec<&str> = script
            .program
            .instrs
            .iter()
            .map(|i| match i {
                Instr::Client(_) => "C",
                Instr::Server(_) => "S",
                _ => "-",
            })
            .collect();
        assert_eq!(kinds, ["C", "C", "S", "S", "-"]);
    }
}
