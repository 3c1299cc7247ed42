//! Range checks of readings. A device that reports 2,147,483,647 W (an
//! `i32::MAX` left in a register), a negative hashrate or a GPU at 400 °C
//! is faulty, and its reading is refused as
//! [`DeviceError::Implausible`] instead of reaching a policy as a fact.
//!
//! The bounds are physical, not a model's spec sheet: the largest
//! hydro-cooled miners draw about 12 kW and hash below 1 PH/s; the largest
//! data-centre GPUs draw about 1.2 kW.

use crate::error::{DeviceError, DeviceResult};

/// Most power a single miner can draw at the wall, W.
pub const MINER_MAX_W: f64 = 15_000.0;
/// Most hashrate a single miner can report, TH/s.
pub const MINER_MAX_TH: f64 = 2_000.0;
/// Most power a single GPU can draw, W.
pub const GPU_MAX_W: f64 = 2_000.0;
/// Temperature bounds of any device, °C.
pub const TEMP_RANGE_C: (f64, f64) = (-40.0, 150.0);

/// `value` if it is finite and within `[lo, hi]`, otherwise an
/// [`DeviceError::Implausible`] naming `field` on `device`.
///
/// # Errors
/// The value is NaN, infinite or out of range.
pub fn check(device: &str, field: &'static str, value: f64, lo: f64, hi: f64) -> DeviceResult<f64> {
    if value.is_finite() && value >= lo && value <= hi {
        Ok(value)
    } else {
        Err(DeviceError::Implausible {
            device: device.to_owned(),
            field,
            value,
            allowed: format!("{lo} to {hi}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::FailureKind;

    #[test]
    fn register_garbage_and_negative_hashrate_are_faults() {
        let e = check(
            "127.0.0.2:4028",
            "power_w",
            2_147_483_647.0,
            0.0,
            MINER_MAX_W,
        )
        .unwrap_err();
        assert_eq!(e.kind(), FailureKind::Implausible);
        assert!(e.to_string().contains("2147483647"), "{e}");
        assert!(check("d", "hashrate_th", -1.0, 0.0, MINER_MAX_TH).is_err());
        assert!(check("d", "hashrate_th", f64::NAN, 0.0, MINER_MAX_TH).is_err());
        assert_eq!(
            check("d", "power_w", 3_500.0, 0.0, MINER_MAX_W),
            Ok(3_500.0)
        );
    }
}
