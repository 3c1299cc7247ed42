//! One module per subcommand of `hcp`.

pub mod bench;
pub mod validate;
