//! Workload switching through vLLM's sleep mode, the product's pre-warmed
//! switch: `POST /sleep?level=1` offloads the weights to host memory and
//! drops the KV cache, `level=2` drops both, `POST /wake_up` brings the
//! engine back, `GET /is_sleeping` says which (`{"is_sleeping": bool}`).
//! vLLM serves these with `--enable-sleep-mode` and `VLLM_SERVER_DEV_MODE=1`.
//! A bearer token (`--api-key`) is held as a [`Secret`] and never printed.

use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;

use super::http::http_error;
use super::{SleepLevel, WorkloadState, WorkloadSwitch};
use crate::credentials::Secret;
use crate::error::{DeviceError, DeviceResult};

/// An inference server running vLLM.
#[derive(Debug, Clone)]
pub struct VllmSleepAdapter {
    base: String,
    token: Option<Secret>,
    client: reqwest::Client,
}

#[derive(Deserialize)]
struct IsSleeping {
    is_sleeping: bool,
}

impl VllmSleepAdapter {
    /// An adapter for the server at `base` (`http://127.0.0.1:8000`).
    ///
    /// # Errors
    /// The HTTP client cannot be built.
    pub fn new(base: &str, token: Option<Secret>) -> DeviceResult<Self> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(|e| DeviceError::protocol(base, "client", e.to_string()))?;
        Ok(VllmSleepAdapter {
            base: base.trim_end_matches('/').to_owned(),
            token,
            client,
        })
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        what: &str,
        timeout: Duration,
    ) -> DeviceResult<reqwest::Response> {
        let request = match &self.token {
            Some(t) => request.bearer_auth(t.expose()),
            None => request,
        };
        let response = request
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| http_error(&self.base, what, &e, timeout))?;
        let status = response.status();
        match status.as_u16() {
            200..=299 => Ok(response),
            401 | 403 => Err(DeviceError::Unauthorised {
                device: self.base.clone(),
                what: what.to_owned(),
            }),
            404 => Err(DeviceError::NotSupported {
                device: self.base.clone(),
                what: what.to_owned(),
                firmware: "vllm (start it with --enable-sleep-mode and VLLM_SERVER_DEV_MODE=1)"
                    .into(),
            }),
            _ => Err(DeviceError::protocol(
                &self.base,
                what,
                format!("HTTP {status}"),
            )),
        }
    }
}

#[async_trait]
impl WorkloadSwitch for VllmSleepAdapter {
    fn endpoint(&self) -> String {
        self.base.clone()
    }

    async fn sleep(&self, level: SleepLevel, timeout: Duration) -> DeviceResult<()> {
        let url = format!("{}/sleep?level={}", self.base, level as u8);
        self.send(self.client.post(url), "sleep", timeout)
            .await
            .map(drop)
    }

    async fn wake(&self, timeout: Duration) -> DeviceResult<()> {
        let url = format!("{}/wake_up", self.base);
        self.send(self.client.post(url), "wake_up", timeout)
            .await
            .map(drop)
    }

    async fn state(&self, timeout: Duration) -> DeviceResult<WorkloadState> {
        let url = format!("{}/is_sleeping", self.base);
        let response = self
            .send(self.client.get(url), "is_sleeping", timeout)
            .await?;
        let body: IsSleeping = response
            .json()
            .await
            .map_err(|e| http_error(&self.base, "is_sleeping", &e, timeout))?;
        Ok(if body.is_sleeping {
            WorkloadState::Asleep
        } else {
            WorkloadState::Awake
        })
    }
}
