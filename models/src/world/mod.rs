//! The exogenous tape of a scenario.
