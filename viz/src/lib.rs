//! The desktop twin viewer of HCP Twin (`hcp view`): a library of panels
//! and state, testable without a window, under a thin eframe shell in the
//! `hcp` binary.
//!
//! ```text
//!   DataSource ──poll──► Store ──► panels (power, prices, GPUs, profit, A/B delta, summary)
//!   (dataset | live twin | bridge stream)      ▲
//!                                  TimeControl ┘ (cursor, play, step, speed, loop, jump)
//! ```
//!
//! A [`source::DataSource`] fills the [`source::Store`] with
//! [`series::RunSeries`] — a sweep's Parquet files read back
//! ([`source::dataset`]), a twin stepped on a worker thread
//! ([`source::live`]), or a running bridge's live stream
//! ([`source::bridge`]) — and the panels read the store alone. The
//! [`timeline::TimeControl`] holds the cursor every panel shares;
//! [`decimate`] reduces each series to at most two points per pixel column
//! before it is drawn; [`layout::Layout`] is the user's arrangement, saved
//! apart from the data. [`app::ViewerApp`] puts it together: one
//! `ui(&mut egui::Ui)` call per frame, which the eframe shell, the
//! `egui_kittest` tests and `hcp bench view` all drive.

// The viewer turns bounded, finite floats into pixel columns, instants and
// plot coordinates (each clamped or rounded first); a truncating cast is the
// intent, as in the report's figures.
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]

pub mod app;
pub mod bench;
pub mod decimate;
pub mod layout;
pub mod panels;
pub mod render;
pub mod series;
pub mod source;
pub mod summary;
pub mod timeline;
