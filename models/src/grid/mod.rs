//! Grid processes (filled in by its module owner).
