//! The user's arrangement of the viewer — which panels show, how two runs
//! are compared, how much time the panels span, which tab is open — kept
//! apart from the data in a small TOML file (by default
//! `$XDG_CONFIG_HOME/hcp/viewer.toml`, else `~/.config/hcp/viewer.toml`).
//! A missing file is the defaults; a file that does not parse is a
//! message and the defaults, never a refusal to open; saving goes through
//! a temporary file and a rename, so a crash never leaves half a layout.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::timeline::Speed;

/// How two policies on the same replication are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compare {
    /// One run.
    Off,
    /// Two columns of panels.
    SideBySide,
    /// Both runs in the same panels (B dashed).
    Overlay,
}

/// The open tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tab {
    /// Time-series panels.
    Timeline,
    /// The sweep's summary table.
    Summary,
}

/// Which panels show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[allow(clippy::struct_excessive_bools)]
pub struct Panels {
    /// Per-site stacked power by use against the cap.
    pub power: bool,
    /// Spot price and ASIC breakeven.
    pub prices: bool,
    /// Hashprice.
    pub hashprice: bool,
    /// GPU power by use and job queues.
    pub gpus: bool,
    /// Cumulative profit by stream.
    pub profit: bool,
    /// The A/B delta (when comparing).
    pub delta: bool,
    /// The markers' strip.
    pub markers: bool,
}

impl Default for Panels {
    fn default() -> Self {
        Panels {
            power: true,
            prices: true,
            hashprice: true,
            gpus: true,
            profit: true,
            delta: true,
            markers: true,
        }
    }
}

/// The whole arrangement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Layout {
    /// Panels shown.
    pub panels: Panels,
    /// A/B mode.
    pub compare: Compare,
    /// Days of data the panels span around the cursor (0: the whole run).
    pub window_days: f64,
    /// Whether data after the cursor is drawn (on by default; off: the
    /// run unfolds up to the cursor).
    pub show_future: bool,
    /// Height of each plot, points.
    pub plot_height: f32,
    /// The open tab.
    pub tab: Tab,
    /// Playing speed.
    pub speed: Speed,
    /// Loop at the end.
    pub looping: bool,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            panels: Panels::default(),
            compare: Compare::Off,
            window_days: 14.0,
            show_future: true,
            plot_height: 150.0,
            tab: Tab::Timeline,
            speed: Speed::Times(86_400.0),
            looping: false,
        }
    }
}

impl Layout {
    /// The default place of the layout file.
    pub fn default_path() -> Option<PathBuf> {
        let base = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
        Some(base.join("hcp").join("viewer.toml"))
    }

    /// Reads a layout; a missing file is the defaults. A file that cannot
    /// be read or parsed gives the defaults and the reason.
    pub fn load(path: &Path) -> (Layout, Option<String>) {
        match std::fs::read_to_string(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Layout::default(), None),
            Err(e) => (
                Layout::default(),
                Some(format!(
                    "{}: cannot read the layout ({e}); using the defaults",
                    path.display()
                )),
            ),
            Ok(text) => match toml::from_str::<Layout>(&text) {
                Ok(mut layout) => {
                    layout.sanitise();
                    (layout, None)
                }
                Err(e) => (
                    Layout::default(),
                    Some(format!(
                        "{}: not a viewer layout ({}); using the defaults",
                        path.display(),
                        e.message()
                    )),
                ),
            },
        }
    }

    /// Writes the layout through a temporary file and a rename.
    ///
    /// # Errors
    /// The folder cannot be made or the file written.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let text = toml::to_string(self).map_err(std::io::Error::other)?;
        let tmp = path.with_extension("toml.tmp");
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, path)
    }

    /// Brings out-of-range values back into range.
    fn sanitise(&mut self) {
        if !self.window_days.is_finite() || self.window_days < 0.0 {
            self.window_days = Layout::default().window_days;
        }
        if !self.plot_height.is_finite() {
            self.plot_height = Layout::default().plot_height;
        }
        self.plot_height = self.plot_height.clamp(60.0, 600.0);
        if let Speed::Times(x) = self.speed
            && (!x.is_finite() || x <= 0.0)
        {
            self.speed = Layout::default().speed;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_layout_round_trips_and_a_bad_one_falls_back_with_a_reason() {
        let dir = std::env::temp_dir().join(format!("hcp-viz-layout-{}", std::process::id()));
        let path = dir.join("viewer.toml");
        let layout = Layout {
            compare: Compare::Overlay,
            window_days: 3.0,
            speed: Speed::AsFastAsPossible,
            ..Layout::default()
        };
        layout.save(&path).unwrap();
        assert_eq!(Layout::load(&path), (layout, None));
        std::fs::write(&path, "compare = \"sideways\"\n").unwrap();
        let (got, why) = Layout::load(&path);
        assert_eq!(got, Layout::default());
        let why = why.unwrap();
        assert!(why.contains("viewer.toml: not a viewer layout"), "{why}");
        assert!(why.contains("sideways"), "{why}");
        std::fs::write(&path, "window_days = -4.0\nplot_height = 9999.0\n").unwrap();
        let (got, why) = Layout::load(&path);
        assert_eq!((got.window_days, got.plot_height, why), (14.0, 600.0, None));
        assert_eq!(
            Layout::load(&dir.join("absent.toml")),
            (Layout::default(), None)
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
