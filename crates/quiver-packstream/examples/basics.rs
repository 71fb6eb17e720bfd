//! A tour of the PackStream API: build a value, encode it, decode it as a tree and as tokens.
//!
//! ```sh
//! cargo run --example basics -p quiver-packstream
//! ```

use quiver_packstream::{
    DecodeLimits, Decoder, Map, Structure, Token, Value, decode, decode_with_limits, encode,
    to_bytes,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A node structure as a Neo4j server would send it.
    let mut properties = Map::new();
    properties.insert("name", Value::from("Alice"));
    properties.insert("born", Value::from(1990));
    let node = Value::Structure(Structure::new(
        0x4E,
        vec![
            Value::from(42),
            Value::List(vec![Value::from("Person")]),
            Value::Map(properties),
            Value::from("4:f0ab:42"),
        ],
    ));

    let bytes = to_bytes(&node)?;
    println!("encoded {} bytes: {:02X?}", bytes.len(), bytes.as_ref());

    // Tree API: one call, strings share `bytes`.
    let decoded = decode(bytes.clone())?;
    assert_eq!(decoded, node);
    let fields = &decoded.as_structure().ok_or("not a structure")?.fields;
    let name = fields[2]
        .as_map()
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str);
    println!("tree: name = {name:?}");

    // Pull API: walk tokens without building a tree.
    let mut decoder = Decoder::new(bytes.clone());
    while !decoder.is_empty() {
        match decoder.next_token()? {
            Token::Structure { tag, len } => {
                println!("pull: structure 0x{tag:02X} with {len} fields")
            }
            Token::String(s) => println!("pull: string {s:?}"),
            other => println!("pull: {other:?}"),
        }
    }

    // Low-level writer: encode a message without a tree.
    let mut buf = Vec::new();
    encode::write_struct_header(&mut buf, 0x3F, 1)?; // PULL
    encode::write_map_header(&mut buf, 1)?;
    encode::write_str(&mut buf, "n")?;
    encode::write_int(&mut buf, -1);
    println!("PULL {{n: -1}} = {:02X?}", buf);

    // Hostile input: errors carry the byte offset.
    let err = decode(bytes::Bytes::from_static(&[0x92, 0x01, 0xE0]))
        .err()
        .ok_or("expected an error")?;
    println!("error: {err}");
    let deep = bytes::Bytes::from(vec![0x91; 10]);
    let err = decode_with_limits(deep, DecodeLimits { max_depth: 4 })
        .err()
        .ok_or("expected an error")?;
    println!("error: {err}");
    Ok(())
}
