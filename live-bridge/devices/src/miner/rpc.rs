//! The cgminer-family JSON API that Antminer, LuxOS, BOSminer and
//! Whatsminer firmware all serve on TCP 4028: one request per connection,
//! `{"command":"…","parameter":"…"}` in, one JSON document out, ended by a
//! NUL byte or by the miner closing the connection.
//!
//! A reply carries a `STATUS` record whose letter says how it went (`S`
//! success, `I` informational, `W` warning, `E` error, `F` fatal;
//! cgminer's API-README). Several commands joined by `+` come back as one
//! object with a reply per command. [`call`] checks the status of each and
//! returns the document; an error status becomes a typed
//! [`DeviceError`]. The parameter of a request (which may hold a session
//! id) never appears in an error; only the command word does.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::error::{DeviceError, DeviceResult};

/// The largest reply read, bytes: a full `stats` of a three-board miner
/// is a few kB; anything near this is a runaway answer.
pub const MAX_REPLY_BYTES: usize = 1 << 20;

/// Sends `command` (with `parameter`) to the miner at `addr` and returns
/// its checked reply, all within `timeout`.
///
/// # Errors
/// [`DeviceError::Timeout`], [`DeviceError::Refused`] (connect refused,
/// reset, or closed before any answer), [`DeviceError::Protocol`] (not
/// JSON, too long, an `E`/`F` status) and [`DeviceError::Unauthorised`]
/// (an error status about access or the session).
pub async fn call(
    addr: SocketAddr,
    command: &str,
    parameter: Option<&str>,
    timeout: Duration,
) -> DeviceResult<Value> {
    let device = addr.to_string();
    let bytes = match tokio::time::timeout(timeout, exchange(addr, command, parameter)).await {
        Ok(result) => result.map_err(|e| io_error(&device, command, &e))?,
        Err(_) => {
            return Err(DeviceError::Timeout {
                device,
                what: command.to_owned(),
                after: timeout,
            });
        }
    };
    let reply = parse_reply(&device, command, &bytes)?;
    check_status(&device, command, &reply)?;
    Ok(reply)
}

async fn exchange(
    addr: SocketAddr,
    command: &str,
    parameter: Option<&str>,
) -> std::io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let request = match parameter {
        Some(p) => serde_json::json!({ "command": command, "parameter": p }),
        None => serde_json::json!({ "command": command }),
    };
    stream.write_all(request.to_string().as_bytes()).await?;
    let mut reply = Vec::with_capacity(1024);
    let mut chunk = [0_u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        if let Some(end) = chunk[..n].iter().position(|&b| b == 0) {
            reply.extend_from_slice(&chunk[..end]);
            break;
        }
        reply.extend_from_slice(&chunk[..n]);
        if reply.len() > MAX_REPLY_BYTES {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("reply longer than {MAX_REPLY_BYTES} bytes"),
            ));
        }
    }
    if reply.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "connection closed before any answer",
        ));
    }
    Ok(reply)
}

fn io_error(device: &str, command: &str, e: &std::io::Error) -> DeviceError {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::InvalidData => DeviceError::protocol(device, command, e.to_string()),
        _ => DeviceError::Refused {
            device: device.to_owned(),
            what: command.to_owned(),
            detail: e.to_string(),
        },
    }
}

/// Parses a reply's bytes. Old cgminer builds join multi-command replies
/// without a comma (`}{`); that one quirk is repaired, nothing else.
///
/// # Errors
/// [`DeviceError::Protocol`] when the bytes are not UTF-8 JSON.
pub fn parse_reply(device: &str, command: &str, bytes: &[u8]) -> DeviceResult<Value> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| DeviceError::protocol(device, command, "reply is not UTF-8"))?
        .trim_matches(|c: char| c == '\0' || c.is_whitespace());
    serde_json::from_str(text).or_else(|first| {
        let repaired = text.replace("}{", "},{");
        serde_json::from_str(&repaired)
            .map_err(|_| DeviceError::protocol(device, command, format!("not JSON: {first}")))
    })
}

