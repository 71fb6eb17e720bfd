//! Decoding: PackStream tokens straight into [`Value`]s.

use quiver_packstream::{Decoder, PackStr, Structure, Token};

use super::{
    Date, DateTime, DateTimeZoneId, Duration, LegacyDateTimeZoneId, LocalDateTime, LocalTime, Map,
    Node, Path, Point2D, Point3D, Relationship, Time, UnboundRelationship, Unsupported, Value,
    ValueContext, ValueError, Vector, tag,
};

/// Decodes the next value from `dec`, resolving structures as the Bolt version in `ctx` defines
/// them.
///
/// Errors: invalid PackStream ([`ValueError::Decode`]), a structure with wrong fields
/// ([`ValueError::InvalidStructure`]), or nesting beyond `ctx.max_depth()`
/// ([`ValueError::DepthLimitExceeded`]). After an error the decoder's position is unspecified.
pub fn decode_value(dec: &mut Decoder, ctx: &ValueContext) -> Result<Value, ValueError> {
    ValueDecoder::new(dec, ctx).value(0)
}

/// Decodes the next value, which must be a map (e.g. message metadata or a parameter map).
pub fn decode_map(dec: &mut Decoder, ctx: &ValueContext) -> Result<Map, ValueError> {
    let len = dec.read_map_header()?;
    ValueDecoder::new(dec, ctx).map_body(len, 1)
}

/// Checks the next value as [`decode_value`] would, without building it: the same tokens, UTF-8,
/// depth accounting and structure checks (structures are decoded and dropped), so a value that
/// passes is one `decode_value` decodes without error. Lists, maps and scalars allocate nothing.
pub(crate) fn validate_value(dec: &mut Decoder, ctx: &ValueContext) -> Result<(), ValueError> {
    ValueDecoder::new(dec, ctx).validate(0)
}

struct ValueDecoder<'a> {
    dec: &'a mut Decoder,
    ctx: &'a ValueContext,
    /// Nesting limit: the context's, or the decoder's own if that is stricter.
    max_depth: usize,
}

/// Capacity to reserve for `len` elements: the decoder's own bound (never more than the
/// remaining input could hold, at most 1024 up front), so a lying header — or one at every level
/// of a deep input — cannot make us allocate.
fn capacity(len: usize, dec: &Decoder) -> usize {
    dec.prealloc(len, 1)
}

fn token_kind(token: &Token) -> &'static str {
    match token {
        Token::Null => "Null",
        Token::Boolean(_) => "Boolean",
        Token::Integer(_) => "Integer",
        Token::Float(_) => "Float",
        Token::Bytes(_) => "Bytes",
        Token::String(_) => "String",
        Token::List { .. } => "List",
        Token::Map { .. } => "Map",
        Token::Structure { .. } => "Structure",
    }
}

fn invalid(tag: u8, reason: String) -> ValueError {
    ValueError::InvalidStructure { tag, reason }
}

impl<'a> ValueDecoder<'a> {
    fn new(dec: &'a mut Decoder, ctx: &'a ValueContext) -> Self {
        let max_depth = ctx.max_depth().min(dec.limits().max_depth);
        ValueDecoder {
            dec,
            ctx,
            max_depth,
        }
    }

    #[inline]
    fn check_depth(&self, depth: usize) -> Result<(), ValueError> {
        if depth > self.max_depth {
            return Err(ValueError::DepthLimitExceeded {
                max_depth: self.max_depth,
                offset: self.dec.position(),
            });
        }
        Ok(())
    }

    #[inline]
    fn value(&mut self, depth: usize) -> Result<Value, ValueError> {
        let token = self.dec.next_token()?;
        self.value_from_token(token, depth)
    }

