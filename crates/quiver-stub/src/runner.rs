//! One connection running the script, without I/O: the server role of the Bolt core in manual
//! mode decodes the client's messages; each is matched against the `C:` lines the script
//! accepts next, and the `S:` lines that follow are answered through the core.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use quiver_bolt::server::{ServerConfig, ServerConnection, ServerEvent, ServerMode};
use quiver_bolt::value::{Map, Value};
use quiver_bolt::{BoltError, Version, VersionRange};
use quiver_packstream::Value as P;

use crate::script::{ClientLine, Instr, Program, ServerAction};
use crate::value::{Flavor, Shown};

/// What the connection asks its I/O to do, in order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Output {
    Bytes(Bytes),
    Sleep(Duration),
    /// Wait this long; anything the client sends meanwhile fails the script
    /// ([`Runner::client_spoke_early`] with the line and its text).
    AssertSilence(Duration, usize, String),
}

/// How one connection's run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The script ran to its end (or to `<EXIT>`, or the client left where the rest of the
    /// script may be skipped).
    Completed,
    /// A message arrived that the script does not accept there.
    Mismatch(String),
    /// The client left (or the stub was finished) before the script's end.
    Incomplete(String),
    /// The connection broke: a protocol error or an I/O error.
    Broken(String),
}

pub(crate) struct Runner {
    program: Arc<Program>,
    server: ServerConnection,
    pc: usize,
    outputs: Vec<Output>,
    outcome: Option<Outcome>,
    /// Whether the connection is to be closed (the script ended or `<EXIT>`).
    close: bool,
    /// An `<ASSERT ORDER>` whose wait has not been done yet (line, text): a message arriving
    /// now arrived during it.
    silence: Option<(usize, String)>,
}

impl Runner {
    pub(crate) fn new(program: Arc<Program>, now: Instant) -> Runner {
        let version = program.version;
        let config = ServerConfig::default()
            .with_mode(ServerMode::Manual)
            .with_versions(vec![VersionRange::exact(version.major, version.minor)]);
        Runner {
            program,
            server: ServerConnection::new(config, now),
            pc: 0,
            outputs: Vec::new(),
            outcome: None,
            close: false,
            silence: None,
        }
    }

    pub(crate) fn outcome(&self) -> Option<&Outcome> {
        self.outcome.as_ref()
    }

    pub(crate) fn wants_close(&self) -> bool {
        self.close || self.outcome.is_some()
    }

    pub(crate) fn take_outputs(&mut self) -> Vec<Output> {
        self.drain();
        self.silence = None;
        std::mem::take(&mut self.outputs)
    }

    /// The client sent something during an `<ASSERT ORDER>` wait (`line`, `text`).
    pub(crate) fn client_spoke_early(&mut self, line: usize, text: &str) {
        self.finish(Outcome::Mismatch(format!(
            "line {line}: `{text}` expected the client to send nothing meanwhile, but it sent more"
        )));
        self.close = true;
    }

    /// Whether the client may leave now with the script complete (its remaining lines may all
    /// be skipped).
    pub(crate) fn can_end(&self) -> bool {
        let (_, end) = self.candidates();
        end
    }

    fn drain(&mut self) {
        while let Some(bytes) = self.server.poll_transmit() {
            self.outputs.push(Output::Bytes(bytes));
        }
    }

    fn flavor(&self) -> Flavor {
        let version = self.server.version().unwrap_or(self.program.version);
        Flavor {
            element_ids: version >= Version::V5_0,
            utc: self.server.value_context().utc_date_times(),
        }
    }

    fn finish(&mut self, outcome: Outcome) {
        if self.outcome.is_none() {
            self.outcome = Some(outcome);
        }
    }

