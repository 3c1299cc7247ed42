//! The pinned software renderer of the viewer's headless frames (its
//! snapshot tests and `hcp bench view`): wgpu's GL backend on Mesa's
//! llvmpipe, which draws the same pixels on every machine with the same
//! Mesa, so stored snapshots match. No llvmpipe adapter is an error that
//! says so — a test without its renderer fails, it is never skipped.

use std::sync::{Arc, Mutex, PoisonError};

use egui_wgpu::wgpu;

/// The adapter the setup picked, once a renderer was made from it.
#[derive(Debug, Clone, Default)]
pub struct PickedAdapter(Arc<Mutex<Option<String>>>);

impl PickedAdapter {
    /// `name (backend, driver info)` of the adapter, if one was picked.
    pub fn get(&self) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// A wgpu setup that accepts only Mesa's llvmpipe through the GL backend.
pub fn software_setup(picked: &PickedAdapter) -> egui_wgpu::WgpuSetup {
    let mut setup = egui_wgpu::WgpuSetupCreateNew::without_display_handle();
    setup.instance_descriptor.backends = wgpu::Backends::GL;
    let picked = picked.0.clone();
    setup.native_adapter_selector = Some(Arc::new(move |adapters, _surface| {
        let names: Vec<String> = adapters
            .iter()
            .map(|a| {
                let i = a.get_info();
                format!("{} ({:?})", i.name, i.backend)
            })
            .collect();
        let chosen = adapters
            .iter()
            .find(|a| a.get_info().name.contains("llvmpipe"))
            .ok_or_else(|| {
                format!(
                    "no llvmpipe adapter: the viewer's headless renderer is Mesa's llvmpipe through GL (Debian: libegl-mesa0 and libgl1-mesa-dri); adapters found: [{}]",
                    names.join(", ")
                )
            })?;
        let info = chosen.get_info();
        *picked.lock().unwrap_or_else(PoisonError::into_inner) = Some(format!(
            "{} ({:?}, {} {})",
            info.name, info.backend, info.driver, info.driver_info
        ));
        Ok(chosen.clone())
    }));
    egui_wgpu::WgpuSetup::CreateNew(setup)
}
