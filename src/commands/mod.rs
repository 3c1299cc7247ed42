//! One module per subcommand of `hcp`.

pub mod bench;
mod output;
pub mod validate;
