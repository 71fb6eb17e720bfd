//! PackStream values and codec (work in progress).