    /// Mirrors [`value`](Self::value) + [`value_from_token`](Self::value_from_token) step for
    /// step (same depth checks), building nothing but structures.
    fn validate(&mut self, depth: usize) -> Result<(), ValueError> {
        // Scalars (and their errors) are the same whether skipped or read; skipping builds no
        // string slices.
        if !matches!(self.dec.peek_marker()?, 0x90..=0xBF | 0xD4..=0xD6 | 0xD8..=0xDA) {
            self.dec.skip_value()?;
            return Ok(());
        }
        match self.dec.next_token()? {
            Token::List { len } => {
                self.check_depth(depth + 1)?;
                for _ in 0..len {
                    self.validate(depth + 1)?;
                }
            }
            Token::Map { len } => {
                self.check_depth(depth + 1)?;
                for _ in 0..len {
                    self.dec.read_str()?;
                    self.validate(depth + 1)?;
                }
            }
            Token::Structure { tag, len } => {
                self.structure(tag, len, depth + 1)?;
            }
            Token::Null
            | Token::Boolean(_)
            | Token::Integer(_)
            | Token::Float(_)
            | Token::String(_)
            | Token::Bytes(_) => {}
        }
        Ok(())
    }

    fn value_from_token(&mut self, token: Token, depth: usize) -> Result<Value, ValueError> {
        Ok(match token {
            Token::Null => Value::Null,
            Token::Boolean(b) => Value::Boolean(b),
            Token::Integer(i) => Value::Integer(i),
            Token::Float(f) => Value::Float(f),
            Token::String(s) => Value::String(s),
            Token::Bytes(b) => Value::Bytes(b),
            Token::List { len } => Value::List(self.list_body(len, depth + 1)?),
            Token::Map { len } => Value::Map(self.map_body(len, depth + 1)?),
            Token::Structure { tag, len } => self.structure(tag, len, depth + 1)?,
        })
    }

    fn list_body(&mut self, len: usize, depth: usize) -> Result<Vec<Value>, ValueError> {
        self.check_depth(depth)?;
        let mut items = Vec::with_capacity(capacity(len, self.dec));
        for _ in 0..len {
            items.push(self.value(depth)?);
        }
        Ok(items)
    }

    fn map_body(&mut self, len: usize, depth: usize) -> Result<Map, ValueError> {
        self.check_depth(depth)?;
        let mut entries = Vec::with_capacity(capacity(len, self.dec));
        for _ in 0..len {
            let key = self.dec.read_str()?;
            let value = self.value(depth)?;
            entries.push((key, value));
        }
        Ok(Map::from_decoded(entries))
    }

