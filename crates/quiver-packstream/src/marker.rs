//! PackStream marker bytes.

pub(crate) const TINY_STRING: u8 = 0x80;
pub(crate) const TINY_LIST: u8 = 0x90;
pub(crate) const TINY_MAP: u8 = 0xA0;
pub(crate) const TINY_STRUCT: u8 = 0xB0;
pub(crate) const NULL: u8 = 0xC0;
pub(crate) const FLOAT_64: u8 = 0xC1;
pub(crate) const FALSE: u8 = 0xC2;
pub(crate) const TRUE: u8 = 0xC3;
pub(crate) const INT_8: u8 = 0xC8;
pub(crate) const INT_16: u8 = 0xC9;
pub(crate) const INT_32: u8 = 0xCA;
pub(crate) const INT_64: u8 = 0xCB;
pub(crate) const BYTES_8: u8 = 0xCC;
pub(crate) const BYTES_16: u8 = 0xCD;
pub(crate) const BYTES_32: u8 = 0xCE;
pub(crate) const STRING_8: u8 = 0xD0;
pub(crate) const STRING_16: u8 = 0xD1;
pub(crate) const STRING_32: u8 = 0xD2;
pub(crate) const LIST_8: u8 = 0xD4;
pub(crate) const LIST_16: u8 = 0xD5;
pub(crate) const LIST_32: u8 = 0xD6;
pub(crate) const MAP_8: u8 = 0xD8;
pub(crate) const MAP_16: u8 = 0xD9;
pub(crate) const MAP_32: u8 = 0xDA;