    /// Bytes from the client.
    pub(crate) fn handle_input(&mut self, data: &[u8], now: Instant) {
        if self.outcome.is_some() {
            return;
        }
        if let Err(e) = self.server.handle_input(data, now) {
            self.drain();
            self.finish(Outcome::Broken(format!(
                "the client broke the protocol: {e}"
            )));
            return;
        }
        self.events();
    }

    /// The client closed its side.
    pub(crate) fn handle_eof(&mut self, now: Instant) {
        if self.outcome.is_some() {
            return;
        }
        self.server.handle_eof(now);
        self.events();
        self.end_of_client("the client closed the connection");
    }

    /// The connection ended without the client's or the script's say (I/O error, stub finished).
    pub(crate) fn end_of_client(&mut self, why: &str) {
        if self.outcome.is_some() {
            return;
        }
        if self.can_end() {
            self.finish(Outcome::Completed);
        } else {
            let expected = self.expected();
            self.finish(Outcome::Incomplete(format!(
                "{why} while the script expected {expected}"
            )));
        }
    }

    fn events(&mut self) {
        while let Some(event) = self.server.poll_event() {
            if self.outcome.is_some() {
                continue;
            }
            match event {
                ServerEvent::Negotiated { .. } => {
                    // The script may speak first (`S:` lines at its top).
                    self.run_forward();
                }
                ServerEvent::Request(request) => self.on_message(&request.raw),
                ServerEvent::Defunct(e) => {
                    self.finish(Outcome::Broken(format!("the connection broke: {e}")));
                }
                _ => {}
            }
        }
        self.drain();
    }

    /// The client lines the script accepts next, best first, and whether it may end here.
    fn candidates(&self) -> (Vec<usize>, bool) {
        let mut found = Vec::new();
        let mut end = false;
        let mut seen = vec![false; self.program.instrs.len()];
        let mut stack = vec![self.pc];
        while let Some(pc) = stack.pop() {
            if std::mem::replace(&mut seen[pc], true) {
                continue;
            }
            match &self.program.instrs[pc] {
                Instr::Client(_) => found.push(pc),
                Instr::Server(_) => {}
                Instr::Split(a, b) => {
                    stack.push(*b);
                    stack.push(*a);
                }
                Instr::Jump(to) => stack.push(*to),
                Instr::End => end = true,
            }
        }
        (found, end)
    }

    /// What the script expects here, for messages.
    fn expected(&self) -> String {
        let (found, end) = self.candidates();
        let mut lines: Vec<String> = found
            .iter()
            .filter_map(|pc| match &self.program.instrs[*pc] {
                Instr::Client(line) => Some(format!("line {}: `{}`", line.line, line.text)),
                _ => None,
            })
            .collect();
        if end {
            lines.push("the end of the script".to_owned());
        }
        for name in &self.program.auto {
            lines.push(format!("{name} (`!: AUTO`)"));
        }
        match lines.len() {
            0 => "nothing more".to_owned(),
            1 => lines.remove(0),
            _ => format!("one of {}", lines.join(", ")),
        }
    }

