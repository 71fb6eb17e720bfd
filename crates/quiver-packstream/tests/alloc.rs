//! Allocation checks with a counting global allocator (dhat in testing mode): the pull API
//! allocates nothing per string or byte array, and huge size claims allocate nothing.
//!
//! dhat counts every thread's allocations and allows one profiler per process, so this test
//! runs without the libtest harness (`harness = false`): a plain `main` on a single thread.

use bytes::Bytes;
use quiver_packstream::{Decoder, Token, decode, encode};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

fn allocations_during(f: impl FnOnce()) -> (u64, u64) {
    let before = dhat::HeapStats::get();
    f();
    let after = dhat::HeapStats::get();
    (
        after.total_blocks - before.total_blocks,
        after.total_bytes - before.total_bytes,
    )
}

fn main() {
    pull_api_allocates_nothing_per_value();
    println!("alloc: pull API, skip_value and size claims checked: ok");
}

fn pull_api_allocates_nothing_per_value() {
    let _profiler = dhat::Profiler::builder().testing().build();

    // 10,000 strings and 10,000 byte arrays in a list.
    let mut buf = Vec::new();
    encode::write_list_header(&mut buf, 20_000).unwrap();
    for i in 0..10_000 {
        encode::write_str(&mut buf, &format!("string number {i}")).unwrap();
        encode::write_bytes(&mut buf, &[i as u8; 40]).unwrap();
    }
    let input = Bytes::from(buf);
    // A `Bytes` made from a `Vec` switches to shared storage on its first slice (one
    // allocation per buffer, not per value); do that before counting.
    drop(input.slice(1..2));

    let mut strings = 0;
    let mut byte_arrays = 0;
    let (blocks, bytes) = allocations_during(|| {
        let mut d = Decoder::new(input.clone());
        while !d.is_empty() {
            match d.next_token().unwrap() {
                Token::String(s) => strings += s.len().min(1),
                Token::Bytes(b) => byte_arrays += b.len().min(1),
                _ => {}
            }
        }
    });
    assert_eq!((strings, byte_arrays), (10_000, 10_000));
    assert_eq!((blocks, bytes), (0, 0), "pull decoding allocated");

    // skip_value never allocates either.
    let (blocks, _) = allocations_during(|| {
        let mut d = Decoder::new(input.clone());
        d.skip_value().unwrap();
        assert!(d.is_empty());
    });
    assert_eq!(blocks, 0, "skip_value allocated");

    // The tree decoder allocates the containers only: here the list's Vec, reserved for 1024
    // elements and grown by doubling to 20,000 (6 blocks) — not one block per value.
    let (blocks, _) = allocations_during(|| {
        let v = decode(input.clone()).unwrap();
        assert_eq!(v.as_list().map(<[_]>::len), Some(20_000));
    });
    assert!(
        blocks <= 6,
        "tree decoding made {blocks} allocations for 20,000 values"
    );

    // A header claiming 2^32-1 elements with 1000 behind it reserves at most what is there.
    let mut claim = vec![0xD6, 0xFF, 0xFF, 0xFF, 0xFF];
    claim.extend([0x01; 1000]);
    let claim = Bytes::from(claim);
    let (_, bytes) = allocations_during(|| assert!(decode(claim).is_err()));
    // Room for 1000 Values (a few dozen bytes each) at most, never gigabytes.
    assert!(bytes < 100_000, "allocated {bytes} bytes");

    // Nested claims: 60 lists inside one another, each claiming 2^32-1 elements, in front of
    // one 100 kB byte array. Reserving "as much as the remaining input could hold" at every
    // level would be 60 × 100k Values (hundreds of MB); the per-container cap keeps it small.
    let mut nested = [0xD6, 0xFF, 0xFF, 0xFF, 0xFF].repeat(60);
    nested.extend([0xCE, 0x00, 0x01, 0x86, 0xA0]);
    nested.extend([0xAB; 100_000]);
    let nested = Bytes::from(nested);
    let (_, bytes) = allocations_during(|| assert!(decode(nested).is_err()));
    assert!(
        bytes < 8_000_000,
        "allocated {bytes} bytes for nested claims"
    );
}
