//! Customer demand (filled in by its module owner).
