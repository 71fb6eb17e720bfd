//! PackStream decoder on arbitrary bytes: never panics, never allocates beyond what the input
//! justifies (libFuzzer's `-rss_limit_mb` / `-malloc_limit_mb` catch that), and
//! decode → encode → decode is stable. Also checks that the pull API, `skip_value` and the tree
//! decoder agree on what is valid.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use quiver_packstream::{
    DecodeErrorKind, DecodeLimits, Decoder, decode, decode_with_limits, to_bytes,
};

fuzz_target!(|data: &[u8]| {
    let input = Bytes::copy_from_slice(data);

    // Tree decoding and the round trip.
    let tree = decode(input.clone());
    match &tree {
        Ok(value) => {
            let canonical = to_bytes(value).expect("a decoded value must be encodable");
            assert!(
                canonical.len() <= data.len(),
                "canonical encoding is never longer"
            );
            let again = decode(canonical.clone()).expect("canonical bytes must decode");
            assert!(again.bit_eq(value), "decode(encode(v)) != v");
            assert_eq!(
                to_bytes(&again).unwrap(),
                canonical,
                "canonical bytes are a fixed point"
            );
        }
        Err(e) => assert!(
            e.offset <= data.len(),
            "error offset {} past the input",
            e.offset
        ),
    }

    // skip_value accepts exactly what the tree decoder accepts (ignoring trailing bytes).
    let mut skipper = Decoder::new(input.clone());
    let skipped = skipper.skip_value();
    match (&tree, &skipped) {
        (Ok(_), Ok(())) => assert!(skipper.is_empty()),
        (Err(e), Ok(())) => assert!(matches!(e.kind, DecodeErrorKind::TrailingBytes { .. })),
        (Err(e), Err(s)) => assert_eq!(e, s),
        (Ok(_), Err(s)) => panic!("skip_value failed where decode succeeded: {s}"),
    }

    // A tighter depth limit only ever turns success into DepthLimitExceeded.
    match decode_with_limits(input.clone(), DecodeLimits { max_depth: 3 }) {
        Ok(v) => assert!(v.bit_eq(tree.as_ref().expect("shallow success implies success"))),
        Err(e) => {
            if tree.is_ok() {
                assert!(matches!(
                    e.kind,
                    DecodeErrorKind::DepthLimitExceeded { max_depth: 3 }
                ));
            }
        }
    }

    // The pull API walks any prefix of tokens without panicking and always makes progress.
    let mut puller = Decoder::new(input.clone());
    while !puller.is_empty() {
        let before = puller.position();
        if puller.next_token().is_err() {
            assert_eq!(puller.position(), before, "a failed read must not move");
            break;
        }
        assert!(puller.position() > before);
    }

    // Reading a stream of values one after another stops cleanly.
    let mut stream = Decoder::new(input);
    while !stream.is_empty() && stream.decode_value().is_ok() {}
});
