//! One module per subcommand of `hcp`.

pub mod bench;
pub mod calibrate;
mod output;
pub mod validate;