/// Checks the `STATUS` of a reply (of each part of a `+` multi-command).
///
/// # Errors
/// An `E` or `F` status: [`DeviceError::Unauthorised`] when its message
/// is about access, a session or a password; otherwise
/// [`DeviceError::Protocol`] with the message. A reply without a status is
/// a protocol error.
pub fn check_status(device: &str, command: &str, reply: &Value) -> DeviceResult<()> {
    if command.contains('+') {
        for part in command.split('+') {
            let sub = reply.get(part).and_then(|v| v.get(0)).ok_or_else(|| {
                DeviceError::protocol(device, command, format!("no reply for '{part}'"))
            })?;
            check_status(device, part, sub)?;
        }
        return Ok(());
    }
    let status = reply
        .get("STATUS")
        .ok_or_else(|| DeviceError::protocol(device, command, "no STATUS in reply"))?;
    // cgminer: an array of one record; Whatsminer: the record's fields at
    // the top level, STATUS being the letter itself.
    let (letter, message) = match status {
        Value::Array(records) => {
            let record = records
                .first()
                .ok_or_else(|| DeviceError::protocol(device, command, "empty STATUS"))?;
            (
                record.get("STATUS").and_then(Value::as_str).unwrap_or(""),
                record.get("Msg").map(message_text).unwrap_or_default(),
            )
        }
        Value::String(letter) => (
            letter.as_str(),
            reply.get("Msg").map(message_text).unwrap_or_default(),
        ),
        _ => {
            return Err(DeviceError::protocol(
                device,
                command,
                "STATUS is neither a list nor a letter",
            ));
        }
    };
    match letter {
        "S" | "I" | "W" => Ok(()),
        "E" | "F" => {
            let lower = message.to_lowercase();
            if [
                "access",
                "session",
                "password",
                "denied",
                "unauthor",
                "logon",
                "privilege",
            ]
            .iter()
            .any(|w| lower.contains(w))
            {
                Err(DeviceError::Unauthorised {
                    device: device.to_owned(),
                    what: command.to_owned(),
                })
            } else {
                Err(DeviceError::protocol(
                    device,
                    command,
                    format!("status {letter}: {message}"),
                ))
            }
        }
        other => Err(DeviceError::protocol(
            device,
            command,
            format!("unknown STATUS '{other}'"),
        )),
    }
}

fn message_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::FailureKind;

    #[test]
    fn status_letters_map_to_kinds() {
        let ok: Value =
            serde_json::from_str(r#"{"STATUS":[{"STATUS":"S","Msg":"Summary"}],"SUMMARY":[{}]}"#)
                .unwrap();
        assert!(check_status("d", "summary", &ok).is_ok());
        let denied: Value = serde_json::from_str(
            r#"{"STATUS":[{"STATUS":"E","Code":45,"Msg":"Access denied to 'ascset' command"}]}"#,
        )
        .unwrap();
        assert_eq!(
            check_status("d", "ascset", &denied).unwrap_err().kind(),
            FailureKind::Unauthorised
        );
        let invalid: Value = serde_json::from_str(
            r#"{"STATUS":[{"STATUS":"E","Code":14,"Msg":"Invalid command"}]}"#,
        )
        .unwrap();
        let e = check_status("d", "bogus", &invalid).unwrap_err();
        assert_eq!(e.kind(), FailureKind::Protocol);
        assert!(e.to_string().contains("Invalid command"), "{e}");
        let letter: Value =
            serde_json::from_str(r#"{"STATUS":"S","When":1,"Code":131,"Msg":{"x":1}}"#).unwrap();
        assert!(check_status("d", "get_version", &letter).is_ok());
    }

    #[test]
    fn multi_command_checks_every_part_and_old_joins_are_repaired() {
        let bytes = br#"{"summary":[{"STATUS":[{"STATUS":"S"}]}],"power":[{"STATUS":[{"STATUS":"E","Msg":"Invalid command"}]}]}"#;
        let v = parse_reply("d", "summary+power", bytes).unwrap();
        assert!(check_status("d", "summary+power", &v).is_err());
        let joined = b"{\"a\":1}{\"b\":2}\0";
        assert!(
            parse_reply("d", "x", joined).is_err(),
            "two documents are not one reply"
        );
        let list = b"[{\"a\":1}{\"b\":2}]\0";
        assert_eq!(parse_reply("d", "x", list).unwrap()[1]["b"], 2);
        assert_eq!(
            parse_reply("d", "x", b"{not json").unwrap_err().kind(),
            FailureKind::Protocol
        );
    }
}
