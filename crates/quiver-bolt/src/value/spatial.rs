//! Spatial points.

/// A point in two dimensions (structure `58`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point2D {
    /// Spatial reference system id: 7203 cartesian, 4326 WGS-84.
    pub srid: i64,
    /// x (or longitude).
    pub x: f64,
    /// y (or latitude).
    pub y: f64,
}

/// A point in three dimensions (structure `59`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point3D {
    /// Spatial reference system id: 9157 cartesian 3D, 4979 WGS-84 3D.
    pub srid: i64,
    /// x (or longitude).
    pub x: f64,
    /// y (or latitude).
    pub y: f64,
    /// z (or height).
    pub z: f64,
}