    fn structure(&mut self, tag: u8, len: usize, depth: usize) -> Result<Value, ValueError> {
        self.check_depth(depth)?;
        let ctx = *self.ctx;
        let fields = |name: &'static str, n: usize| Fields {
            tag,
            name,
            expected: n,
        };
        Ok(match tag {
            tag::NODE => Value::Node(Box::new(self.node(len, depth)?)),
            tag::RELATIONSHIP => {
                let f = fields("Relationship", if ctx.element_ids() { 8 } else { 5 });
                f.check_len(len, &ctx)?;
                let id = self.int(&f, "id")?;
                let start_node_id = self.int(&f, "start_node_id")?;
                let end_node_id = self.int(&f, "end_node_id")?;
                let rel_type = self.string(&f, "type")?;
                let properties = self.map(&f, "properties", depth)?;
                let (element_id, start_node_element_id, end_node_element_id) = if ctx.element_ids()
                {
                    (
                        Some(self.string(&f, "element_id")?),
                        Some(self.string(&f, "start_node_element_id")?),
                        Some(self.string(&f, "end_node_element_id")?),
                    )
                } else {
                    (None, None, None)
                };
                Value::Relationship(Box::new(Relationship {
                    id,
                    start_node_id,
                    end_node_id,
                    rel_type,
                    properties,
                    element_id,
                    start_node_element_id,
                    end_node_element_id,
                }))
            }
            tag::PATH => {
                let f = fields("Path", 3);
                f.check_len(len, &ctx)?;
                let node_count = self.list_header(&f, "nodes")?;
                let mut nodes = Vec::with_capacity(capacity(node_count, self.dec));
                for _ in 0..node_count {
                    let n = self.struct_header(&f, "nodes", tag::NODE)?;
                    self.check_depth(depth + 2)?;
                    nodes.push(self.node(n, depth + 2)?);
                }
                let rel_count = self.list_header(&f, "relationships")?;
                let mut relationships = Vec::with_capacity(capacity(rel_count, self.dec));
                for _ in 0..rel_count {
                    let n = self.struct_header(&f, "relationships", tag::UNBOUND_RELATIONSHIP)?;
                    self.check_depth(depth + 2)?;
                    relationships.push(self.unbound(n, depth + 2)?);
                }
                let index_count = self.list_header(&f, "indices")?;
                let mut indices = Vec::with_capacity(capacity(index_count, self.dec));
                for _ in 0..index_count {
                    indices.push(self.int(&f, "indices")?);
                }
                let path = Path {
                    nodes,
                    relationships,
                    indices,
                };
                path.check().map_err(|reason| invalid(tag, reason))?;
                Value::Path(Box::new(path))
            }
            tag::UNBOUND_RELATIONSHIP => {
                // Only meaningful inside a Path; standing alone it is still well defined, so keep
                // it lossless rather than failing the whole record.
                let fields = self.unknown_fields(len)?;
                Value::Unknown(Structure { tag, fields })
            }
            tag::DATE => {
                let f = fields("Date", 1);
                f.check_len(len, &ctx)?;
                Value::Date(Date {
                    days: self.int(&f, "days")?,
                })
            }
            tag::TIME => {
                let f = fields("Time", 2);
                f.check_len(len, &ctx)?;
                Value::Time(Time {
                    nanoseconds: self.int(&f, "nanoseconds")?,
                    tz_offset_seconds: self.int(&f, "tz_offset_seconds")?,
                })
            }
            tag::LOCAL_TIME => {
                let f = fields("LocalTime", 1);
                f.check_len(len, &ctx)?;
                Value::LocalTime(LocalTime {
                    nanoseconds: self.int(&f, "nanoseconds")?,
                })
            }
            tag::DATE_TIME if ctx.utc_date_times() => {
                let f = fields("DateTime", 3);
                f.check_len(len, &ctx)?;
                Value::DateTime(DateTime {
                    seconds: self.int(&f, "seconds")?,
                    nanoseconds: self.int(&f, "nanoseconds")?,
                    tz_offset_seconds: self.int(&f, "tz_offset_seconds")?,
                })
            }
            tag::DATE_TIME_ZONE_ID if ctx.utc_date_times() => {
                let f = fields("DateTimeZoneId", 3);
                f.check_len(len, &ctx)?;
                Value::DateTimeZoneId(Box::new(DateTimeZoneId {
                    seconds: self.int(&f, "seconds")?,
                    nanoseconds: self.int(&f, "nanoseconds")?,
                    tz_id: self.string(&f, "tz_id")?,
                }))
            }
            tag::LEGACY_DATE_TIME if !ctx.utc_date_times() => {
                let f = fields("legacy DateTime", 3);
                f.check_len(len, &ctx)?;
                let local_seconds = self.int(&f, "seconds")?;
                let nanoseconds = self.int(&f, "nanoseconds")?;
                let tz_offset_seconds = self.int(&f, "tz_offset_seconds")?;
                let seconds = local_seconds
                    .checked_sub(tz_offset_seconds)
                    .ok_or_else(|| {
                        invalid(
                            tag,
                            format!(
                                "legacy DateTime local seconds {local_seconds} minus offset \
                             {tz_offset_seconds} overflows"
                            ),
                        )
                    })?;
                Value::DateTime(DateTime {
                    seconds,
                    nanoseconds,
                    tz_offset_seconds,
                })
            }
            tag::LEGACY_DATE_TIME_ZONE_ID if !ctx.utc_date_times() => {
                let f = fields("legacy DateTimeZoneId", 3);
                f.check_len(len, &ctx)?;
                Value::LegacyDateTimeZoneId(Box::new(LegacyDateTimeZoneId {
                    local_seconds: self.int(&f, "seconds")?,
                    nanoseconds: self.int(&f, "nanoseconds")?,
                    tz_id: self.string(&f, "tz_id")?,
                }))
            }
            tag::LOCAL_DATE_TIME => {
                let f = fields("LocalDateTime", 2);
                f.check_len(len, &ctx)?;
                Value::LocalDateTime(LocalDateTime {
                    seconds: self.int(&f, "seconds")?,
                    nanoseconds: self.int(&f, "nanoseconds")?,
                })
            }
            tag::DURATION => {
                let f = fields("Duration", 4);
                f.check_len(len, &ctx)?;
                Value::Duration(Duration {
                    months: self.int(&f, "months")?,
                    days: self.int(&f, "days")?,
                    seconds: self.int(&f, "seconds")?,
                    nanoseconds: self.int(&f, "nanoseconds")?,
                })
            }
            tag::POINT_2D => {
                let f = fields("Point2D", 3);
                f.check_len(len, &ctx)?;
                Value::Point2D(Point2D {
                    srid: self.int(&f, "srid")?,
                    x: self.float(&f, "x")?,
                    y: self.float(&f, "y")?,
                })
            }
            tag::POINT_3D => {
                let f = fields("Point3D", 4);
                f.check_len(len, &ctx)?;
                Value::Point3D(Point3D {
                    srid: self.int(&f, "srid")?,
                    x: self.float(&f, "x")?,
                    y: self.float(&f, "y")?,
                    z: self.float(&f, "z")?,
                })
            }
            tag::VECTOR if ctx.bolt6_types() => {
                let f = fields("Vector", 2);
                f.check_len(len, &ctx)?;
                let marker = self.bytes(&f, "type_marker")?;
                let data = self.bytes(&f, "data")?;
                let marker = match marker.as_ref() {
                    [m] => *m,
                    other => {
                        return Err(invalid(
                            tag,
                            format!(
                                "Vector type_marker must be 1 byte, got {} bytes",
                                other.len()
                            ),
                        ));
                    }
                };
                Value::Vector(Vector::from_be_bytes(marker, &data).map_err(|r| invalid(tag, r))?)
            }
            tag::UNSUPPORTED if ctx.bolt6_types() => {
                let f = fields("Unsupported", 4);
                f.check_len(len, &ctx)?;
                let name = self.string(&f, "name")?;
                let major = self.int(&f, "min_bolt_major")?;
                let minor = self.int(&f, "min_bolt_minor")?;
                let extra = self.map(&f, "extra", depth)?;
                let version = match (u8::try_from(major), u8::try_from(minor)) {
                    (Ok(major), Ok(minor)) => (major, minor),
                    _ => {
                        return Err(invalid(
                            tag,
                            format!("Unsupported minimum version {major}.{minor} is out of range"),
                        ));
                    }
                };
                Value::Unsupported(Box::new(Unsupported {
                    name,
                    minimum_protocol_version: version,
                    extra,
                }))
            }
            _ => {
                let fields = self.unknown_fields(len)?;
                Value::Unknown(Structure { tag, fields })
            }
        })
    }

    fn unknown_fields(&mut self, len: usize) -> Result<Vec<quiver_packstream::Value>, ValueError> {
        let mut fields = Vec::with_capacity(capacity(len, self.dec));
        for _ in 0..len {
            fields.push(self.dec.decode_value()?);
        }
        Ok(fields)
    }

    fn node(&mut self, len: usize, depth: usize) -> Result<Node, ValueError> {
        let ctx = *self.ctx;
        let f = Fields {
            tag: tag::NODE,
            name: "Node",
            expected: if ctx.element_ids() { 4 } else { 3 },
        };
        f.check_len(len, &ctx)?;
        let id = self.int(&f, "id")?;
        let label_count = self.list_header(&f, "labels")?;
        let mut labels = Vec::with_capacity(capacity(label_count, self.dec));
        for _ in 0..label_count {
            labels.push(self.string(&f, "labels")?);
        }
        let properties = self.map(&f, "properties", depth)?;
        let element_id = if ctx.element_ids() {
            Some(self.string(&f, "element_id")?)
        } else {
            None
        };
        Ok(Node {
            id,
            labels,
            properties,
            element_id,
        })
    }

    fn unbound(&mut self, len: usize, depth: usize) -> Result<UnboundRelationship, ValueError> {
        let ctx = *self.ctx;
        let f = Fields {
            tag: tag::UNBOUND_RELATIONSHIP,
            name: "UnboundRelationship",
            expected: if ctx.element_ids() { 4 } else { 3 },
        };
        f.check_len(len, &ctx)?;
        Ok(UnboundRelationship {
            id: self.int(&f, "id")?,
            rel_type: self.string(&f, "type")?,
            properties: self.map(&f, "properties", depth)?,
            element_id: if ctx.element_ids() {
                Some(self.string(&f, "element_id")?)
            } else {
                None
            },
        })
    }

    fn int(&mut self, f: &Fields, field: &str) -> Result<i64, ValueError> {
        match self.dec.next_token()? {
            Token::Integer(i) => Ok(i),
            other => Err(f.wrong_type(field, "Integer", &other)),
        }
    }

    fn float(&mut self, f: &Fields, field: &str) -> Result<f64, ValueError> {
        match self.dec.next_token()? {
            Token::Float(x) => Ok(x),
            other => Err(f.wrong_type(field, "Float", &other)),
        }
    }

    fn string(&mut self, f: &Fields, field: &str) -> Result<PackStr, ValueError> {
        match self.dec.next_token()? {
            Token::String(s) => Ok(s),
            other => Err(f.wrong_type(field, "String", &other)),
        }
    }

    fn bytes(&mut self, f: &Fields, field: &str) -> Result<bytes::Bytes, ValueError> {
        match self.dec.next_token()? {
            Token::Bytes(b) => Ok(b),
            other => Err(f.wrong_type(field, "Bytes", &other)),
        }
    }

    fn list_header(&mut self, f: &Fields, field: &str) -> Result<usize, ValueError> {
        match self.dec.next_token()? {
            Token::List { len } => Ok(len),
            other => Err(f.wrong_type(field, "List", &other)),
        }
    }

    fn map(&mut self, f: &Fields, field: &str, depth: usize) -> Result<Map, ValueError> {
        match self.dec.next_token()? {
            Token::Map { len } => self.map_body(len, depth + 1),
            other => Err(f.wrong_type(field, "Map", &other)),
        }
    }

    fn struct_header(&mut self, f: &Fields, field: &str, want: u8) -> Result<usize, ValueError> {
        match self.dec.next_token()? {
            Token::Structure { tag, len } if tag == want => Ok(len),
            Token::Structure { tag, .. } => Err(invalid(
                f.tag,
                format!(
                    "{} field `{field}` must hold structures {want:#04X}, got {tag:#04X}",
                    f.name
                ),
            )),
            other => Err(f.wrong_type(field, "Structure", &other)),
        }
    }
}

/// Describes the structure being decoded, for error messages.
struct Fields {
    tag: u8,
    name: &'static str,
    expected: usize,
}

impl Fields {
    fn check_len(&self, len: usize, ctx: &ValueContext) -> Result<(), ValueError> {
        if len == self.expected {
            return Ok(());
        }
        let (major, minor) = ctx.version();
        Err(invalid(
            self.tag,
            format!(
                "{} needs {} fields on Bolt {major}.{minor}, got {len}",
                self.name, self.expected
            ),
        ))
    }

    fn wrong_type(&self, field: &str, expected: &str, found: &Token) -> ValueError {
        invalid(
            self.tag,
            format!(
                "{} field `{field}` must be {expected}, got {}",
                self.name,
                token_kind(found)
            ),
        )
    }
}