    fn on_message(&mut self, raw: &quiver_bolt::server::RawMessage) {
        let flavor = self.flavor();
        let fields = raw.fields();
        let name = raw
            .name()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("{:#04X}", raw.tag()));
        if let Some((line, text)) = self.silence.take() {
            let got = shown_message(&name, &fields);
            self.finish(Outcome::Mismatch(format!(
                "line {line}: `{text}` expected the client to send nothing meanwhile, got `{got}`"
            )));
            self.close = true;
            return;
        }
        let (found, _) = self.candidates();
        for pc in found {
            let Instr::Client(line) = &self.program.instrs[pc] else {
                continue;
            };
            if matches(line, &name, &fields, flavor) {
                let auto = line.auto;
                self.pc = pc + 1;
                if auto {
                    self.auto_respond(&name);
                }
                self.run_forward();
                return;
            }
        }
        if self.program.auto.contains(&name) {
            self.auto_respond(&name);
            return;
        }
        let got = shown_message(&name, &fields);
        let expected = self.expected();
        self.finish(Outcome::Mismatch(format!(
            "expected {expected}, got `{got}`"
        )));
        self.close = true;
    }

    fn auto_respond(&mut self, name: &str) {
        if name == "GOODBYE" {
            return;
        }
        let mut metadata = Map::new();
        if name == "HELLO" {
            metadata.insert("server", "Neo4j/5.26.0");
            metadata.insert("connection_id", "bolt-stub");
        }
        {
            let result = self.server.success(metadata);
            self.respond(result, "SUCCESS")
        };
    }

    fn respond(&mut self, result: Result<(), BoltError>, what: &str) {
        if let Err(e) = result {
            self.finish(Outcome::Broken(format!("could not send {what}: {e}")));
        }
    }

    fn respond_line(&mut self, result: Result<(), BoltError>, line: &crate::script::ServerLine) {
        if let Err(e) = result {
            self.finish(Outcome::Broken(format!(
                "line {}: could not send `{}`: {e}",
                line.line, line.text
            )));
        }
    }

    /// Runs the server lines from the current position until the script waits for the client.
    fn run_forward(&mut self) {
        let program = Arc::clone(&self.program);
        loop {
            if self.outcome.is_some() {
                return;
            }
            match &program.instrs[self.pc] {
                Instr::Jump(to) => self.pc = *to,
                Instr::Server(line) => {
                    self.pc += 1;
                    let flavor = self.flavor();
                    match &line.action {
                        ServerAction::Success(map) => {
                            let map = to_bolt_map(map.to_packstream(flavor));
                            {
                                let result = self.server.success(map);
                                self.respond_line(result, line)
                            };
                        }
                        ServerAction::Failure(map) => {
                            let map = to_bolt_map(map.to_packstream(flavor));
                            {
                                let result = self.server.failure_metadata(map);
                                self.respond_line(result, line)
                            };
                        }
                        ServerAction::Record(values) => {
                            let values: Vec<Value> = values
                                .iter()
                                .map(|v| Value::from(v.to_packstream(flavor)))
                                .collect();
                            {
                                let result = self.server.record(&values);
                                self.respond_line(result, line)
                            };
                        }
                        ServerAction::Ignored => {
                            let result = self.server.ignored();
                            self.respond_line(result, line)
                        }
                        ServerAction::Noop => self.server.send_noop(),
                        ServerAction::Raw(bytes) => self.server.send_raw_bytes(bytes),
                        ServerAction::Sleep(d) => {
                            self.drain();
                            self.outputs.push(Output::Sleep(*d));
                        }
                        ServerAction::AssertSilence(d) => {
                            self.drain();
                            self.outputs.push(Output::AssertSilence(
                                *d,
                                line.line,
                                line.text.clone(),
                            ));
                            self.silence = Some((line.line, line.text.clone()));
                        }
                        ServerAction::Exit => {
                            self.drain();
                            self.finish(Outcome::Completed);
                            self.close = true;
                            return;
                        }
                    }
                }
                Instr::End => {
                    self.drain();
                    self.finish(Outcome::Completed);
                    self.close = true;
                    return;
                }
                Instr::Client(_) | Instr::Split(..) => return,
            }
        }
    }
}

fn to_bolt_map(value: P) -> Map {
    match Value::from(value) {
        Value::Map(map) => map,
        _ => Map::new(),
    }
}

fn matches(line: &ClientLine, name: &str, fields: &[P], flavor: Flavor) -> bool {
    line.name == name
        && line.fields.len() == fields.len()
        && line
            .fields
            .iter()
            .zip(fields)
            .all(|(p, v)| p.matches(v, flavor))
}

/// A received message as a script line would write it.
fn shown_message(name: &str, fields: &[P]) -> String {
    let mut out = name.to_owned();
    for field in fields {
        out.push(' ');
        out.push_str(&Shown(field).to_string());
    }
    out
}
